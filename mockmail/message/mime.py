"""A stored message read as a person reads it: its text and HTML bodies and its attachments.

Python's `email` package with the default policy does the MIME work (multipart, transfer encodings,
charsets, RFC 2231 file names); a part it cannot decode is given as text with replacement characters,
never as an error, since a mock server holds whatever a client sent.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage, Message

import msgspec

__all__ = ["AttachmentInfo", "MessageParts", "attachment", "bodies", "parts"]


class AttachmentInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An attachment of a message; `index` addresses it for download."""

    index: int
    filename: str | None
    content_type: str
    size: int
    """Octets once decoded."""


class MessageParts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A message's bodies, decoded to text, and its attachments."""

    text: str | None
    """The text/plain body, its lines ending in LF; null when the message has none."""
    html: str | None
    """The text/html body; null when the message has none.  Show it sandboxed: it is as the sender wrote it."""
    attachments: list[AttachmentInfo]


def _parse(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _text(part: Message | None) -> str | None:
    if part is None:
        return None
    try:
        value = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, AssertionError, ValueError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        value = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else None
    return value.replace("\r\n", "\n") if isinstance(value, str) else None  # lines end in LF, as text does


def _attachments(message: EmailMessage) -> list[Message]:
    return list(message.iter_attachments()) if message.is_multipart() else []


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def parts(content: bytes) -> MessageParts:
    message = _parse(content)
    found = _attachments(message)
    return MessageParts(
        text=_text(message.get_body(("plain",))),
        html=_text(message.get_body(("html",))),
        attachments=[
            AttachmentInfo(
                index=index,
                filename=part.get_filename(),
                content_type=part.get_content_type(),
                size=len(_payload(part)),
            )
            for index, part in enumerate(found)
        ],
    )


def bodies(content: bytes) -> tuple[str | None, str | None]:
    """The text/plain and text/html bodies of `content`, decoded as `parts` gives them (attachments left alone)."""
    message = _parse(content)
    return _text(message.get_body(("plain",))), _text(message.get_body(("html",)))


def attachment(content: bytes, index: int) -> tuple[bytes, str, str | None] | None:
    """Attachment `index` decoded: its octets, content type and file name; None when there is no such one."""
    found = _attachments(_parse(content))
    if not 0 <= index < len(found):
        return None
    part = found[index]
    return _payload(part), part.get_content_type(), part.get_filename()
