"""Search keys (RFC 9051 section 6.4.4, RFC 3501 section 6.4.4) parsed into a tree of frozen nodes.

The parser only builds the tree; the server walks it against messages.  Each node holds what its test
needs, already normalised, so the walker has no grammar to know:
- the flag keys (ANSWERED, UNSEEN, KEYWORD x, ...) are one `Flag(flag, present)`; RECENT/OLD are
  `Recent(present)` and NEW is `And(Recent(True), Flag("\\Seen", False))` (RFC 3501 section 6.4.4);
- FROM/TO/CC/BCC/SUBJECT are `Header(field, value)` like HEADER, field names upper-cased; an empty value
  matches every message that has the field (RFC 9051);
- BEFORE/ON/SINCE compare the internal date, SENTBEFORE/SENTON/SENTSINCE the Date: header, both by day
  (`DateOp.test`), as `datetime.date`;
- a top-level list of keys and a parenthesised group are `And`; `OR a b` is `Or`; `NOT k` is `Not`;
- a sequence set is `Sequence(set)` and `UID set` is `Uid(set)`; `*` is resolved by the walker.
Nesting is bounded (`MAX_SEARCH_DEPTH`) so a line of `NOT NOT NOT ...` is refused, never a recursion error.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable
from dataclasses import dataclass

from ._reader import ParseError, Reader
from ._sequence import SequenceError, SequenceSet, parse_sequence_set

__all__ = [
    "MAX_SEARCH_DEPTH",
    "All",
    "And",
    "Body",
    "DateOp",
    "Flag",
    "Header",
    "InternalDate",
    "Larger",
    "Not",
    "Or",
    "Recent",
    "SearchKey",
    "SentDate",
    "Sequence",
    "Smaller",
    "Text",
    "Uid",
    "parse_search_keys",
]

MAX_SEARCH_DEPTH = 64
"""Deepest nesting of NOT / OR / parentheses accepted; no real client nests this deep."""


class DateOp(enum.Enum):
    """How a date key compares a message's date (by day, time and zone ignored) with its argument."""

    BEFORE = "BEFORE"
    ON = "ON"
    SINCE = "SINCE"

    def test(self, value: datetime.date, target: datetime.date) -> bool:
        if self is DateOp.BEFORE:
            return value < target
        if self is DateOp.ON:
            return value == target
        return value >= target


@dataclass(frozen=True, slots=True)
class SearchKey:
    """Base of every search node."""


@dataclass(frozen=True, slots=True)
class All(SearchKey):
    """ALL: every message."""


@dataclass(frozen=True, slots=True)
class Flag(SearchKey):
    """The message has (`present`) or lacks `flag` (`\\Seen`, or a keyword as sent)."""

    flag: str
    present: bool = True


@dataclass(frozen=True, slots=True)
class Recent(SearchKey):
    """RECENT (present) / OLD (not present): the session's \\Recent, rev1 only."""

    present: bool = True


@dataclass(frozen=True, slots=True)
class Header(SearchKey):
    """The header `field` (upper-cased) contains `value`, case-insensitively; "" matches any such field."""

    field: str
    value: str


@dataclass(frozen=True, slots=True)
class Body(SearchKey):
    """BODY: the body (after the header) contains `value`."""

    value: str


@dataclass(frozen=True, slots=True)
class Text(SearchKey):
    """TEXT: the header or the body contains `value`."""

    value: str


@dataclass(frozen=True, slots=True)
class InternalDate(SearchKey):
    """BEFORE / ON / SINCE on the internal date."""

    op: DateOp
    date: datetime.date


@dataclass(frozen=True, slots=True)
class SentDate(SearchKey):
    """SENTBEFORE / SENTON / SENTSINCE on the Date: header."""

    op: DateOp
    date: datetime.date


@dataclass(frozen=True, slots=True)
class Larger(SearchKey):
    """RFC822.SIZE is larger than `octets`."""

    octets: int


@dataclass(frozen=True, slots=True)
class Smaller(SearchKey):
    """RFC822.SIZE is smaller than `octets`."""

    octets: int


@dataclass(frozen=True, slots=True)
class Sequence(SearchKey):
    """The message sequence number is in `numbers`."""

    numbers: SequenceSet


@dataclass(frozen=True, slots=True)
class Uid(SearchKey):
    """The UID is in `uids`."""

    uids: SequenceSet


@dataclass(frozen=True, slots=True)
class Not(SearchKey):
    key: SearchKey


@dataclass(frozen=True, slots=True)
class Or(SearchKey):
    left: SearchKey
    right: SearchKey


@dataclass(frozen=True, slots=True)
class And(SearchKey):
    """Every key matches (a top-level key list, or a parenthesised group)."""

    keys: tuple[SearchKey, ...]


