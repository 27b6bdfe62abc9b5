"""`TcpStream`: a plain TCP `trio.abc.Stream` with less work per call than `trio.SocketStream`.

Why (measured in bench/, see bench/RESULTS.md): trio.SocketStream.receive_some first tries `recv`, which on
a POP3 server fails with EAGAIN almost every time (we just answered; the client has not spoken yet), raises
and catches BlockingIOError, then waits and tries again; every successful send or receive also ends in a
scheduler checkpoint, and each call enters two context managers.  This stream waits for readability first
and then reads once, and sends directly, waiting only when the kernel buffer is full.  `receive_some` always
blocks in `wait_readable`, which is the checkpoint that keeps the session loop fair to other tasks.

Errors are translated as trio.SocketStream translates them: `BrokenResourceError` when the peer is gone,
`ClosedResourceError` after `aclose`.  trio.SSLStream wraps this stream like any other.
"""

from __future__ import annotations

import errno
import socket

import trio

__all__ = ["TcpStream"]

DEFAULT_RECEIVE_SIZE = 65536


class TcpStream(trio.abc.HalfCloseableStream):
    """A connected, non-blocking stdlib socket as a trio stream.  The stream owns the socket."""

    __slots__ = ("_sock",)

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    @property
    def socket(self) -> socket.socket:
        return self._sock

    def _check_open(self) -> None:
        if self._sock.fileno() == -1:
            raise trio.ClosedResourceError("the stream was closed")

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        size = DEFAULT_RECEIVE_SIZE if max_bytes is None else max_bytes
        if size < 1:
            raise ValueError("max_bytes must be >= 1")
        while True:
            self._check_open()
            await trio.lowlevel.wait_readable(self._sock)
            try:
                return self._sock.recv(size)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EBADF:
                    raise trio.ClosedResourceError("the stream was closed") from None
                raise trio.BrokenResourceError(exc) from exc

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        self._check_open()
        try:
            sent = self._sock.send(data)  # the usual case: the kernel takes a whole reply at once
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            if exc.errno == errno.EBADF:
                raise trio.ClosedResourceError("the stream was closed") from None
            raise trio.BrokenResourceError(exc) from exc
        if sent == len(data):
            return
        with memoryview(data) as view:
            total = len(view)
            while sent < total:
                try:
                    sent += self._sock.send(view[sent:])
                except BlockingIOError:
                    await trio.lowlevel.wait_writable(self._sock)
                except OSError as exc:
                    if exc.errno == errno.EBADF:
                        raise trio.ClosedResourceError("the stream was closed") from None
                    raise trio.BrokenResourceError(exc) from exc

    async def send_eof(self) -> None:
        """Half-close: the peer reads end of file, and this side can still receive."""
        self._check_open()
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise trio.BrokenResourceError(exc) from exc
        await trio.lowlevel.checkpoint()

    async def wait_send_all_might_not_block(self) -> None:
        self._check_open()
        await trio.lowlevel.wait_writable(self._sock)

    def close(self) -> None:
        """Close at once (also what `aclose` does, before its checkpoint)."""
        if self._sock.fileno() != -1:
            trio.lowlevel.notify_closing(self._sock)
            self._sock.close()

    async def aclose(self) -> None:
        self.close()
        await trio.lowlevel.checkpoint()
