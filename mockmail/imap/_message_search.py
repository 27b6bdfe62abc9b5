"""SEARCH over a message's content (RFC 9051 section 6.4.4): header fields, BODY, TEXT and the SENT* dates.

Rules kept:
- Matching is a case-insensitive substring test (Unicode case folding) on text: header values unfolded
  and RFC 2047-decoded; bodies of text/* parts decoded from their transfer encoding and charset (an
  unknown charset or encoding is read as UTF-8 with replacement, never an error).  The caller gives the
  search string as text (the parser decodes it from the command's CHARSET, UTF-8 or US-ASCII).
- FROM, TO, CC, BCC, SUBJECT and HEADER name the top-level header; every occurrence of the field is
  searched; an empty string matches every message that has the field (RFC 9051 "HEADER").
- BODY searches the text parts, encapsulated messages' included; TEXT searches the header and the body.
- SENTBEFORE/SENTON/SENTSINCE compare the Date field's date as written, in its own zone, disregarding the
  time (RFC 9051); a message without a readable Date matches none of them.
"""

from __future__ import annotations

import contextlib
import datetime
import email.errors
import email.header

from ._dates import parse_date
from ._headers import unfold
from ._mime_tree import MessageView, MimePart
from ._sections import UnknownCteError, decode_body

__all__ = [
    "body_contains",
    "decode_words",
    "header_contains",
    "header_values",
    "part_text",
    "sent_date",
    "text_contains",
]


def decode_words(value: bytes) -> str:
    """An unfolded header value as text: RFC 2047 encoded words decoded, raw octets read as UTF-8."""
    text = value.decode("utf-8", "replace")
    if "=?" not in text:
        return text
    with contextlib.suppress(ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        pieces: list[str] = []
        for chunk, charset in email.header.decode_header(text):
            if isinstance(chunk, str):
                pieces.append(chunk)
                continue
            try:
                pieces.append(chunk.decode(charset or "utf-8", "replace"))
            except LookupError:
                pieces.append(chunk.decode("utf-8", "replace"))
        return "".join(pieces)
    return text


def header_values(view: MessageView, name: str) -> list[str]:
    """The decoded values of every `name` field of the message header, in order."""
    key = name.lower().encode("ascii", "replace")
    content = view.content
    return [decode_words(unfold(content[f.value_start : f.end])) for f in view.tree.fields if f.name == key]


def header_contains(view: MessageView, name: str, needle: str) -> bool:
    """SEARCH HEADER name needle (and FROM, TO, CC, BCC, SUBJECT)."""
    folded = needle.casefold()
    return any(folded in value.casefold() for value in header_values(view, name))


def part_text(view: MessageView, part: MimePart) -> str:
    """The body of a leaf part decoded from its transfer encoding and charset."""
    raw = view.content[part.body_start : part.end]
    try:
        data = decode_body(raw, part.encoding)
    except UnknownCteError:
        data = raw
    charset = (part.param(b"charset") or b"utf-8").decode("ascii", "replace").strip()
    try:
        return data.decode(charset or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def body_contains(view: MessageView, needle: str) -> bool:
    """SEARCH BODY needle: in the decoded text of some text/* part."""
    folded = needle.casefold()
    for part in view.tree.walk():
        if (
            part.is_text
            and not part.children
            and part.message is None
            and folded in part_text(view, part).casefold()
        ):
            return True
    return False


def text_contains(view: MessageView, needle: str) -> bool:
    """SEARCH TEXT needle: in the decoded header (names and values) or the body."""
    folded = needle.casefold()
    content = view.content
    for field in view.tree.fields:
        line = content[field.start : field.value_start].decode("ascii", "replace") + " "
        if folded in (line + decode_words(unfold(content[field.value_start : field.end]))).casefold():
            return True
    return body_contains(view, needle)


def sent_date(view: MessageView) -> datetime.date | None:
    """The date of the Date field as written (its own zone), for SENTBEFORE, SENTON and SENTSINCE."""
    envelope = view.tree.envelope
    moment = parse_date(envelope.date if envelope is not None else None)
    return moment.date() if moment is not None else None
