"""How a transcript shows an IMAP client event: its command, with every secret redacted.

LOGIN's password, AUTHENTICATE's initial response and every line of the exchange become `********`; an
APPEND's message is summarized by its size (the transcript never keeps message content).  The session
records the parsed event, never the raw line, so nothing secret is ever kept.
"""

from __future__ import annotations

from collections.abc import Callable

from ._events import (
    Append,
    Authenticate,
    AuthenticateResponse,
    BadCommand,
    Command,
    ConnectionClosed,
    ContinuationNeeded,
    IdleDone,
    LiteralTooLarge,
    Login,
)

__all__ = ["CARRIES_CONTENT", "SECRET", "describe"]

SECRET = "********"

CARRIES_CONTENT = frozenset({Append})
"""Client events that hold message content: a transcript keeps their description only."""


def _authenticate(event: Authenticate) -> str:
    text = f"{event.tag} AUTHENTICATE {event.mechanism}"
    return text + (f" {SECRET}" if event.initial_response is not None else "")


def _append(event: Append) -> str:
    flags = f" ({' '.join(event.flags)})" if event.flags else ""
    return f"{event.tag} APPEND {event.mailbox}{flags} ({len(event.message):d} octets)"


_DESCRIBE: dict[type, Callable[..., str]] = {
    Login: lambda event: f"{event.tag} LOGIN {event.user} {SECRET}",
    Authenticate: _authenticate,
    AuthenticateResponse: lambda event: "*" if event.cancelled else SECRET,
    Append: _append,
    BadCommand: lambda event: f"{event.tag} (refused: {event.reason})",
    ContinuationNeeded: lambda event: (
        f"{event.tag} {event.verb or '?'} (literal of {event.size:d} octets announced)"
    ),
    LiteralTooLarge: lambda event: (
        f"{event.tag} {event.verb or '?'} (literal of {event.size:d} octets refused)"
    ),
    IdleDone: lambda event: "DONE",
    ConnectionClosed: lambda event: "(end of input)",
}


def describe(event: object) -> str | None:
    """The client's command as a transcript shows it, secrets redacted; None for an event not of IMAP."""
    describer = _DESCRIBE.get(type(event))
    if describer is not None:
        return describer(event)
    if isinstance(event, Command):
        verb = ("UID " if getattr(event, "uid", False) else "") + event.verb
        mailbox = getattr(event, "mailbox", None)
        numbers = getattr(event, "sequence_set", None)
        text = f"{event.tag} {verb}"
        if numbers is not None:
            text += f" {numbers}"
        if mailbox is not None:
            text += f" {mailbox}"
        return text
    return None
