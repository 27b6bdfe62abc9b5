"""`TenantContext`: what a protocol's session factory gets from the tenant it serves.

Each protocol's session module exposes `open_session(stream, context, implicit_tls)`, named in its
`mockmail.protocols` entry; the tenant builds one context and hands it to every factory, so a new protocol
needs nothing from the tenancy layer that the others do not already get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..protocols import Session, SessionFactory
from ..store import MailStore
from .driver import SessionConfig

if TYPE_CHECKING:
    from ..store.quota import Quota

__all__ = ["Session", "SessionFactory", "TenantContext"]


@dataclass(frozen=True, slots=True)
class TenantContext:
    """The tenant's side of every session it opens."""

    store: MailStore
    config: SessionConfig
    """Limits, TLS, locking rules, faults, transcripts and metrics of the tenant."""
    options: Any
    """The tenant's spec: a protocol reads its own fields from it (`smtp_auth`, ...)."""
    max_message_size: int
    """Largest message the tenant stores, in octets."""
    quota: Quota | None = None
    """The tenant's storage limits, for a protocol that stores mail."""
