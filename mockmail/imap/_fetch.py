"""FETCH data items (RFC 9051 section 6.4.5, RFC 3501 section 6.4.5, RFC 3516 BINARY).

`FetchAttribute(kind, section, peek)` is one item a client asked for; `response_name` is how the server
names it back in the FETCH response (`BODY.PEEK[1]<0.10>` is answered as `BODY[1]<0>`).  The macros
ALL, FAST and FULL expand here (RFC 3501 section 6.4.5), so the server only sees plain items.

Section grammar (`section-spec`): part numbers `1.2.3`, then HEADER, HEADER.FIELDS (names),
HEADER.FIELDS.NOT (names), TEXT, or (after part numbers only) MIME; BINARY takes part numbers only.  A
partial `<start.length>` has a non-zero length and is allowed on BODY[...] and BINARY[...], never on
BINARY.SIZE.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from ._reader import ParseError, Reader
from ._section import Section, SectionText

__all__ = ["MACROS", "FetchAttribute", "FetchKind", "parse_fetch_attributes"]


class FetchKind(enum.Enum):
    """What a FETCH item asks for; the value is its name on the wire."""

    FLAGS = "FLAGS"
    INTERNALDATE = "INTERNALDATE"
    RFC822_SIZE = "RFC822.SIZE"
    RFC822 = "RFC822"
    RFC822_HEADER = "RFC822.HEADER"
    RFC822_TEXT = "RFC822.TEXT"
    ENVELOPE = "ENVELOPE"
    BODY = "BODY"
    """The non-extensible BODYSTRUCTURE (no section)."""
    BODYSTRUCTURE = "BODYSTRUCTURE"
    UID = "UID"
    BODY_SECTION = "BODY[]"
    BINARY = "BINARY[]"
    BINARY_SIZE = "BINARY.SIZE[]"
    MODSEQ = "MODSEQ"


@dataclass(frozen=True, slots=True)
class FetchAttribute:
    """One FETCH item; `section` is set for BODY[...], BINARY[...] and BINARY.SIZE[...]."""

    kind: FetchKind
    section: Section | None = None
    peek: bool = False
    """BODY.PEEK / BINARY.PEEK: do not set \\Seen."""

    @property
    def response_name(self) -> str:
        """The item's name in the FETCH response, e.g. `BODY[HEADER.FIELDS (FROM)]<0>`."""
        if self.section is None:
            return self.kind.value
        name = self.kind.value[:-2] + "[" + str(self.section) + "]"
        if self.section.partial is not None:
            name += f"<{self.section.partial[0]:d}>"
        return name

    @property
    def sets_seen(self) -> bool:
        """Fetching this item sets \\Seen (RFC 9051 section 6.4.5): BODY[...], BINARY[...], RFC822, .TEXT."""
        if self.kind in (FetchKind.BODY_SECTION, FetchKind.BINARY):
            return not self.peek
        return self.kind in (FetchKind.RFC822, FetchKind.RFC822_TEXT)


_SIMPLE = {
    kind.value: FetchAttribute(kind)
    for kind in (
        FetchKind.FLAGS,
        FetchKind.INTERNALDATE,
        FetchKind.RFC822_SIZE,
        FetchKind.RFC822,
        FetchKind.RFC822_HEADER,
        FetchKind.RFC822_TEXT,
        FetchKind.ENVELOPE,
        FetchKind.BODYSTRUCTURE,
        FetchKind.UID,
        FetchKind.MODSEQ,
    )
}
_FAST = (_SIMPLE["FLAGS"], _SIMPLE["INTERNALDATE"], _SIMPLE["RFC822.SIZE"])
MACROS: dict[str, tuple[FetchAttribute, ...]] = {
    "FAST": _FAST,
    "ALL": (*_FAST, _SIMPLE["ENVELOPE"]),
    "FULL": (*_FAST, _SIMPLE["ENVELOPE"], FetchAttribute(FetchKind.BODY)),
}
_SECTION_END = frozenset(b"]. ")
_FIELD_NAME_CHARS = frozenset(range(33, 127)) - {ord(":")}
"""RFC 5322 section 3.6.8 `ftext`: printable US-ASCII except colon."""


def _field_name(r: Reader) -> str:
    name = r.astring("a header field name")
    if not name or any(ord(ch) not in _FIELD_NAME_CHARS for ch in name):
        raise ParseError(f"'{name[:30]}' is not a header field name (RFC 5322 ftext)")
    return name.upper()


