"""The accept loop of one listener, for any protocol (POP3 and POP3S today; SMTP and SMTPS are siblings).

Binding (`open_listener`) is separate from serving (`serve_listener`) so that a port that cannot be bound
raises a plain `OSError` to whoever creates the tenant, before any nursery wraps it in an exception group.
`serve_listener` owns the listening socket from then on: cancelling it closes the socket and every session it
accepted.  Each connection runs in its own task in the listener's nursery as a `TcpStream` (see tcp.py for
why not trio.SocketStream).

Who closes what: the handler owns the stream it is given.  It must close it and must not raise
`Exception` (an exception would stop the accept loop).  There
is no wrapper task per connection of our own: an idle session is a suspended stack of frames, and every
frame fewer is memory saved per connection.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import NoReturn

import trio

from ..observe.resources import EXHAUSTION_ERRNOS, MONITOR
from .tcp import TcpStream

__all__ = ["bound_port", "open_listener", "serve_listener"]

log = logging.getLogger("mockmail.server")

Handler = Callable[[TcpStream], Awaitable[object]]

BACKLOG = 4096
ACCEPT_BATCH = 64  # connections taken per wake-up before yielding to the sessions
# Running out of descriptors or memory (EXHAUSTION_ERRNOS) is worth a pause and a retry, as
# trio.serve_listeners does.
_SKIP_ERRNOS = {errno.ECONNABORTED, errno.EPROTO, errno.EPERM}
ACCEPT_PAUSE = 0.1


async def open_listener(host: str, port: int) -> socket.socket:
    """Bind and listen on `host:port` (port 0 picks a free port) with a non-blocking stdlib socket.

    Raises:
        OSError: the address cannot be bound (in use, not permitted, unknown host).
    """
    infos = await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class PortCursor:
    """Where the ports the system picks come from under `--port-range`: the first free one, the search
    resuming after the last port taken (so a port freed by a deleted tenant is not handed out at once)."""

    __slots__ = ("_next", "ports")

    def __init__(self, ports: range) -> None:
        self.ports = ports
        self._next = 0

    async def bind(self, host: str) -> socket.socket:
        """Listen on the next free port of the range.

        Raises:
            OSError: EADDRINUSE when every port of the range is taken.
        """
        size = len(self.ports)
        for step in range(size):
            port = self.ports[(self._next + step) % size]
            try:
                sock = await open_listener(host, port)
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    continue
                raise
            self._next = (self._next + step + 1) % size
            return sock
        first, last = self.ports[0], self.ports[-1]
        raise OSError(errno.EADDRINUSE, f"no free port left in --port-range {first:d}-{last:d}")


def bound_port(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


async def serve_listener(handler: Handler, listener: socket.socket) -> NoReturn:
    """Accept connections on `listener` forever and run `handler` for each, in this task's nursery.

    `handler` is the protocol's session factory and owns each stream: it closes it and never raises
    `Exception`.

    Raises:
        OSError: accepting failed in a way a retry cannot mend (the socket was shut down, EINVAL); the
            caller records it on the tenant.
    """
    try:
        async with trio.open_nursery() as connections:
            while True:
                await trio.lowlevel.wait_readable(listener)
                for _ in range(ACCEPT_BATCH):
                    try:
                        conn, _ = listener.accept()
                    except BlockingIOError:
                        break
                    except OSError as exc:
                        if exc.errno in _SKIP_ERRNOS:
                            continue
                        if exc.errno in EXHAUSTION_ERRNOS:
                            MONITOR.exhausted(exc, "accept")  # logged once per episode, no traceback
                            await trio.sleep(ACCEPT_PAUSE)
                            break
                        raise
                    connections.start_soon(handler, TcpStream(conn))
    finally:
        trio.lowlevel.notify_closing(listener)
        listener.close()
