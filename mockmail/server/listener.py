"""The accept loop of one POP3 or POP3S listener.

Binding (`open_pop3_listeners`) is separate from serving (`serve_pop3`) so that a port that cannot be bound
raises a plain `OSError` to whoever creates the tenant, before any nursery wraps it in an exception group.
`serve_pop3` owns the listeners from then on: cancelling it closes the listening socket and every session
it accepted.  A handler's exception would crash trio's accept loop, so every connection goes through
`_guard`, which logs and swallows `Exception` (never `Cancelled`); trio closes each stream afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import NoReturn

import trio

__all__ = ["bound_port", "open_pop3_listeners", "serve_pop3"]

log = logging.getLogger("mockmail.server")

Handler = Callable[[trio.SocketStream], Awaitable[object]]


async def open_pop3_listeners(host: str, port: int) -> list[trio.SocketListener]:
    """Bind `host:port`; port 0 picks a free port.

    Raises:
        OSError: the address cannot be bound (in use, not permitted, unknown host).
    """
    listeners = await trio.open_tcp_listeners(port, host=host)
    if port == 0 and len(listeners) > 1:
        # Port 0 on a name that resolves to several addresses binds each on a *different* port: keep one.
        for extra in listeners[1:]:
            await extra.aclose()
        listeners = listeners[:1]
    return listeners


def bound_port(listeners: list[trio.SocketListener]) -> int:
    port: int = listeners[0].socket.getsockname()[1]
    return port


async def _guard(handler: Handler, stream: trio.SocketStream) -> None:
    try:
        await handler(stream)
    except Exception:
        log.exception("POP3 connection handler failed")


async def serve_pop3(handler: Handler, listeners: list[trio.SocketListener]) -> NoReturn:
    """Accept connections on `listeners` forever and run `handler` for each, in this task's nursery."""
    async with trio.open_nursery() as connections:
        await trio.serve_listeners(partial(_guard, handler), listeners, handler_nursery=connections)
    raise AssertionError("unreachable")  # pragma: no cover
