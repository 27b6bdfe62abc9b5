"""How a transcript shows an SMTP client event: its command line, secrets redacted, content summarized.

AUTH initial responses and SASL lines become `********`; DATA and BDAT content is described by its size,
never kept (`CARRIES_CONTENT`).
"""

from __future__ import annotations

from collections.abc import Callable

from ._events import Auth, AuthResponse, BadCommand, Bdat, Command, Ehlo, Helo, Mail, MessageData, Rcpt, Vrfy

__all__ = ["CARRIES_CONTENT", "SECRET", "describe"]

SECRET = "********"

CARRIES_CONTENT = frozenset({MessageData, Bdat})
"""Client events that hold message content: a transcript keeps their description only."""


def _params(params: dict[str, str | None]) -> str:
    return "".join(f" {key}" if value is None else f" {key}={value}" for key, value in params.items())


def _auth(event: Auth) -> str:
    return f"AUTH {event.mechanism}" + (f" {SECRET}" if event.initial_response is not None else "")


def _message(event: MessageData) -> str:
    return f"(message: {event.size:d} octets" + (f", refused: {event.problem})" if event.problem else ")")


_DESCRIBE: dict[type, Callable[..., str]] = {
    Ehlo: lambda event: f"EHLO {event.domain}",
    Helo: lambda event: f"HELO {event.domain}",
    Mail: lambda event: f"MAIL FROM:<{event.address}>{_params(event.params)}",
    Rcpt: lambda event: f"RCPT TO:<{event.address}>{_params(event.params)}",
    MessageData: _message,
    Bdat: lambda event: f"BDAT {event.size:d}{' LAST' if event.last else ''}",
    Vrfy: lambda event: f"VRFY {event.argument}",
    Auth: _auth,
    AuthResponse: lambda event: "*" if event.cancelled else SECRET,
    BadCommand: lambda event: f"(refused: {event.reason})",
}


def describe(event: object) -> str | None:
    """The client's line as a transcript shows it, secrets redacted; None for an event not of SMTP."""
    describer = _DESCRIBE.get(type(event))
    if describer is not None:
        return describer(event)
    if isinstance(event, Command):
        return event.verb
    return None
