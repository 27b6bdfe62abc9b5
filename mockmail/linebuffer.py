"""`LineBuffer`: bytes received but not yet consumed, cut into lines of bounded length (sans-IO, shared).

Both protocol cores read through it: POP3 (RFC 1939, RFC 2449 section 4 limits) and SMTP (RFC 5321 section
4.5.3.1 limits), and SMTP also takes raw octets from it (DATA content, BDAT chunks).  Rules kept here:
- A line ends at LF; its CRLF (or bare LF) is not part of what `next_line` returns.
- A line over the limit is never stored: what has arrived is dropped at once, the rest up to its end as it
  comes, and the line is reported once as `TOO_LONG`.
"""

from __future__ import annotations

__all__ = ["TOO_LONG", "LineBuffer"]


class _TooLong:
    def __repr__(self) -> str:
        return "TOO_LONG"


TOO_LONG = _TooLong()
"""Returned by `LineBuffer.next_line` for a line over the limit (it has been dropped, not stored)."""


class LineBuffer:
    """Bytes received but not yet consumed, cut into lines of bounded length."""

    __slots__ = ("_buf", "_discarding")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._discarding = False

    def __len__(self) -> int:
        return len(self._buf)

    @property
    def mid_line(self) -> bool:
        """True when part of a line has arrived (or an over-long one is being dropped) but not its end."""
        return bool(self._buf) or self._discarding

    def feed(self, data: bytes | bytearray) -> None:
        self._buf += data

    def take_all(self) -> bytes:
        """Remove and return everything buffered (the `trailing_data` of a protocol switch)."""
        data = bytes(self._buf)
        self._buf.clear()
        self._discarding = False
        return data

    def take(self, n: int) -> bytes:
        """Remove and return up to `n` buffered octets (raw data: a BDAT chunk)."""
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def find(self, sub: bytes, start: int = 0) -> int:
        """Index of `sub` in what is buffered, from `start`, or -1."""
        return self._buf.find(sub, start)

    def next_line(self, limit: int) -> bytes | _TooLong | None:
        """Return the next line without its terminator, `TOO_LONG`, or None if no full line is buffered.

        `limit` counts the octets of the line with its CRLF.
        """
        end = self._buf.find(b"\n")
        if end < 0:
            if len(self._buf) > limit:
                # Keep nothing of an over-long line: drop what we have and remember to drop up to its end.
                self._buf.clear()
                self._discarding = True
            return None
        raw = bytes(self._buf[: end + 1])
        del self._buf[: end + 1]
        if self._discarding:
            self._discarding = False
            return TOO_LONG
        if len(raw) + (0 if raw.endswith(b"\r\n") else 1) > limit:
            return TOO_LONG
        return raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
