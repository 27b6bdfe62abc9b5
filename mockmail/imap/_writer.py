"""Rendering responses to bytes: the only place that adds CRLF, quotes strings and frames literals.

Rules kept here (RFC 9051 sections 4 and 7, RFC 3501 for rev1 clients):
- **Strings**: quoted only when every octet is 7-bit TEXT-CHAR (no CR, LF, NUL, no 8-bit) and the string
  is short (`MAX_QUOTED`); anything else is a literal `{n}` CRLF octets.  A `Binary` with NUL is a literal8
  `~{n}` (RFC 3516 section 4.2).  So no quoted string ever carries a line ending or 8-bit text.
- **Mailbox names** are modified UTF-7 for rev1 clients and UTF-8 for clients that enabled IMAP4rev2 or
  UTF8=ACCEPT (`utf8=True`); either way a name that is not a plain astring atom is quoted or a literal.
- **Numbers** are rendered with `f"{n:d}"` after an int check, so a float never reaches the wire;
  they are 0 to 2**63-1 (`number64`).
- **Text** after a status or a continuation may not contain CR or LF (a bug: `LocalProtocolError`); it is
  US-ASCII unless the session speaks UTF-8.
- **Date-time** is `"dd-Mon-yyyy hh:mm:ss +zzzz"` (INTERNALDATE); a naive datetime is a bug.
"""

from __future__ import annotations

import base64
import datetime
import functools
import re
from collections.abc import Sequence
from typing import Any

from ._errors import LocalProtocolError
from ._mutf7 import encode_mutf7
from ._reader import ASTRING_CHARS, ATOM_CHARS, MAX_NUMBER64, MONTHS
from ._responses import (
    Atom,
    Bad,
    Binary,
    Bye,
    CapabilityResponse,
    Code,
    Continuation,
    EnabledResponse,
    EsearchResponse,
    ExistsResponse,
    ExpungeResponse,
    FetchResponse,
    FetchRows,
    Flags,
    FlagsResponse,
    Greeting,
    IdResponse,
    ListResponse,
    LsubResponse,
    NamespaceResponse,
    No,
    Ok,
    RecentResponse,
    Rendered,
    Response,
    SaslChallenge,
    SearchResponse,
    SortResponse,
    StatusResponse,
    Untagged,
    Value,
)
from ._sequence import SequenceSet

__all__ = ["MAX_QUOTED", "format_date_time", "render_mailbox", "render_string", "write", "write_chunks"]

MAX_QUOTED = 1024
"""Longest string sent quoted; longer ones go as literals (as Dovecot and Cyrus do)."""

_QUOTABLE = frozenset(range(0x01, 0x80)) - {0x0A, 0x0D}
_CRLF = b"\r\n"


class _Out:
    """Chunks being written: text accumulates, a large literal is its own chunk (never copied)."""

    __slots__ = ("chunks", "current")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.current = bytearray()

    def text(self, data: bytes | str) -> None:
        self.current += data.encode("ascii") if isinstance(data, str) else data

    def literal(self, data: bytes, *, binary: bool = False) -> None:
        self.text(f"{'~' if binary else ''}{{{_num(len(data))}}}\r\n")
        if len(data) > 4096:
            self.chunks.append(bytes(self.current))
            self.current = bytearray()
            self.chunks.append(data)
        else:
            self.current += data

    def finish(self) -> list[bytes]:
        self.current += _CRLF
        self.chunks.append(bytes(self.current))
        return self.chunks


def _num(value: Any) -> str:
    if type(value) is int and 0 <= value <= MAX_NUMBER64:
        return f"{value:d}"
    if not isinstance(value, int) or isinstance(value, bool):
        raise LocalProtocolError(f"an IMAP number must be an int, not {type(value).__name__}: {value!r}")
    if not 0 <= value <= MAX_NUMBER64:
        raise LocalProtocolError(f"an IMAP number is 0 to 2**63-1, not {value:d}")
    return f"{value:d}"


_PATTERNS: dict[frozenset[int], re.Pattern[str]] = {}
"""One compiled `[chars]+` per set of allowed octets: every set is US-ASCII, so matching the text (not its
UTF-8) is the same check, done in C rather than octet by octet."""


def _pattern(allowed: frozenset[int]) -> re.Pattern[str]:
    pattern = _PATTERNS.get(allowed)
    if pattern is None:
        if any(octet > 0x7F for octet in allowed):
            raise ValueError("atom character sets are US-ASCII")
        chars = "".join(re.escape(chr(octet)) for octet in sorted(allowed))
        pattern = _PATTERNS[allowed] = re.compile(f"[{chars}]+")
    return pattern


