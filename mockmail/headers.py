"""Reading the few header fields the control API lists (Subject, From, Date, Message-ID).

Only the header block is parsed, once, when a message is stored; RFC 2047 encoded words are decoded.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass

__all__ = ["HeaderSummary", "header_block", "looks_like_message", "summarize"]

_PARSER = email.parser.BytesHeaderParser(policy=email.policy.default)


@dataclass(frozen=True, slots=True)
class HeaderSummary:
    subject: str
    sender: str
    date: str
    message_id: str


def header_block(content: bytes) -> bytes:
    end = content.find(b"\r\n\r\n")
    return content if end < 0 else content[: end + 2]


def _field(msg: email.message.Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not stop a message from being stored
        return ""
    return "" if value is None else " ".join(str(value).split())


def summarize(content: bytes) -> HeaderSummary:
    msg = _PARSER.parsebytes(header_block(content))
    return HeaderSummary(
        subject=_field(msg, "Subject"),
        sender=_field(msg, "From"),
        date=_field(msg, "Date"),
        message_id=_field(msg, "Message-ID"),
    )


def looks_like_message(raw: bytes) -> str | None:
    """Return why `raw` is not an RFC 5322 message, or None when its first line is a header field."""
    if not raw.strip():
        return "the message is empty"
    first = raw.split(b"\n", 1)[0].rstrip(b"\r")
    name, colon, _ = first.partition(b":")
    if not colon or not name or any(not 33 <= byte <= 126 or byte == 58 for byte in name):
        return "the first line is not a header field (RFC 5322 section 2.2: 'Name: value')"
    return None
