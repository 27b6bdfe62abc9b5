"""Arguments several command parsers share: the parse context and mailbox names.

Rules kept here: a mailbox name is decoded from modified UTF-7 for IMAP4rev1 clients and taken as UTF-8
once the client has enabled IMAP4rev2 or UTF8=ACCEPT; it may hold no control character (RFC 9051 section
5.1); `INBOX` is case-insensitive and always comes out as `INBOX`.
"""

from __future__ import annotations

from ._mutf7 import MUtf7Error, decode_mutf7
from ._reader import ParseError, Reader

__all__ = ["Context", "decode_name", "read_list_mailbox", "read_mailbox"]


class Context:
    """What a command parser needs besides the text: the tag, and whether names are UTF-8."""

    __slots__ = ("tag", "utf8")

    def __init__(self, tag: str, utf8: bool) -> None:
        self.tag = tag
        self.utf8 = utf8


def decode_name(raw: bytes, utf8: bool) -> str:
    """A mailbox name (or LIST reference or pattern) as Unicode, by the session's encoding."""
    if utf8:
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("mailbox name is not valid UTF-8") from None
    else:
        try:
            name = decode_mutf7(raw)
        except MUtf7Error as exc:
            raise ParseError(f"mailbox name is not modified UTF-7 (RFC 3501 section 5.1.3): {exc}") from None
    if any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in name):
        raise ParseError("mailbox name contains a control character (RFC 9051 section 5.1)")
    return "INBOX" if name.upper() == "INBOX" else name


def read_mailbox(r: Reader, ctx: Context) -> str:
    """`mailbox` = astring, decoded."""
    return decode_name(r.astring_bytes(), ctx.utf8)


def read_list_mailbox(r: Reader, ctx: Context) -> str:
    """`list-mailbox`: like a mailbox, but `%` and `*` may stand unquoted."""
    return decode_name(r.list_mailbox_bytes(), ctx.utf8)
