"""A minimal POP3 line client over any trio stream, for tests that need exact bytes."""

from __future__ import annotations

import trio


class WireClient:
    """Sends raw lines and reads replies exactly as the server wrote them."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self._buf = bytearray()

    async def _fill(self) -> None:
        data = await self.stream.receive_some(65536)
        if not data:
            raise EOFError("server closed the connection")
        self._buf += data

    async def line(self) -> bytes:
        """One reply line with its CRLF."""
        while (end := self._buf.find(b"\r\n")) < 0:
            await self._fill()
        line = bytes(self._buf[: end + 2])
        del self._buf[: end + 2]
        return line

    async def multiline_body(self) -> bytes:
        """The raw body of a multi-line reply, up to and including CRLF.CRLF (still dot-stuffed)."""
        while True:
            if self._buf.startswith(b".\r\n"):
                end = 0
                break
            end = self._buf.find(b"\r\n.\r\n")
            if end >= 0:
                end += 2
                break
            await self._fill()
        body = bytes(self._buf[: end + 3])
        del self._buf[: end + 3]
        return body

    async def send(self, line: bytes | str) -> None:
        data = line.encode() if isinstance(line, str) else line
        await self.stream.send_all(data if data.endswith(b"\n") else data + b"\r\n")

    async def cmd(self, line: bytes | str) -> bytes:
        await self.send(line)
        return await self.line()

    async def multi(self, line: bytes | str) -> tuple[bytes, list[bytes]]:
        """Send a command with a multi-line answer; return the status line and the un-stuffed lines."""
        status = await self.cmd(line)
        if not status.startswith(b"+OK"):
            return status, []
        body = await self.multiline_body()
        lines = body.split(b"\r\n")[:-2]
        return status, [ln[1:] if ln.startswith(b".") else ln for ln in lines]

    async def at_eof(self) -> bool:
        """True when the server closed the connection with nothing more to read."""
        try:
            await self._fill()
        except (EOFError, trio.BrokenResourceError):
            return True
        return False
