"""Header blocks read as IMAP reads them: where a header ends, its fields, and MIME parameter values.

Rules kept (RFC 5322 section 2.2, RFC 2045 section 5.1, RFC 2231 section 3):
- A header ends at the first empty line, which belongs to it (BODY[HEADER] includes it).  Like Python's
  `email` feed parser, a line that is neither a field (`name:`) nor a continuation (leading space or tab)
  also ends the header, and begins the body, with no empty line consumed.
- A field runs from its name to the CRLF before the next line that does not begin with space or tab;
  its value is unfolded (each CRLF before whitespace removed) and stripped of surrounding whitespace.
- MIME parameters: `;`-separated `name=value`, the value a token or a quoted string, comments skipped;
  names are lower-cased; RFC 2231 continuations (`name*0`, `name*1*`) are joined into one parameter,
  which keeps its `*` when any section is charset-encoded (`filename*` = `utf-8''%E2%82%AC.txt`), as
  Dovecot's `rfc2231_parse` does.  Anything unparsable is skipped, never raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._nstring import without_nul

__all__ = ["MAX_FIELDS", "Field", "header_end", "mime_token", "parse_parameterized", "scan_fields", "unfold"]

MAX_FIELDS = 10_000
"""Fields read from one header; the rest of a hostile header (2 MB of `X: y` lines) is not indexed, so
ENVELOPE, BODYSTRUCTURE and HEADER.FIELDS ignore it, while BODY[HEADER] still returns every octet."""

_FIELD_START = re.compile(rb"[ \t]|[\x21-\x39\x3b-\x7e]+[ \t]*:")
# A CRLF followed by a line that continues no field and starts none: the blank line, or the body.
_HEADER_STOP = re.compile(rb"\r\n(?![ \t]|[\x21-\x39\x3b-\x7e]+[ \t]*:)")
_FOLD = re.compile(rb"\r\n(?=[ \t])")
_TSPECIALS = frozenset(b'()<>@,;:\\"/[]?= \t\r\n')


@dataclass(frozen=True, slots=True)
class Field:
    """One header field: its lower-cased name and where its octets lie (final CRLF included)."""

    name: bytes
    start: int
    end: int
    value_start: int
    """The first octet after the colon."""


def header_end(content: bytes, start: int, end: int) -> int:
    """Where the header of the part in `content[start:end]` ends: the first octet of its body."""
    if end - start >= 2 and content.startswith(b"\r\n", start):
        return start + 2  # an empty header: the blank line alone
    if not _FIELD_START.match(content, start, end):
        return start  # no header at all: everything is body
    stop = _HEADER_STOP.search(content, start, end)
    if stop is None:
        return end  # the range ends inside a field line
    at = stop.start()
    if at + 4 <= end and content.startswith(b"\r\n", at + 2):
        return at + 4  # the empty line belongs to the header
    return at + 2


def scan_fields(content: bytes, start: int, end: int) -> tuple[Field, ...]:
    """Every field of the header in `content[start:end]`, in order."""
    fields: list[Field] = []
    pos = start
    current: tuple[bytes, int, int] | None = None
    while pos < end:
        eol = content.find(b"\r\n", pos, end)
        line_end = end if eol < 0 else eol + 2
        first = content[pos : pos + 1]
        if first in (b" ", b"\t"):
            pos = line_end  # a continuation: the current field grows
            continue
        if current is not None:
            fields.append(Field(name=current[0], start=current[1], end=pos, value_start=current[2]))
            current = None
            if len(fields) >= MAX_FIELDS:
                return tuple(fields)
        colon = content.find(b":", pos, line_end)
        if colon > pos:
            current = (content[pos:colon].rstrip(b" \t").lower(), pos, colon + 1)
        pos = line_end
    if current is not None:
        fields.append(Field(name=current[0], start=current[1], end=end, value_start=current[2]))
    return tuple(fields)


def unfold(raw: bytes) -> bytes:
    """A field value unfolded, stripped, NULs made spaces (no IMAP string carries a NUL)."""
    return without_nul(_FOLD.sub(b"", raw).strip(b" \t\r\n"))


def _skip_cfws(value: bytes, pos: int) -> int:
    """Past spaces, tabs and (nested) comments."""
    size = len(value)
    while pos < size:
        char = value[pos]
        if char in b" \t\r\n":
            pos += 1
        elif char == 0x28:  # "("
            depth = 0
            while pos < size:
                char = value[pos]
                if char == 0x5C:  # backslash
                    pos += 2
                    continue
                if char == 0x28:
                    depth += 1
                elif char == 0x29:
                    depth -= 1
                    if depth == 0:
                        pos += 1
                        break
                pos += 1
        else:
            break
    return pos


def _token(value: bytes, pos: int) -> tuple[bytes, int]:
    start = pos
    while pos < len(value) and value[pos] not in _TSPECIALS and value[pos] > 0x20 and value[pos] != 0x7F:
        pos += 1
    return value[start:pos], pos


def _quoted(value: bytes, pos: int) -> tuple[bytes, int]:
    """The quoted string at `value[pos] == '"'`, unescaped; an unterminated one runs to the end."""
    out = bytearray()
    pos += 1
    while pos < len(value):
        char = value[pos]
        if char == 0x22:
            return bytes(out), pos + 1
        if char == 0x5C and pos + 1 < len(value):
            pos += 1
            char = value[pos]
        out.append(char)
        pos += 1
    return bytes(out), pos


def mime_token(value: bytes) -> bytes | None:
    """The first token of a value (Content-Transfer-Encoding, a disposition type), or None."""
    token, _ = _token(value, _skip_cfws(value, 0))
    return token or None


def _parameters(value: bytes, pos: int) -> tuple[tuple[bytes, bytes], ...]:
    raw: list[tuple[bytes, bytes]] = []
    size = len(value)
    while pos < size:
        pos = _skip_cfws(value, pos)
        if pos >= size:
            break
        if value[pos] != 0x3B:  # ";" expected: skip the garbage up to the next one
            nxt = value.find(b";", pos)
            if nxt < 0:
                break
            pos = nxt
        pos = _skip_cfws(value, pos + 1)
        name, pos = _token(value, pos)
        pos = _skip_cfws(value, pos)
        if not name or pos >= size or value[pos] != 0x3D:  # "="
            continue
        pos = _skip_cfws(value, pos + 1)
        if pos < size and value[pos] == 0x22:
            text, pos = _quoted(value, pos)
        else:
            start = pos
            while pos < size and value[pos] not in b"; \t\r\n":
                pos += 1
            text = value[start:pos]
        raw.append((name.lower(), text))
    return _join_rfc2231(raw)


_SECTION = re.compile(rb"^(.+?)\*(\d+)(\*?)$")


def _join_rfc2231(raw: list[tuple[bytes, bytes]]) -> tuple[tuple[bytes, bytes], ...]:
    """RFC 2231 section 3: `name*0`, `name*1*`... joined in section order, first occurrence wins."""
    out: dict[bytes, bytes] = {}
    sections: dict[bytes, dict[int, tuple[bool, bytes]]] = {}
    order: list[bytes] = []
    for name, text in raw:
        match = _SECTION.match(name)
        if match is None:
            if name not in out and name not in sections:
                out[name] = text
                order.append(name)
            continue
        base, number, star = match.group(1), int(match.group(2)), bool(match.group(3))
        if base not in sections:
            if base in out:
                continue
            sections[base] = {}
            order.append(base)
        sections[base].setdefault(number, (star, text))
    result: list[tuple[bytes, bytes]] = []
    for name in order:
        if name in out:
            result.append((name, out[name]))
            continue
        parts = sections[name]
        joined, extended = bytearray(), False
        number = 0
        while number in parts:  # sections must be consecutive from 0
            star, text = parts[number]
            extended = extended or star
            joined += text
            number += 1
        if number:
            result.append((name + b"*" if extended else name, bytes(joined)))
    return tuple(result)


def parse_parameterized(
    value: bytes, with_subtype: bool
) -> tuple[bytes, bytes, tuple[tuple[bytes, bytes], ...]] | None:
    """`type/subtype; params` (with_subtype) or `value; params`, or None when the value is unparsable.

    Returns:
        (type, subtype, params): type and subtype as written, subtype `b""` without `with_subtype`.
    """
    pos = _skip_cfws(value, 0)
    kind, pos = _token(value, pos)
    if not kind:
        return None
    subtype = b""
    if with_subtype:
        pos = _skip_cfws(value, pos)
        if pos >= len(value) or value[pos] != 0x2F:  # "/"
            return None
        subtype, pos = _token(value, _skip_cfws(value, pos + 1))
        if not subtype:
            return None
    return kind, subtype, _parameters(value, pos)
