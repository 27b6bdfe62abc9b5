"""`Reader`: the lexical rules of RFC 9051 section 9 over one framed command (its text and its literals).

The framer (`_framing.py`) has already cut a whole command out of the stream: the text of its lines joined
(CRLFs removed) and, for each literal, the octets keyed by where its `{n}` marker starts in that text.  The
reader walks the text; at a marker it takes the literal whole and jumps past the marker.  Every token rule
raises `ParseError` naming the rule; the parser turns that into one `BadCommand`.

Characters (RFC 9051 section 9): `atom-specials` are `( ) { SP CTL % * " \\ ]`; an `astring` may also hold
`]`; a `tag` is astring chars except `+`; a `list-mailbox` may hold `%` and `*`.  Quoted strings take
`\\"` and `\\\\` escapes only; 8-bit text inside them is accepted when it is valid UTF-8 (RFC 9051 allows
it, RFC 3501 clients send it with CHARSET UTF-8).  CR, LF and NUL are never part of a token outside a
literal: a line that carries one is refused whole (the framer ends lines at CRLF only).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

__all__ = [
    "MONTHS",
    "Literal",
    "ParseError",
    "Reader",
]

_CTL = frozenset(range(0x00, 0x20)) | {0x7F}
_ATOM_SPECIALS = frozenset(b'(){ %*"\\]') | _CTL
ATOM_CHARS = frozenset(range(0x01, 0x80)) - _ATOM_SPECIALS
ASTRING_CHARS = ATOM_CHARS | {ord("]")}
TAG_CHARS = ASTRING_CHARS - {ord("+")}
LIST_CHARS = ATOM_CHARS | frozenset(b"%*]")
DIGITS = frozenset(b"0123456789")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {m.upper(): i + 1 for i, m in enumerate(MONTHS)}
MAX_NUMBER64 = 9_223_372_036_854_775_807
"""RFC 9051 `number64`: a signed 63-bit value (sizes and literal lengths)."""


_RUN_PATTERNS: dict[frozenset[int], re.Pattern[bytes]] = {}


def _run_pattern(allowed: frozenset[int]) -> re.Pattern[bytes]:
    """`[allowed]+` compiled once per set of octets: a token is matched in C, not octet by octet."""
    pattern = _RUN_PATTERNS.get(allowed)
    if pattern is None:
        chars = b"".join(re.escape(bytes([octet])) for octet in sorted(allowed))
        pattern = _RUN_PATTERNS[allowed] = re.compile(b"[" + chars + b"]+")
    return pattern


class ParseError(ValueError):
    """The command breaks a rule of the grammar; the message names it."""


@dataclass(frozen=True, slots=True)
class Literal:
    """The octets of one literal and where its marker ends in the command text."""

    data: bytes
    end: int
    binary: bool = False
    """Sent as `~{n}` (literal8, RFC 3516): NUL is allowed."""


class Reader:
    """A cursor over one command's text with its literals."""

    __slots__ = ("literals", "pos", "text")

    def __init__(self, text: bytes, literals: dict[int, Literal] | None = None) -> None:
        self.text = text
        self.literals = literals or {}
        self.pos = 0

    # --- primitives -------------------------------------------------------------------------------

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> int | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def peek_is(self, char: str) -> bool:
        return self.peek() == ord(char)

    def expect(self, char: str, rule: str) -> None:
        if self.peek() != ord(char):
            raise ParseError(f"expected '{char}' {rule} at octet {self.pos:d}")
        self.pos += 1

    def sp(self) -> None:
        found = self.peek()
        if found != 0x20:
            what = "the end of the line" if found is None else f"0x{found:02x}"
            raise ParseError(f"expected a single space at octet {self.pos:d}, found {what}")
        self.pos += 1

    def maybe(self, char: str) -> bool:
        if self.peek() == ord(char):
            self.pos += 1
            return True
        return False

    def end(self) -> None:
        if not self.at_end():
            raise ParseError(f"unexpected '{self._excerpt()}' at octet {self.pos:d}, expected end of line")

    def _excerpt(self) -> str:
        chunk = self.text[self.pos : self.pos + 20]
        return "".join(chr(b) if 0x20 <= b < 0x7F else "?" for b in chunk)

    def _run(self, allowed: frozenset[int]) -> bytes:
        start = self.pos
        found = _run_pattern(allowed).match(self.text, start)
        if found is None:
            return b""
        self.pos = found.end()
        return found.group()

    def peek_keyword(self, word: str) -> bool:
        """Whether an atom equal to `word` (case-insensitive) comes next, ended by SP, `)` or the end."""
        end = self.pos + len(word)
        if self.text[self.pos : end].upper() != word.encode():
            return False
        return end == len(self.text) or self.text[end] in b" )"

    # --- tokens -----------------------------------------------------------------------------------

    def atom(self, rule: str = "atom") -> str:
        raw = self._run(ATOM_CHARS)
        if not raw:
            raise ParseError(f"expected {rule} at octet {self.pos:d}, found '{self._excerpt()}'")
        return raw.decode("ascii")

    def tag(self) -> str:
        raw = self._run(TAG_CHARS)
        if not raw:
            raise ParseError("missing or invalid tag")
        return raw.decode("ascii")

    def number(self, rule: str = "number", *, limit: int = 4_294_967_295) -> int:
        start = self.pos
        raw = self._run(DIGITS)
        if not raw:
            raise ParseError(f"expected {rule} (digits) at octet {start:d}")
        if len(raw) > 19 or int(raw) > limit:
            raise ParseError(f"{rule} at octet {start:d} is over {limit:d}")
        return int(raw)

    def nz_number(self, rule: str = "nz-number") -> int:
        start = self.pos
        value = self.number(rule)
        if value == 0 or self.text[start] == ord("0"):
            raise ParseError(f"{rule} at octet {start:d} must not be 0 or start with 0")
        return value

    def quoted(self) -> bytes:
        self.expect('"', "to open a quoted string")
        out = bytearray()
        text = self.text
        while True:
            if self.pos >= len(text):
                raise ParseError("quoted string is not closed")
            octet = text[self.pos]
            self.pos += 1
            if octet == 0x22:
                return bytes(out)
            if octet == 0x5C:
                if self.pos >= len(text) or text[self.pos] not in b'"\\':
                    raise ParseError(f"'\\' in a quoted string escapes only '\"' or '\\' (octet {self.pos:d})")
                out.append(text[self.pos])
                self.pos += 1
            elif octet in (0x00, 0x0A, 0x0D):
                raise ParseError("CR, LF or NUL inside a quoted string (use a literal)")
            else:
                out.append(octet)

    def literal(self) -> Literal:
        found = self.literals.get(self.pos)
        if found is None:
            raise ParseError(f"'{{' at octet {self.pos:d} does not start a literal at a line end")
        if not found.binary and b"\x00" in found.data:
            raise ParseError("NUL in a literal (RFC 9051 CHAR8; send binary data as a literal8 '~{n}')")
        self.pos = found.end
        return found

    def at_literal(self) -> bool:
        return self.pos in self.literals

    def string_bytes(self) -> bytes:
        """`string` = quoted / literal."""
        if self.peek_is('"'):
            return self.quoted()
        if self.at_literal() or self.peek_is("{") or self.peek_is("~"):
            literal = self.literal()
            if literal.binary:
                raise ParseError("a literal8 '~{n}' is allowed only for message data")
            return literal.data
        raise ParseError(f"expected a quoted string or a literal at octet {self.pos:d}")

    def astring_bytes(self) -> bytes:
        if self.peek_is('"') or self.at_literal() or self.peek_is("{"):
            return self.string_bytes()
        raw = self._run(ASTRING_CHARS)
        if not raw:
            raise ParseError(f"expected an astring at octet {self.pos:d}, found '{self._excerpt()}'")
        return raw

    def astring(self, rule: str = "astring") -> str:
        return _utf8(self.astring_bytes(), rule)

    def string(self, rule: str = "string") -> str:
        return _utf8(self.string_bytes(), rule)

    def nstring(self, rule: str = "nstring") -> str | None:
        if self.peek_keyword("NIL"):
            self.pos += 3
            return None
        return self.string(rule)

    def list_mailbox_bytes(self) -> bytes:
        if self.peek_is('"') or self.at_literal() or self.peek_is("{"):
            return self.string_bytes()
        raw = self._run(LIST_CHARS)
        if not raw:
            raise ParseError(f"expected a mailbox pattern at octet {self.pos:d}")
        return raw

    def flag(self) -> str:
        """`flag`: a system flag (`\\Seen`) or a keyword atom; `\\*` is not a flag a client sends."""
        if self.maybe("\\"):
            return "\\" + self.atom("a flag name after '\\'")
        return self.atom("a flag")

    def flag_list(self) -> tuple[str, ...]:
        self.expect("(", "to open a flag list")
        flags: list[str] = []
        while not self.maybe(")"):
            if flags:
                self.sp()
            flags.append(self.flag())
        return tuple(flags)

    def paren_atoms(self, rule: str) -> tuple[str, ...]:
        """`"(" [atom *(SP atom)] ")"`, atoms upper-cased."""
        self.expect("(", f"to open {rule}")
        items: list[str] = []
        while not self.maybe(")"):
            if items:
                self.sp()
            items.append(self.atom(rule).upper())
        return tuple(items)

    def date(self) -> datetime.date:
        """`date` = date-text / DQUOTE date-text DQUOTE; date-text = d-Mon-yyyy (1 or 2 day digits)."""
        quoted = self.maybe('"')
        start = self.pos
        raw = self._run(ATOM_CHARS)
        if quoted:
            self.expect('"', "to close a date")
        return _date(raw.decode("ascii"), start)

    def date_time(self) -> datetime.datetime:
        """`date-time` = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE."""
        start = self.pos
        body = self.quoted().decode("ascii", "replace")
        if len(body) == 25 and body[1] == "-":
            body = " " + body  # a one-digit day without its padding space: be liberal
        if len(body) != 26 or body[11] != " " or body[20] != " ":
            raise ParseError(f"date-time at octet {start:d} is not \"dd-Mon-yyyy hh:mm:ss +zzzz\"")
        day = _date(body[:11].lstrip(" "), start)
        clock, zone = body[12:20], body[21:]
        try:
            hour, minute, second = (int(part) for part in clock.split(":"))
            if zone[0] not in "+-" or not zone[1:].isdigit() or len(clock) != 8:
                raise ValueError(zone)
            offset = int(zone[1:3]) * 60 + int(zone[3:5])
            tz = datetime.timezone(datetime.timedelta(minutes=offset if zone[0] == "+" else -offset))
            return datetime.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)
        except ValueError:
            raise ParseError(f"date-time at octet {start:d} has an invalid time or zone") from None


def _utf8(raw: bytes, rule: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{rule} is not valid UTF-8") from None


def _date(text: str, at: int) -> datetime.date:
    parts = text.split("-")
    if (
        len(parts) != 3
        or not (1 <= len(parts[0]) <= 2 and parts[0].isdigit())
        or parts[1].upper() not in _MONTH_NUMBER
        or not (len(parts[2]) == 4 and parts[2].isdigit())
        or not parts[0].isascii()
        or not parts[2].isascii()
    ):
        raise ParseError(f"date at octet {at:d} is not d-Mon-yyyy")
    try:
        return datetime.date(int(parts[2]), _MONTH_NUMBER[parts[1].upper()], int(parts[0]))
    except ValueError:
        raise ParseError(f"date at octet {at:d} does not exist") from None
