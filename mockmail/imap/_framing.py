"""`Framer`: cutting whole IMAP commands, literals included, out of the byte stream (RFC 9051 section 4.3).

A command is a line, or several lines joined by literals: a line that ends with `{n}` (synchronizing),
`{n+}` (non-synchronizing, RFC 7888 LITERAL+) or `~{n}` / `~{n+}` (literal8, RFC 3516) is followed by
exactly n octets, then the command goes on with the next line.  The framer hands out the command's text
(lines joined, CRLFs removed, the markers kept) and its literals keyed by where each marker starts.

Rules kept here:
- **Only CRLF ends a line.**  A bare LF or a bare CR is an octet of the line (the parser then refuses the
  command whole), so `a NOOP\\nb LOGOUT\\r\\n` is one bad command, never two: no line ending can be smuggled
  past a proxy or a logger that splits lines differently.  Inside a literal every octet is data.
- **A `{n}` counts only outside a quoted string** at the very end of a line (`"x{3}"` is text).
- **A synchronizing literal waits**: the framer stops at its marker until the connection says the
  continuation was sent (`accept_literal`) or the command was refused (`refuse_literal`).
- **Bounded buffering** (`MAX_COMMAND_TEXT`, the literal limits): a command whose text is over the limit
  is dropped as it arrives, up to its end, unstored, and reported once; a literal over its limit is
  refused before any of it is read when synchronizing, and skipped (exactly n octets, then the rest of
  the command) when not.  Either way the next command is read normally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._events import NEED_DATA, BadCommand, ContinuationNeeded, LiteralTooLarge, NeedData
from ._parser import read_tag_and_verb
from ._reader import MAX_NUMBER64, Literal

__all__ = [
    "DEFAULT_APPEND_LIMIT",
    "MAX_COMMAND_TEXT",
    "MAX_LITERAL_OCTETS",
    "MAX_SASL_LINE",
    "TOO_LONG",
    "CommandFrame",
    "Framer",
]

MAX_COMMAND_TEXT = 65_536
"""Octets of a command outside its literals, CRLFs included.

RFC 7162 section 4 asks servers to accept command lines of at least 8,000 octets and clients to stay
near 8,192; long UID sets from clients that keep UIDs sparse (Thunderbird, Outlook) go past that, so we
take Dovecot's default `imap_max_line_length` of 64 KiB.  Counting the whole command, not each line,
also bounds a command made of endless zero-length literals.
"""

MAX_LITERAL_OCTETS = 65_536
"""Total literal octets of one command other than APPEND (a password, a search string, an ID value)."""

DEFAULT_APPEND_LIMIT = 10 * 1024 * 1024
"""The message literal of APPEND (RFC 7889 APPENDLIMIT); the session usually sets the tenant's limit."""

MAX_SASL_LINE = 12_288
"""One line of an AUTHENTICATE exchange (RFC 9051 leaves it open; 12 KiB fits Kerberos and XOAUTH2)."""

_TAIL = 32
"""Octets kept from a line being dropped: enough to see a literal marker `~{9223372036854775807+}`."""

_MARKER = re.compile(rb"(~?)\{([0-9]{1,19})(\+?)\}\Z")


class _TooLong:
    def __repr__(self) -> str:
        return "TOO_LONG"


TOO_LONG = _TooLong()
"""`Framer.next_raw_line` found a line over its limit (dropped, not stored)."""


@dataclass(frozen=True, slots=True)
class CommandFrame:
    """A whole command: its text (lines joined, CRLFs removed) and its literals by marker position."""

    text: bytes
    literals: dict[int, Literal]


@dataclass(frozen=True, slots=True)
class _Marker:
    start: int
    size: int
    synchronizing: bool
    binary: bool


def _inside_quotes(line: bytes, end: int) -> bool:
    """Whether `line[end]` falls inside a quoted string (a line always starts outside one)."""
    if b'"' not in line:
        return False
    inside = False
    i = 0
    while i < end:
        octet = line[i]
        if inside and octet == 0x5C:
            i += 2
            continue
        if octet == 0x22:
            inside = not inside
        i += 1
    return inside


def _marker(line: bytes, *, check_quotes: bool) -> _Marker | None:
    if not line.endswith(b"}"):
        return None
    found = _MARKER.search(line)
    if found is None:
        return None
    size = int(found.group(2))
    if size > MAX_NUMBER64:
        return None
    if check_quotes and _inside_quotes(line, found.start()):
        return None
    return _Marker(found.start(), size, not found.group(3), bool(found.group(1)))