def _atom(text: str, what: str = "atom", allowed: frozenset[int] = ATOM_CHARS) -> str:
    if _pattern(allowed).fullmatch(text) is None:
        raise LocalProtocolError(f"{what} {text!r} is not a valid atom")
    return text


def _flag(flag: str) -> str:
    if flag == "\\*":
        return flag
    if flag.startswith("\\"):
        return "\\" + _atom(flag[1:], "flag")
    return _atom(flag, "flag")


@functools.lru_cache(maxsize=1024)
def _checked_flag_list(flags: tuple[str, ...]) -> str:
    """A flag list, checked once per distinct tuple: a folder's messages share a handful of flag sets."""
    return "(" + " ".join(_flag(f) for f in flags) + ")"


def _flag_list(flags: Sequence[str]) -> str:
    if type(flags) is tuple:
        return _checked_flag_list(flags)
    return "(" + " ".join(_flag(f) for f in flags) + ")"


def _resp_text(text: str, code: Code | None, utf8: bool) -> bytes:
    if len(text) <= 200 and (code is None or _exact(code)):
        return _memo_resp_text(text, code, utf8)
    return _checked_resp_text(text, code, utf8)


@functools.lru_cache(maxsize=512)
def _memo_resp_text(text: str, code: Code | None, utf8: bool) -> bytes:
    """`_checked_resp_text`, once per distinct short text and code (`completed`, a login's capabilities)."""
    return _checked_resp_text(text, code, utf8)


def _checked_resp_text(text: str, code: Code | None, utf8: bool) -> bytes:
    if "\r" in text or "\n" in text or "\x00" in text:
        raise LocalProtocolError(f"response text contains CR, LF or NUL: {text!r}")
    if not utf8 and not text.isascii():
        raise LocalProtocolError(f"response text is not US-ASCII for a rev1 client: {text!r}")
    if code is None and text.startswith("["):
        raise LocalProtocolError(f"response text without a code may not start with '[': {text!r}")
    prefix = "[" + _code(code) + "]" if code is not None else ""
    joined = f"{prefix} {text}" if prefix and text else prefix or text
    return joined.encode("utf-8")


def _code(code: Code) -> str:
    parts = [_atom(code.name, "response code")]
    for arg in code.args:
        if isinstance(arg, SequenceSet):
            parts.append(str(arg))
        elif isinstance(arg, Flags):
            parts.append(_flag_list(arg.flags))
        elif isinstance(arg, tuple):
            parts.append("(" + " ".join(_atom(a, "response code item") for a in arg) + ")")
        elif isinstance(arg, str):
            parts.append(_atom(arg, "response code argument"))
        else:
            parts.append(_num(arg))
    return " ".join(parts)


def format_date_time(value: datetime.datetime) -> str:
    """`dd-Mon-yyyy hh:mm:ss +zzzz` (RFC 9051 `date-time`, without the quotes)."""
    offset = value.utcoffset()
    if offset is None:
        raise LocalProtocolError(f"a date-time needs a time zone: {value!r}")
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return (
        f"{value.day:02d}-{MONTHS[value.month - 1]}-{value.year:04d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d} {sign}{minutes // 60:02d}{minutes % 60:02d}"
    )


