"""Minimal POP3 and SMTP line clients over any trio stream, for tests that need exact bytes."""

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


class SmtpWire:
    """Sends raw bytes and reads whole SMTP replies (every line up to the one with a space)."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self._buf = bytearray()

    async def reply(self) -> bytes:
        out = b""
        while True:
            while (end := self._buf.find(b"\r\n")) < 0:
                data = await self.stream.receive_some(65536)
                if not data:
                    raise EOFError("server closed the connection")
                self._buf += data
            line = bytes(self._buf[: end + 2])
            del self._buf[: end + 2]
            out += line
            if line[3:4] != b"-":
                return out

    async def cmd(self, line: bytes | str, *, raw: bytes = b"") -> bytes:
        """Send one command line (CRLF added), then `raw` octets as they are, and read the reply."""
        await self.send((line if isinstance(line, bytes) else line.encode()) + b"\r\n" + raw)
        return await self.reply()

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def closed(self) -> bool:
        return (await self.stream.receive_some(65536)) == b""


async def send_mail(wire: SmtpWire, sender: str, rcpts: list[str], body: bytes) -> bytes:
    assert (await wire.cmd(f"MAIL FROM:<{sender}>")).startswith(b"250 2.1.0")
    for rcpt in rcpts:
        assert (await wire.cmd(f"RCPT TO:<{rcpt}>")).startswith(b"250 2.1.5")
    assert (await wire.cmd("DATA")).startswith(b"354 ")
    await wire.send(body + b".\r\n")
    return await wire.reply()