def _parts(r: Reader) -> list[int]:
    parts: list[int] = []
    while r.peek() is not None and ord("0") <= r.text[r.pos] <= ord("9"):
        parts.append(r.nz_number("a section part number"))
        if not r.maybe("."):
            break
        if r.peek() is not None and not ord("0") <= r.text[r.pos] <= ord("9"):
            r.pos -= 1  # the dot belongs to the text after the part numbers
            break
    return parts


def _section(r: Reader, binary: bool) -> Section:
    r.expect("[", "to open a section")
    parts = _parts(r)
    text: SectionText | None = None
    fields: tuple[str, ...] = ()
    dotted = bool(parts) and r.maybe(".")
    if parts and not dotted and not r.peek_is("]"):
        raise ParseError(f"expected '.' or ']' after section part numbers at octet {r.pos:d}")
    if dotted and r.peek_is("]"):
        raise ParseError(f"expected a section text after '.' at octet {r.pos:d}")
    if not r.peek_is("]"):
        if binary:
            raise ParseError("a BINARY section holds part numbers only")
        start = r.pos
        while not r.at_end() and r.text[r.pos] not in _SECTION_END:
            r.pos += 1
        if r.maybe("."):  # HEADER.FIELDS / HEADER.FIELDS.NOT
            while not r.at_end() and r.text[r.pos] not in b"] ":
                r.pos += 1
        name = r.text[start : r.pos].decode("ascii", "replace").upper()
        try:
            text = SectionText(name)
        except ValueError:
            raise ParseError(f"unknown section text '{name[:30]}'") from None
        if text is SectionText.MIME and not parts:
            raise ParseError("MIME needs part numbers (section-part \".MIME\")")
        if text in (SectionText.HEADER_FIELDS, SectionText.HEADER_FIELDS_NOT):
            r.sp()
            r.expect("(", "to open the header field list")
            names = [_field_name(r)]
            while not r.maybe(")"):
                r.sp()
                names.append(_field_name(r))
            fields = tuple(names)
    r.expect("]", "to close a section")
    partial = None
    if r.maybe("<"):
        start_octet = r.number("a partial start", limit=9_223_372_036_854_775_807)
        r.expect(".", "between the partial start and length")
        length = r.nz_number("a partial length")
        r.expect(">", "to close a partial range")
        partial = (start_octet, length)
    return Section(tuple(parts), text, fields, partial)


_ITEM_NAME = re.compile(rb"[^ ()\[]*")
"""A fetch item's name runs to a space, a parenthesis, a section's `[` or the end."""


def _attribute(r: Reader) -> FetchAttribute:
    start = r.pos
    r.pos = _ITEM_NAME.match(r.text, start).end()  # type: ignore[union-attr]  # it matches the empty text
    name = r.text[start : r.pos].decode("ascii", "replace").upper()
    if not name:
        raise ParseError(f"expected a fetch item at octet {start:d}")
    if r.peek_is("["):
        if name in ("BODY", "BODY.PEEK"):
            return FetchAttribute(FetchKind.BODY_SECTION, _section(r, False), name == "BODY.PEEK")
        if name in ("BINARY", "BINARY.PEEK"):
            return FetchAttribute(FetchKind.BINARY, _section(r, True), name == "BINARY.PEEK")
        if name == "BINARY.SIZE":
            section = _section(r, True)
            if section.partial is not None:
                raise ParseError("BINARY.SIZE takes no partial range")
            return FetchAttribute(FetchKind.BINARY_SIZE, section)
        raise ParseError(f"'{name[:20]}' takes no section")
    if name == "BODY":
        return FetchAttribute(FetchKind.BODY)
    simple = _SIMPLE.get(name)
    if simple is None:
        raise ParseError(f"unknown fetch item '{name[:20]}'")
    return simple


def parse_fetch_attributes(r: Reader) -> tuple[FetchAttribute, ...]:
    """A macro, one item, or a parenthesised list of items."""
    if r.maybe("("):
        items = [_attribute(r)]
        while not r.maybe(")"):
            r.sp()
            items.append(_attribute(r))
        return tuple(items)
    for macro, expansion in MACROS.items():
        if r.peek_keyword(macro):
            r.pos += len(macro)
            return expansion
    return (_attribute(r),)
