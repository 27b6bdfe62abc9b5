"""The checks every way a message comes in applies: the REST API (JSON, raw, mbox) and the TOML config.

One function per rule, so that no way in can skip one:
- `check_raw`: the bytes are an RFC 5322 message (its first line is a header field), CRLF-normalized, and
  within the size limit;
- `check_size`: a composed message is within the size limit.
Errors are `DomainError`s naming the offending input, so the REST layer answers them as problem documents
and the config loader turns them into start-up errors naming the entry.
"""

from __future__ import annotations

from .errors import InvalidInput, MessageTooLarge
from .headers import looks_like_message
from .pop3 import normalize_crlf

__all__ = ["check_raw", "check_size"]


def check_size(content: bytes, limit: int, field: str) -> bytes:
    """`content` itself, if it is at most `limit` octets.

    Raises:
        MessageTooLarge: it is larger.
    """
    if len(content) > limit:
        raise MessageTooLarge(f"the message is {len(content)} octets, over the limit of {limit}", field=field)
    return content


def check_raw(raw: bytes, limit: int, field: str) -> bytes:
    """The message CRLF-normalized (the mailbox then stores it without copying it again), if it is one.

    Raises:
        InvalidInput: `raw` is not an RFC 5322 message.
        MessageTooLarge: its CRLF form is over `limit` octets.
    """
    problem = looks_like_message(raw)
    if problem:
        raise InvalidInput(f"not an RFC 5322 message: {problem}", field=field)
    return check_size(normalize_crlf(raw), limit, field)
