"""ENVELOPE (RFC 9051 section 7.5.2, RFC 3501 section 7.4.2): a message's header as ten fields, and its octets.

Rules kept:
- date, subject, in-reply-to and message-id are the raw field text, unfolded, RFC 2047 encoded words left
  as they are; the first occurrence counts; a field that is absent is NIL, one that is empty is `""`.
- from, sender, reply-to, to, cc, bcc are address lists (`_addresses.py`); every occurrence of a field is
  read, as if comma-joined (Dovecot does so, so that a second From is not hidden); no address is NIL.
- sender and reply-to default to from when absent or empty (RFC 9051: "If the Sender or Reply-To lines
  are absent in the [RFC-5322] header, or are present but empty, the server sets the corresponding member
  of the envelope to be the same value as the from member").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._addresses import Address, parse_addresses
from ._headers import Field, unfold
from ._nstring import nstring

__all__ = ["MAX_ADDRESS_OCTETS", "Envelope", "build_envelope", "write_addresses", "write_envelope"]

MAX_ADDRESS_OCTETS = 64 * 1024
"""Octets of address fields read per header, all fields together (a thousand recipients fit in 40 KiB);
the address parser is pure Python, so a hostile 10 MB To field must not cost seconds per message."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """The ten ENVELOPE members; an empty address tuple is written NIL."""

    date: bytes | None
    subject: bytes | None
    from_: tuple[Address, ...]
    sender: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    in_reply_to: bytes | None
    message_id: bytes | None


_STRINGS = {
    b"date": "date",
    b"subject": "subject",
    b"in-reply-to": "in_reply_to",
    b"message-id": "message_id",
}
_LISTS = {
    b"from": "from_",
    b"sender": "sender",
    b"reply-to": "reply_to",
    b"to": "to",
    b"cc": "cc",
    b"bcc": "bcc",
}


def build_envelope(content: bytes, fields: Sequence[Field]) -> Envelope:
    """The envelope of the message whose header fields are `fields` (offsets into `content`)."""
    strings: dict[str, bytes] = {}
    lists: dict[str, list[Address]] = {name: [] for name in _LISTS.values()}
    budget = MAX_ADDRESS_OCTETS
    for field in fields:
        key = _STRINGS.get(field.name)
        if key is not None:
            if key not in strings:
                strings[key] = unfold(content[field.value_start : field.end])
            continue
        key = _LISTS.get(field.name)
        if key is not None and budget > 0:
            value = unfold(content[field.value_start : min(field.end, field.value_start + budget)])
            budget -= field.end - field.value_start
            lists[key].extend(parse_addresses(value))
    from_ = tuple(lists["from_"])
    return Envelope(
        date=strings.get("date"),
        subject=strings.get("subject"),
        from_=from_,
        sender=tuple(lists["sender"]) or from_,
        reply_to=tuple(lists["reply_to"]) or from_,
        to=tuple(lists["to"]),
        cc=tuple(lists["cc"]),
        bcc=tuple(lists["bcc"]),
        in_reply_to=strings.get("in_reply_to"),
        message_id=strings.get("message_id"),
    )


def write_addresses(addresses: Sequence[Address]) -> bytes:
    """`((name adl mailbox host)...)`, or NIL for none."""
    if not addresses:
        return b"NIL"
    return (
        b"("
        + b"".join(
            b"(" + b" ".join((nstring(a.name), nstring(a.adl), nstring(a.mailbox), nstring(a.host))) + b")"
            for a in addresses
        )
        + b")"
    )


def write_envelope(envelope: Envelope) -> bytes:
    """The ENVELOPE value, parentheses included: `("date" "subject" ((...)) ... "<id>")`."""
    return (
        b"("
        + b" ".join(
            (
                nstring(envelope.date),
                nstring(envelope.subject),
                write_addresses(envelope.from_),
                write_addresses(envelope.sender),
                write_addresses(envelope.reply_to),
                write_addresses(envelope.to),
                write_addresses(envelope.cc),
                write_addresses(envelope.bcc),
                nstring(envelope.in_reply_to),
                nstring(envelope.message_id),
            )
        )
        + b")"
    )
