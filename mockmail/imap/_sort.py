"""SORT keys (RFC 5256 section 3, RFC 5957 DISPLAY) of a message, and the base subject (RFC 5256 section 2.1).

Each key is the value the server compares; text keys come as octets already mapped by i;ascii-casemap
(ASCII letters upper-cased, every other octet of the UTF-8 kept), so plain `bytes` ordering is the
comparator.  ARRIVAL (the internal date) and SIZE the caller has; ties are broken by sequence number.

- DATE: the Date field as a moment, else the internal date, in UTC (epoch seconds).
- FROM, TO, CC: the addr-mailbox (local part) of the first address of the field; empty when none.
- DISPLAY FROM/TO (RFC 5957): the display name of the first address, RFC 2047-decoded, when not empty,
  else its addr-spec `mailbox@host`.
- SUBJECT: the base subject: encoded words decoded, white space collapsed, `Re:`/`Fwd:`/`[blob]` leaders,
  `(fwd)` trailers and `[fwd: ...]` wrappers removed, as RFC 5256 section 2.1 spells out.
"""

from __future__ import annotations

import re

from ._addresses import Address
from ._dates import parse_date
from ._message_search import decode_words
from ._mime_tree import MessageView

__all__ = [
    "ascii_casemap",
    "base_subject",
    "sort_cc",
    "sort_date",
    "sort_display_from",
    "sort_display_to",
    "sort_from",
    "sort_subject",
    "sort_to",
]

_LOWER_TO_UPPER = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SPACES = re.compile(r"[ \t\r\n]+")
_TRAILER = re.compile(r"(?:\(fwd\)|[ \t])+$", re.IGNORECASE)
_BLOB = r"\[[^\[\]]*\][ \t]*"
_LEADER = re.compile(rf"^(?:(?:{_BLOB})*(?:re|fwd?)[ \t]*(?:{_BLOB})?:|[ \t])+", re.IGNORECASE)
_LEADING_BLOB = re.compile(rf"^{_BLOB}")


def ascii_casemap(text: str) -> bytes:
    """`text` in UTF-8 with ASCII letters upper-cased: the i;ascii-casemap comparison key (RFC 4790)."""
    return text.encode("utf-8", "surrogatepass").translate(_LOWER_TO_UPPER)


def base_subject(subject: str) -> str:
    """The RFC 5256 section 2.1 base subject of an already decoded subject."""
    text = _SPACES.sub(" ", subject)  # step 1 (decoding is the caller's)
    while True:
        text = _TRAILER.sub("", text)  # step 2
        while True:  # steps 3 to 5
            stripped = _LEADER.sub("", text)
            blob = _LEADING_BLOB.match(stripped)
            if blob is not None and stripped[blob.end() :]:
                stripped = stripped[blob.end() :]
            if stripped == text:
                break
            text = stripped
        # step 6: "[fwd: ...]" around the whole subject
        if text[:5].lower() == "[fwd:" and text.endswith("]"):
            text = text[5:-1]
            continue
        return text


def sort_subject(view: MessageView) -> bytes:
    envelope = view.tree.envelope
    raw = envelope.subject if envelope is not None else None
    return ascii_casemap(base_subject(decode_words(raw))) if raw else b""


def sort_date(view: MessageView, internal_date: float) -> float:
    """The Date field as UTC epoch seconds, or `internal_date` when it has none that can be read."""
    envelope = view.tree.envelope
    moment = parse_date(envelope.date if envelope is not None else None)
    return moment.timestamp() if moment is not None else internal_date


def _first(addresses: tuple[Address, ...]) -> Address | None:
    return next((a for a in addresses if not a.is_group_marker), None)


def _mailbox(addresses: tuple[Address, ...]) -> bytes:
    address = _first(addresses)
    if address is None or address.mailbox is None:
        return b""
    return address.mailbox.translate(_LOWER_TO_UPPER)


def sort_from(view: MessageView) -> bytes:
    envelope = view.tree.envelope
    return _mailbox(envelope.from_) if envelope is not None else b""


def sort_to(view: MessageView) -> bytes:
    envelope = view.tree.envelope
    return _mailbox(envelope.to) if envelope is not None else b""


def sort_cc(view: MessageView) -> bytes:
    envelope = view.tree.envelope
    return _mailbox(envelope.cc) if envelope is not None else b""


def _display(addresses: tuple[Address, ...]) -> bytes:
    address = _first(addresses)
    if address is None:
        return b""
    name = decode_words(address.name).strip() if address.name else ""
    if name:
        return ascii_casemap(name)
    return ascii_casemap(decode_words((address.mailbox or b"") + b"@" + (address.host or b"")))


def sort_display_from(view: MessageView) -> bytes:
    envelope = view.tree.envelope
    return _display(envelope.from_) if envelope is not None else b""


def sort_display_to(view: MessageView) -> bytes:
    envelope = view.tree.envelope
    return _display(envelope.to) if envelope is not None else b""
