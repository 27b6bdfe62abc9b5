"""`StuffedBody`: a message in its POP3 wire form, dot-stuffed once and sent as it is every time.

RFC 1939 section 3: in a multi-line reply, every line that begins with `.` gets one more `.`, and the reply
ends with `.` alone on a line.  Stuffing a message is a full copy of it; doing that once, when the message is
stored, takes the copy off every RETR.  Only `StuffedBody.stuff` (with `dot_stuff` from the writer) makes
one, so a body that reaches the writer is stuffed by construction.

Because stuffing changes only the starts of lines, a prefix of a stuffed text that ends at a line end is
itself stuffed: TOP is a prefix of the same wire form, never a second copy of the rules.
"""

from __future__ import annotations

from ._writer import dot_stuff, unstuff

__all__ = ["StuffedBody", "unstuff"]

_HEADER_END = b"\r\n\r\n"


class StuffedBody:
    """Wire form of CRLF-normalized content; `size` is the octet count before stuffing (what LIST shows)."""

    __slots__ = ("lines", "size", "wire")

    def __init__(self, wire: bytes, size: int) -> None:
        self.wire = wire
        self.size = size
        self.lines = wire.count(b"\r\n")
        """Lines of the message (for transcripts: counted once, when the body is made)."""

    @classmethod
    def stuff(cls, content: bytes) -> StuffedBody:
        """Stuff CRLF-normalized `content` (it must end with CRLF unless empty)."""
        if content and not content.endswith(b"\r\n"):
            raise ValueError("content must be CRLF-normalized and end with CRLF")
        return cls(dot_stuff(content), len(content))

    def content(self) -> bytes:
        """The CRLF-normalized content, un-stuffed."""
        return unstuff(self.wire)

    def top(self, lines: int) -> StuffedBody:
        """RFC 1939 TOP: the header, the blank line, then at most `lines` lines of the body."""
        wire = self.wire
        end = wire.find(_HEADER_END)
        if end < 0:
            # No body at all: the whole message is header; add the separating blank line.
            return StuffedBody.of_wire(wire + b"\r\n")
        cut = end + len(_HEADER_END)
        for _ in range(lines):
            nxt = wire.find(b"\r\n", cut)
            if nxt < 0:
                break
            cut = nxt + 2
        return StuffedBody.of_wire(wire[:cut])

    @classmethod
    def of_wire(cls, wire: bytes) -> StuffedBody:
        """A body from text that is already stuffed (a prefix of another body); counts its octets."""
        # Each stuffed line holds exactly one CRLF followed by two dots (or starts the text with two).
        return cls(wire, len(wire) - wire.count(b"\r\n..") - wire.startswith(b".."))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StuffedBody) and other.wire == self.wire

    def __repr__(self) -> str:
        return f"StuffedBody(size={self.size})"
