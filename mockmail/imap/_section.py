"""`Section`: which part of a message a `BODY[...]` / `BINARY[...]` fetch item names (RFC 9051 section 6.4.5).

The parser builds it from the client's text; the message side (`_sections.py`) cuts those octets out of
the stored message.  `str(section)` gives the form the server echoes back in the FETCH response, e.g.
`1.2.HEADER.FIELDS (SUBJECT FROM)`, and `partial` is only echoed as its origin (`BODY[]<0>`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Section", "SectionText"]


class SectionText(enum.Enum):
    """The text part of a section spec after the part numbers (RFC 9051 `section-msgtext` / `MIME`)."""

    HEADER = "HEADER"
    HEADER_FIELDS = "HEADER.FIELDS"
    HEADER_FIELDS_NOT = "HEADER.FIELDS.NOT"
    TEXT = "TEXT"
    MIME = "MIME"


@dataclass(frozen=True, slots=True)
class Section:
    """`BODY[<parts>.<text> (<fields>)]<<start>.<length>>`: every part empty or None means the whole message."""

    parts: tuple[int, ...] = ()
    """Part numbers, 1-based (`1.2` is `(1, 2)`); empty for the top-level message."""
    text: SectionText | None = None
    """HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME; None for the whole part."""
    fields: tuple[str, ...] = ()
    """Header field names for HEADER.FIELDS and HEADER.FIELDS.NOT, upper-cased, in the client's order."""
    partial: tuple[int, int] | None = None
    """`<start.length>`: the origin octet and the most octets to return."""

    def __str__(self) -> str:
        """The section spec as echoed in a FETCH response, without the partial range."""
        pieces = [str(part) for part in self.parts]
        if self.text is not None:
            pieces.append(self.text.value)
        spec = ".".join(pieces)
        if self.text in (SectionText.HEADER_FIELDS, SectionText.HEADER_FIELDS_NOT):
            spec += " (" + " ".join(self.fields) + ")"
        return spec