class Framer:
    """Whole commands out of a byte stream; see the module docstring for the rules."""

    __slots__ = (
        "_awaiting",
        "_buf",
        "_collecting",
        "_discard",
        "_literal",
        "_literal_binary",
        "_literal_left",
        "_literal_start",
        "_literal_total",
        "_literals",
        "_raw_discard",
        "_scan",
        "_skip_left",
        "_tail",
        "_text",
        "_text_octets",
    )

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scan = 0
        self._raw_discard = False
        self._reset()

    def _reset(self) -> None:
        self._text = bytearray()
        self._text_octets = 0
        self._literals: dict[int, Literal] = {}
        self._literal_total = 0
        self._collecting = False
        self._literal = bytearray()
        self._literal_left = 0
        self._literal_start = 0
        self._literal_binary = False
        self._skip_left = 0
        self._awaiting = False
        self._discard: BadCommand | LiteralTooLarge | None = None
        self._tail = b""

    # --- buffer -----------------------------------------------------------------------------------

    def feed(self, data: bytes | bytearray) -> None:
        self._buf += data

    def take_all(self) -> bytes:
        """Remove and return everything buffered (STARTTLS `trailing_data`), and forget the command."""
        data = bytes(self._buf)
        self._buf.clear()
        self._scan = 0
        self._raw_discard = False
        self._reset()
        return data

    @property
    def mid_command(self) -> bool:
        """Part of a command has arrived (or is being skipped) but not its end."""
        return bool(self._buf or self._text or self._collecting or self._skip_left or self._discard)

    @property
    def awaiting_continuation(self) -> bool:
        return self._awaiting

    def accept_literal(self) -> None:
        """The continuation for the announced synchronizing literal was sent: read its octets."""
        if not self._awaiting:
            raise ValueError("no synchronizing literal is waiting")
        self._awaiting = False

    def refuse_literal(self) -> None:
        """The command was refused before its synchronizing literal: the client sends no octets."""
        if not self._awaiting:
            raise ValueError("no synchronizing literal is waiting")
        self._reset()

    # --- raw lines (AUTHENTICATE exchange, IDLE's DONE) -------------------------------------------

    def next_raw_line(self, limit: int) -> bytes | _TooLong | None:
        """The next CRLF-ended line as it is, `TOO_LONG` (dropped), or None when none is complete."""
        buf = self._buf
        end = buf.find(b"\r\n", self._scan)
        if end < 0:
            if len(buf) > limit or self._raw_discard:
                keep = buf[-1:] if buf.endswith(b"\r") else b""
                buf[:] = keep
                self._raw_discard = True
            self._scan = max(len(buf) - 1, 0)
            return None
        line = bytes(buf[:end])
        del buf[: end + 2]
        self._scan = 0
        if self._raw_discard or len(line) + 2 > limit:
            self._raw_discard = False
            return TOO_LONG
        return line

    # --- commands -----------------------------------------------------------------------------------

    def next_frame(
        self, *, max_text: int, max_literal: int, append_limit: int
    ) -> CommandFrame | ContinuationNeeded | LiteralTooLarge | BadCommand | NeedData:
        """The next whole command, or an event about the one being read, or `NEED_DATA`."""
        buf = self._buf
        if not (self._text or self._collecting or self._skip_left or self._awaiting or self._discard):
            # Between commands (the usual case): nothing buffered, or a whole one-line command with no
            # literal, is answered here; anything else takes the loop below, which gives the same result.
            if not buf:
                self._scan = 0
                return NEED_DATA
            end = buf.find(b"\r\n", self._scan)
            if 0 <= end <= max_text - 2 and buf[end - 1 : end] != b"}":
                line = bytes(buf[:end])
                del buf[: end + 2]
                self._scan = 0
                return CommandFrame(line, {})
        while True:
            if self._awaiting:
                return NEED_DATA
            if self._collecting:
                if self._literal_left:
                    piece = buf[: self._literal_left]
                    del buf[: self._literal_left]
                    self._literal += piece
                    self._literal_left -= len(piece)
                    if self._literal_left:
                        return NEED_DATA
                self._literals[self._literal_start] = Literal(
                    bytes(self._literal), len(self._text), self._literal_binary
                )
                self._literal = bytearray()
                self._collecting = False
                continue
            if self._skip_left:
                skipped = min(self._skip_left, len(buf))
                del buf[:skipped]
                self._skip_left -= skipped
                if self._skip_left:
                    return NEED_DATA
                continue
            end = buf.find(b"\r\n", self._scan)
            if end < 0:
                if self._discard is None and self._text_octets + len(buf) > max_text:
                    self._discard = self._too_long(max_text)
                if self._discard is not None:
                    keep = 1 if buf.endswith(b"\r") else 0
                    self._tail = (self._tail + bytes(buf[: len(buf) - keep]))[-_TAIL:]
                    del buf[: len(buf) - keep]
                self._scan = max(len(buf) - 1, 0)
                return NEED_DATA
            line = bytes(buf[:end])
            del buf[: end + 2]
            self._scan = 0
            if self._discard is None and self._text_octets + len(line) + 2 > max_text:
                self._discard = self._too_long(max_text, line)
            if self._discard is not None:
                marker = _marker((self._tail + line)[-_TAIL:], check_quotes=False)
                self._tail = b""
                if marker is not None and not marker.synchronizing:
                    self._skip_left = marker.size
                    continue
                event = self._discard
                self._reset()
                return event
            marker = _marker(line, check_quotes=True)
            self._text += line
            self._text_octets += len(line) + 2
            if marker is None:
                frame = CommandFrame(bytes(self._text), self._literals)
                self._reset()
                return frame
            tag, verb = read_tag_and_verb(bytes(self._text))
            if verb == "APPEND":
                limit = append_limit
                over = marker.size > append_limit or self._literal_total + marker.size > append_limit + max_literal
            else:
                limit = max_literal
                over = self._literal_total + marker.size > max_literal
            if over:
                refusal = LiteralTooLarge(tag, verb, marker.size, limit, marker.synchronizing)
                if marker.synchronizing:
                    self._reset()
                    return refusal
                self._discard = refusal
                self._skip_left = marker.size
                continue
            self._literal_total += marker.size
            self._collecting = True
            self._literal_left = marker.size
            self._literal_start = len(self._text) - len(line) + marker.start
            self._literal_binary = marker.binary
            if marker.synchronizing:
                self._awaiting = True
                return ContinuationNeeded(tag, verb, marker.size)

    def _too_long(self, max_text: int, line: bytes = b"") -> BadCommand:
        # Name the tag and verb from the first `max_text` octets only, whether the line has ended or not,
        # so that a command read whole and one read in pieces are refused alike.
        head = bytes(self._text) if self._text else (line or bytes(self._buf))
        tag, verb = read_tag_and_verb(head[:max_text], whole=False)
        return BadCommand(tag, f"command line too long (over {max_text:d} octets outside literals)", verb)
