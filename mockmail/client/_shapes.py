"""Message shapes that real servers hand out and real clients trip on, built as raw bytes to seed with
`Client.add_messages(tenant, user, data, "message/rfc822")` (stored as given, never re-encoded).

A shape is a property of the mail, not of the server, so it is seeded, not switched on in a fault plan.
"""

from __future__ import annotations

__all__ = ["POPLIB_MAXLINE", "long_line_message"]

POPLIB_MAXLINE = 2048
"""Python poplib's `_MAXLINE`: a longer line raises `error_proto('line too long')` (odoo issue 10920)."""


def long_line_message(
    octets: int = 4096,
    *,
    sender: str = "sender@mockmail.test",
    to: str = "user@mockmail.test",
    subject: str = "one long line",
) -> bytes:
    """A message whose body holds one line of `octets` octets (CRLF not counted), beyond RFC 5322's 998
    on purpose: HTML mail from some generators comes as one unwrapped line, and POP3 sends it as it is.

    The default, 4096, breaks poplib (`POPLIB_MAXLINE`) in RETR and in TOP with enough lines."""
    if octets < 1:
        raise ValueError("octets must be at least 1")
    pattern = b"0123456789abcdefghijklmnopqrstuvwxyz"
    line = (pattern * (octets // len(pattern) + 1))[:octets]
    head = f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
    head += "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    return head.encode("ascii") + line + b"\r\nthe line after it\r\n"