_FLAG_KEYS: dict[str, SearchKey] = {
    "ANSWERED": Flag("\\Answered"),
    "DELETED": Flag("\\Deleted"),
    "DRAFT": Flag("\\Draft"),
    "FLAGGED": Flag("\\Flagged"),
    "SEEN": Flag("\\Seen"),
    "UNANSWERED": Flag("\\Answered", False),
    "UNDELETED": Flag("\\Deleted", False),
    "UNDRAFT": Flag("\\Draft", False),
    "UNFLAGGED": Flag("\\Flagged", False),
    "UNSEEN": Flag("\\Seen", False),
    "ALL": All(),
    "RECENT": Recent(True),
    "OLD": Recent(False),
    "NEW": And((Recent(True), Flag("\\Seen", False))),
}
_HEADER_KEYS = frozenset({"BCC", "CC", "FROM", "SUBJECT", "TO"})
_DATE_KEYS: dict[str, tuple[type[InternalDate] | type[SentDate], DateOp]] = {
    "BEFORE": (InternalDate, DateOp.BEFORE),
    "ON": (InternalDate, DateOp.ON),
    "SINCE": (InternalDate, DateOp.SINCE),
    "SENTBEFORE": (SentDate, DateOp.BEFORE),
    "SENTON": (SentDate, DateOp.ON),
    "SENTSINCE": (SentDate, DateOp.SINCE),
}
_SEQUENCE_START = frozenset(b"0123456789*$")
_SEQUENCE_CHARS = frozenset(b"0123456789*$:,")


def _sequence_set(r: Reader) -> SequenceSet:
    start = r.pos
    while not r.at_end() and r.text[r.pos] in _SEQUENCE_CHARS:
        r.pos += 1
    try:
        return parse_sequence_set(r.text[start : r.pos].decode("ascii"))
    except SequenceError as exc:
        raise ParseError(f"invalid sequence set: {exc}") from None


def read_sequence_set(r: Reader) -> SequenceSet:
    """A `sequence-set` token (shared with the command parser)."""
    return _sequence_set(r)


def _key(r: Reader, decode: Callable[[bytes], str], depth: int) -> SearchKey:
    if depth > MAX_SEARCH_DEPTH:
        raise ParseError(f"search keys nested deeper than {MAX_SEARCH_DEPTH:d}")
    first = r.peek()
    if first is None:
        raise ParseError("expected a search key at the end of the line")
    if first == ord("("):
        r.pos += 1
        keys = [_key(r, decode, depth + 1)]
        while not r.maybe(")"):
            r.sp()
            keys.append(_key(r, decode, depth + 1))
        return keys[0] if len(keys) == 1 else And(tuple(keys))
    if first in _SEQUENCE_START:
        return Sequence(_sequence_set(r))
    name = r.atom("a search key").upper()
    simple = _FLAG_KEYS.get(name)
    if simple is not None:
        return simple
    if name in ("KEYWORD", "UNKEYWORD"):
        r.sp()
        return Flag(r.atom("a keyword"), name == "KEYWORD")
    if name in _HEADER_KEYS:
        r.sp()
        return Header(name, decode(r.astring_bytes()))
    if name == "HEADER":
        r.sp()
        field = r.astring("a header field name").upper()
        r.sp()
        return Header(field, decode(r.astring_bytes()))
    if name == "BODY":
        r.sp()
        return Body(decode(r.astring_bytes()))
    if name == "TEXT":
        r.sp()
        return Text(decode(r.astring_bytes()))
    dated = _DATE_KEYS.get(name)
    if dated is not None:
        r.sp()
        cls, op = dated
        return cls(op, r.date())
    if name in ("LARGER", "SMALLER"):
        r.sp()
        octets = r.number("a size", limit=9_223_372_036_854_775_807)
        return Larger(octets) if name == "LARGER" else Smaller(octets)
    if name == "UID":
        r.sp()
        return Uid(_sequence_set(r))
    if name == "NOT":
        r.sp()
        return Not(_key(r, decode, depth + 1))
    if name == "OR":
        r.sp()
        left = _key(r, decode, depth + 1)
        r.sp()
        return Or(left, _key(r, decode, depth + 1))
    raise ParseError(f"unknown search key '{name[:20]}'")


def parse_search_keys(r: Reader, decode: Callable[[bytes], str]) -> SearchKey:
    """`search-key *(SP search-key)` up to the end of the command: one key, or `And` of them all.

    `decode` turns a string argument into text (the command's CHARSET).
    """
    keys = [_key(r, decode, 1)]
    while not r.at_end():
        r.sp()
        keys.append(_key(r, decode, 1))
    return keys[0] if len(keys) == 1 else And(tuple(keys))
