"""How a tenant and a mailbox look from outside: the structs the control API answers with.

`TenantView` has an endpoint per listener of every registered protocol (`pop3`, `pop3s`, `smtp`, ...) and
each protocol's own options (`smtp_auth`, ...), made from `mockmail.protocols` like `TenantSpec`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec

from ..protocols import LISTENERS, PROTOCOLS, with_protocol_fields
from .specs import Endpoint, TenantLimits

__all__ = ["MailboxView", "TenantCreated", "TenantToken", "TenantView", "TenantViewBase"]


class TenantViewBase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tenant as it runs: where its listeners are and what it holds.  Each listener of every protocol
    is an endpoint named for it (`pop3`, `pop3s`, `smtp`, `smtps`, ...); an implicit-TLS one is null when
    the server runs without TLS."""

    name: str
    state: Literal["running", "failed"]
    """`failed`: a listener died after start; the tenant serves nothing until deleted (see `failure`)."""
    catch_all: str | None
    exclusive_sessions: bool
    max_sessions: int
    """Concurrent sessions allowed, every protocol together."""
    limits: TenantLimits
    """The limits in force: the tenant's own, else the server's defaults (null: no limit)."""
    mailboxes: int
    sessions: int
    """Sessions open right now, every protocol."""
    failure: str | None
    """Why a listener stopped, if one did."""
    worker: int
    """The worker process that owns the tenant (`--workers`; 0 when the server runs alone)."""
    replica: str | None = None
    """The replica that owns and serves the tenant (`--replica-id`); null for a server without `--store`."""

    def endpoint(self, listener: str) -> Endpoint | None:
        """The endpoint of a listener by its name (`pop3`, `smtps`, ...); None when it is not open."""
        found: Endpoint | None = getattr(self, listener)
        return found

    def option(self, name: str) -> Any:
        """A protocol's own tenant option by its name (`smtp_auth`, ...)."""
        return getattr(self, name)


def _endpoint_type(implicit_tls: bool) -> Any:
    return Endpoint | None if implicit_tls else Endpoint


if TYPE_CHECKING:
    TenantView = TenantViewBase
else:
    TenantView = with_protocol_fields(
        "TenantView",
        TenantViewBase,
        [(listener.name, _endpoint_type(listener.implicit_tls), msgspec.NODEFAULT) for listener in LISTENERS]
        + [(option.name, option.type, msgspec.NODEFAULT) for entry in PROTOCOLS for option in entry.fields],
        after="state",
    )


class TenantCreated(TenantView, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tenant just created, with its token: shown this once, kept by the server only as a hash."""

    token: str
    """Bearer token that manages this tenant only (43 URL-safe characters)."""


class TenantToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tenant's new token; the one before it stopped working when this was issued."""

    tenant: str
    token: str


class MailboxView(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A mailbox and its contents in brief."""

    user: str
    messages: int
    octets: int
    sessions: int
    locked: bool
    """True while a POP3 session holds the RFC 1939 maildrop lock."""
    oauth: bool
    """True when the mailbox has a bearer token (XOAUTH2, OAUTHBEARER logins); the token is never shown."""
