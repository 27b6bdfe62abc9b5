"""IMAP string forms (RFC 9051 section 4.3): NIL, atom, quoted string and literal, as exact octets.

- A quoted string holds only TEXT-CHARs of 7 bits (no CR, LF or NUL) and escapes `"` and `\\`;
  anything else (CR, LF, 8-bit octets) goes as a literal `{n}CRLF...`, as Dovecot's `imap_append_nstring`.
- NUL can be carried by neither (only by `literal8`, RFC 3516): every function here refuses it, so a
  caller that may hold NULs (a hostile header) must replace them first (`without_nul`).
- `astring` gives a bare atom only when the text is ASTRING-CHARs and is not `NIL` in any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["astring", "literal", "nstring", "quoted", "string", "string_list", "without_nul"]

_NEEDS_LITERAL = re.compile(rb"[\r\n\x80-\xff]")
# ASTRING-CHAR = ATOM-CHAR / resp-specials; ATOM-CHAR is any CHAR except atom-specials
# ( "(" / ")" / "{" / SP / CTL / list-wildcards "%" "*" / quoted-specials `"` `\` / resp-specials "]" ).
_NOT_ASTRING = re.compile(rb'[^\x21-\x7e]|[(){%*"\\]')


def without_nul(value: bytes) -> bytes:
    """`value` with each NUL turned into a space: no IMAP string but `literal8` can carry a NUL."""
    return value.replace(b"\x00", b" ") if b"\x00" in value else value


def _check(value: bytes) -> None:
    if b"\x00" in value:
        raise ValueError("an IMAP string cannot carry NUL")


def quoted(value: bytes) -> bytes:
    """`"value"` with `"` and `\\` escaped.

    Raises:
        ValueError: `value` holds CR, LF, NUL or an 8-bit octet, which a quoted string cannot carry.
    """
    _check(value)
    if _NEEDS_LITERAL.search(value):
        raise ValueError("a quoted string carries no CR, LF or 8-bit octet")
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def literal(value: bytes) -> bytes:
    """`{n}CRLF` and the octets of `value` (synchronizing form, as a server sends it).

    Raises:
        ValueError: `value` holds NUL.
    """
    _check(value)
    return b"{%d}\r\n" % len(value) + value


def string(value: bytes) -> bytes:
    """A quoted string when `value` fits one, else a literal."""
    _check(value)
    if _NEEDS_LITERAL.search(value):
        return literal(value)
    return quoted(value)


def nstring(value: bytes | None) -> bytes:
    """`NIL` for None, else `string(value)`."""
    return b"NIL" if value is None else string(value)


def astring(value: bytes) -> bytes:
    """A bare atom when `value` is non-empty ASTRING-CHARs other than `NIL`, else `string(value)`."""
    if value and not _NOT_ASTRING.search(value) and value.upper() != b"NIL":
        return value
    return string(value)


def string_list(values: Iterable[bytes]) -> bytes:
    """`(s1 s2 ...)` of strings; `NIL` when there are none."""
    items = [string(value) for value in values]
    return b"(" + b" ".join(items) + b")" if items else b"NIL"