def render_string(out: _Out, value: str | bytes) -> None:
    """A string as quoted when safe and short, else as a literal."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if len(raw) <= MAX_QUOTED and all(octet in _QUOTABLE for octet in raw):
        out.text(b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"')
    else:
        out.literal(raw)


def render_mailbox(out: _Out, name: str, utf8: bool) -> None:
    """A mailbox name: an atom when it is one, else a string; modified UTF-7 unless the session is UTF-8."""
    wire = name if utf8 else encode_mutf7(name)
    raw = wire.encode("utf-8")
    if raw and raw.upper() != b"NIL" and all(octet in ASTRING_CHARS for octet in raw):
        out.text(raw)
    else:
        render_string(out, raw)


def _value(out: _Out, value: Value) -> None:
    if value is None:
        out.text("NIL")
    elif isinstance(value, bool):
        raise LocalProtocolError(f"a bool is not an IMAP value: {value!r}")
    elif isinstance(value, int):
        out.text(_num(value))
    elif isinstance(value, str | bytes):
        render_string(out, value)
    elif isinstance(value, Atom):
        out.text(_atom(value.text))
    elif isinstance(value, Flags):
        out.text(_flag_list(value.flags))
    elif isinstance(value, Binary):
        out.literal(value.data, binary=b"\x00" in value.data)
    elif isinstance(value, Rendered):
        out.text(value.data)
    elif isinstance(value, datetime.datetime):
        out.text('"' + format_date_time(value) + '"')
    elif isinstance(value, SequenceSet):
        out.text(str(value))
    elif isinstance(value, tuple):
        out.text("(")
        for i, item in enumerate(value):
            if i:
                out.text(" ")
            _value(out, item)
        out.text(")")
    else:
        raise LocalProtocolError(f"no IMAP rendering for {type(value).__name__}")


# --- responses ---------------------------------------------------------------------------------


def _status(out: _Out, lead: str, text: str, code: Code | None, utf8: bool) -> None:
    out.text(lead)
    rendered = _resp_text(text, code, utf8)
    if rendered:
        out.text(b" " + rendered)


def _pairs(out: _Out, pairs: tuple[tuple[str, str | None], ...] | None) -> None:
    if pairs is None:
        out.text("NIL")
        return
    out.text("(")
    for i, (name, value) in enumerate(pairs):
        if i:
            out.text(" ")
        render_string(out, name)
        out.text(" ")
        _value(out, value)
    out.text(")")


def _namespace(out: _Out, entries: tuple[tuple[str, str | None], ...] | None, utf8: bool) -> None:
    if entries is None:
        out.text("NIL")
        return
    out.text("(")
    for prefix, delimiter in entries:
        out.text("(")
        wire = prefix if utf8 else encode_mutf7(prefix)
        render_string(out, wire)
        out.text(" ")
        _value(out, delimiter)
        out.text(")")
    out.text(")")


def _list_like(out: _Out, verb: str, r: ListResponse | LsubResponse, utf8: bool) -> None:
    out.text(f"* {verb} {_flag_list(r.attributes)} ")
    if r.delimiter is not None and len(r.delimiter) != 1:
        raise LocalProtocolError(f"a hierarchy delimiter is one character: {r.delimiter!r}")
    _value(out, r.delimiter)
    out.text(" ")
    render_mailbox(out, r.mailbox, utf8)
    if isinstance(r, ListResponse) and r.extended:
        out.text(" (")
        for i, (name, value) in enumerate(r.extended):
            if i:
                out.text(" ")
            render_string(out, name)
            out.text(" ")
            _value(out, value)
        out.text(")")


def _numbers(numbers: Sequence[int]) -> str:
    return "".join(" " + _num(n) for n in numbers)


def _fetch(out: _Out, response: FetchResponse) -> None:
    number = response.number
    if number < 1:
        raise LocalProtocolError("FETCH names a message number, 1 or more")
    out.text(f"* {_num(number)} FETCH (")
    first = True
    for name, value in response.items:
        if first:
            first = False
            out.text(_fetch_name(name) + " ")
        else:
            out.text(" " + _fetch_name(name) + " ")
        kind = type(value)
        if kind is int:
            out.text(_num(value))
        elif kind is Flags:
            out.text(_flag_list(value.flags))  # type: ignore[union-attr]
        else:
            _value(out, value)
    out.text(")")


def _row_value(value: Value) -> str:
    kind = type(value)
    if kind is int:
        return _num(value)
    if kind is Flags:
        return _flag_list(value.flags)  # type: ignore[union-attr]
    if kind is datetime.datetime:
        return '"' + format_date_time(value) + '"'  # type: ignore[arg-type]
    if value is None:
        return "NIL"
    if kind is Atom:
        return _atom(value.text)  # type: ignore[union-attr]
    raise LocalProtocolError(f"a FETCH row holds numbers, flags, dates, atoms or NIL, not {kind.__name__}")


def _fetch_rows(out: _Out, response: FetchRows) -> None:
    if not response.rows:
        raise LocalProtocolError("FetchRows needs at least one row")
    names = [_fetch_name(name) for name in response.names]
    width = len(names)
    if width == 2 and names[0] == "FLAGS" and names[1] == "RFC822.SIZE":
        out.text(_flags_and_sizes(response.rows))  # the usual client's first FETCH 1:*
        return
    heads = [name + " " for name in names]
    lines = []
    for number, values in response.rows:
        if len(values) != width:
            raise LocalProtocolError("a FETCH row has one value per name")
        if number < 1:
            raise LocalProtocolError("FETCH names a message number, 1 or more")
        items = " ".join([head + _row_value(value) for head, value in zip(heads, values, strict=True)])
        lines.append(f"* {_num(number)} FETCH ({items})")
    out.text("\r\n".join(lines))


def _flags_and_sizes(rows: Sequence[tuple[int, tuple[Value, ...]]]) -> str:
    """`* n FETCH (FLAGS (...) RFC822.SIZE n)` lines, each value checked as the general loop checks it (the
    usual values inline, anything else through `_row_value`)."""
    lines = []
    for number, values in rows:
        if len(values) != 2:
            raise LocalProtocolError("a FETCH row has one value per name")
        flags, size = values
        if type(number) is not int or not 1 <= number <= MAX_NUMBER64:
            if number < 1:
                raise LocalProtocolError("FETCH names a message number, 1 or more")
            _num(number)
        flags_text = _flag_list(flags.flags) if type(flags) is Flags else _row_value(flags)
        size_text = f"{size:d}" if type(size) is int and 0 <= size <= MAX_NUMBER64 else _row_value(size)
        lines.append(f"* {number:d} FETCH (FLAGS {flags_text} RFC822.SIZE {size_text})")
    return "\r\n".join(lines)


def _write(out: _Out, response: Response, tag: str | None, utf8: bool) -> None:
    if type(response) is FetchRows:
        _fetch_rows(out, response)
        return
    if type(response) is FetchResponse:  # the most frequent by far: 1:* answers one per message
        _fetch(out, response)
        return
    match response:
        case Ok() | No() | Bad():
            if tag is None:
                raise LocalProtocolError("a tagged response needs the tag of a waiting command")
            _status(out, f"{tag} {type(response).__name__.upper()}", response.text, response.code, utf8)
        case Greeting(text, code, status):
            if status not in ("OK", "PREAUTH", "BYE"):
                raise LocalProtocolError(f"a greeting is OK, PREAUTH or BYE, not {status!r}")
            _status(out, f"* {status}", text, code, utf8)
        case Untagged(status, text, code):
            if status not in ("OK", "NO", "BAD"):
                raise LocalProtocolError(f"untagged status is OK, NO or BAD, not {status!r}")
            _status(out, f"* {status}", text, code, utf8)
        case Bye(text, code):
            _status(out, "* BYE", text, code, utf8)
        case Continuation(text):
            _status(out, "+", text, None, utf8)
            if not text:
                out.text(" ")
        case SaslChallenge(data):
            out.text("+ " + base64.b64encode(data).decode("ascii"))
        case CapabilityResponse(capabilities):
            out.text("* CAPABILITY" + "".join(" " + _atom(c, "capability") for c in capabilities))
        case ExistsResponse(count):
            out.text(f"* {_num(count)} EXISTS")
        case RecentResponse(count):
            out.text(f"* {_num(count)} RECENT")
        case ExpungeResponse(number):
            if number < 1:
                raise LocalProtocolError("EXPUNGE names a message number, 1 or more")
            out.text(f"* {_num(number)} EXPUNGE")
        case FlagsResponse(flags):
            out.text("* FLAGS " + _flag_list(flags))
        case ListResponse():
            _list_like(out, "LIST", response, utf8)
        case LsubResponse():
            _list_like(out, "LSUB", response, utf8)
        case StatusResponse(mailbox, items):
            out.text("* STATUS ")
            render_mailbox(out, mailbox, utf8)
            out.text(" (" + " ".join(f"{_atom(n, 'STATUS item')} {_num(v)}" for n, v in items) + ")")
        case SearchResponse(numbers):
            out.text("* SEARCH" + _numbers(numbers))
        case EsearchResponse():
            out.text("* ESEARCH")
            correlator = response.tag if response.tag is not None else tag
            if correlator is not None:
                out.text(" (TAG ")
                render_string(out, correlator)
                out.text(")")
            if response.uid:
                out.text(" UID")
            for label, bound in (("MIN", response.min), ("MAX", response.max)):
                if bound is not None:
                    out.text(f" {label} {_num(bound)}")
            if response.all is not None and response.all.ranges:
                out.text(f" ALL {response.all}")
            if response.count is not None:
                out.text(f" COUNT {_num(response.count)}")
        case SortResponse(numbers):
            out.text("* SORT" + _numbers(numbers))
        case NamespaceResponse(personal, other, shared):
            out.text("* NAMESPACE ")
            _namespace(out, personal, utf8)
            out.text(" ")
            _namespace(out, other, utf8)
            out.text(" ")
            _namespace(out, shared, utf8)
        case EnabledResponse(capabilities):
            out.text("* ENABLED" + "".join(" " + _atom(c, "capability") for c in capabilities))
        case IdResponse(parameters):
            out.text("* ID ")
            _pairs(out, parameters)
        case FetchResponse():
            _fetch(out, response)
        case FetchRows():
            _fetch_rows(out, response)
        case _:
            raise LocalProtocolError(f"no writer for {type(response).__name__}")


_FETCH_NAME_CHARS = frozenset(range(0x21, 0x7F)) | {0x20}
"""A FETCH item name echoes the client's section (`BODY[HEADER.FIELDS (X-A "B")]`): printable US-ASCII."""


