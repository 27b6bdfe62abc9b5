"""How a transcript shows a POP3 client event: its command line, with every secret redacted.

PASS, APOP digests, AUTH initial responses and SASL lines become `********`; the session records the
parsed event, never the raw line, so nothing secret is ever kept.
"""

from __future__ import annotations

from collections.abc import Callable

from ._events import Apop, Auth, BadCommand, Command, List, Pass, SaslResponse, Top, Uidl, User

__all__ = ["SECRET", "describe"]

SECRET = "********"


def _auth(event: Auth) -> str:
    if event.mechanism is None:
        return "AUTH"
    return f"AUTH {event.mechanism}" + (f" {SECRET}" if event.initial_response is not None else "")


def _optional_msg(event: List | Uidl) -> str:
    return event.verb if event.msg is None else f"{event.verb} {event.msg:d}"


_DESCRIBE: dict[type, Callable[..., str]] = {
    User: lambda event: f"USER {event.name}",
    Pass: lambda event: f"PASS {SECRET}",
    Apop: lambda event: f"APOP {event.name} {SECRET}",
    Auth: _auth,
    SaslResponse: lambda event: "*" if event.cancelled else SECRET,
    BadCommand: lambda event: f"(refused: {event.reason})",
    List: _optional_msg,
    Uidl: _optional_msg,
    Top: lambda event: f"TOP {event.msg:d} {event.lines:d}",
}


def describe(event: object) -> str | None:
    """The client's line as a transcript shows it, secrets redacted; None for an event not of POP3."""
    describer = _DESCRIBE.get(type(event))
    if describer is not None:
        return describer(event)
    if isinstance(event, Command):
        msg = getattr(event, "msg", None)
        return event.verb if msg is None else f"{event.verb} {msg:d}"
    return None