def _fetch_name(name: str) -> str:
    return _atom(name, "FETCH item name", _FETCH_NAME_CHARS)


def write_chunks(response: Response, *, tag: str | None = None, utf8: bool = False) -> list[bytes]:
    """Render `response` to the bytes that go on the wire, as chunks (large literals stand alone).

    Args:
        tag: the tag of the command a tagged response completes (and ESEARCH's default correlator).
        utf8: the session speaks UTF-8 (IMAP4rev2 or UTF8=ACCEPT enabled): mailbox names go as UTF-8.

    Raises:
        LocalProtocolError: the response cannot be rendered legally (a bug in the caller).
    """
    kind = type(response)
    status = _TAGGED_STATUS.get(kind)
    if status is not None and tag is not None:
        # Ok, No, Bad: the tag, then a tail rendered once per distinct status, text and code.
        text, code = response.text, response.code  # type: ignore[union-attr]
        if len(text) <= 200 and (code is None or _exact(code)):
            return [tag.encode("ascii") + _memo_tagged_tail(status, text, code, utf8)]
    elif kind in _MEMO_TYPES and _memo_safe(response):
        return list(_memo_chunks(response, utf8))
    out = _Out()
    _write(out, response, tag, utf8)
    return out.finish()


_TAGGED_STATUS: dict[type, str] = {Ok: "OK", No: "NO", Bad: "BAD"}
"""The exact types whose tagged line has a memoized tail (a subclass, such as the server's STARTTLS OK,
takes the general path)."""


@functools.lru_cache(maxsize=512)
def _memo_tagged_tail(status: str, text: str, code: Code | None, utf8: bool) -> bytes:
    """` OK [code] text` CRLF, checked and rendered as `_status` does, once per distinct line."""
    rendered = _checked_resp_text(text, code, utf8)
    return b" " + status.encode("ascii") + (b" " + rendered if rendered else b"") + _CRLF


_MEMO_TYPES = frozenset({Greeting, CapabilityResponse, FlagsResponse, Untagged, ExistsResponse, RecentResponse})
"""Untagged lines the server makes alike for many sessions (the greeting, SELECT's FLAGS, EXISTS and
status lines): each rendered once.  None depends on a tag, and none holds client text or message content."""


_EXACT_ARGS = frozenset({int, str, SequenceSet, Flags, tuple})
_EXACT_CODES: dict[int, Code] = {}
"""Codes already found exact, by identity (held, so that an id is not reused): a code the server keeps
(a login's CAPABILITY list) is checked once, not argument by argument on every line."""


def _exact(code: Code) -> bool:
    """Whether every argument of `code` has an exact type (`_memo_safe`): a frozen code checked once."""
    if _EXACT_CODES.get(id(code)) is code:
        return True
    if not all(type(arg) in _EXACT_ARGS for arg in code.args):
        return False
    if len(_EXACT_CODES) >= 256:
        _EXACT_CODES.clear()
    _EXACT_CODES[id(code)] = code
    return True


def _memo_safe(response: Response) -> bool:
    """Whether equal responses render alike: `3.0 == 3 == True` would share a rendering (and skip the
    check that refuses the float and the bool), so every number must be an int."""
    kind = type(response)
    if kind is ExistsResponse or kind is RecentResponse:
        return type(response.count) is int  # type: ignore[union-attr]
    if kind is Untagged or kind is Greeting:
        code = response.code  # type: ignore[union-attr]
        return code is None or _exact(code)
    return True


@functools.lru_cache(maxsize=512)
def _memo_chunks(response: Response, utf8: bool) -> tuple[bytes, ...]:
    out = _Out()
    _write(out, response, None, utf8)
    return tuple(out.finish())


def write(response: Response, *, tag: str | None = None, utf8: bool = False) -> bytes:
    """`write_chunks`, joined."""
    return b"".join(write_chunks(response, tag=tag, utf8=utf8))

