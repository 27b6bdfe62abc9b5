"""`TenantPolicies`: what a tenant allows, resolved once when it is made.

The limits in force (the spec's own, else the server's `--tenant-limit-NAME` defaults), the session cap,
the largest message, the storage quota and the REST rate limiter.  Nothing here knows a protocol by name:
a protocol's session limit is the `TenantLimits` field its registry entry names.
"""

from __future__ import annotations

from ..config.settings import Settings
from ..protocols import Protocol
from ..store import MailStore
from .quotas import Quota, RateLimiter, effective
from .specs import TenantSpec

__all__ = ["TenantPolicies"]


class TenantPolicies:
    """A tenant's limits and the objects that enforce them."""

    __slots__ = ("limits", "max_message_size", "max_sessions", "quota", "rate")

    def __init__(self, spec: TenantSpec, settings: Settings, store: MailStore) -> None:
        self.limits = effective(spec.limits, settings)
        """The limits in force: the spec's own, else the server's defaults."""
        self.max_sessions: int = spec.max_sessions or settings.max_sessions
        """Concurrent sessions of every protocol together."""
        self.max_message_size: int = self.limits.message_size or settings.max_message_size
        """Largest message this tenant stores (`effective` always sets `message_size`)."""
        self.quota = Quota(store, self.limits)
        self.rate = RateLimiter(self.limits.api_rps) if self.limits.api_rps is not None else None
        """The `api_rps` token bucket, or None without a rate limit."""

    def session_limit(self, protocol: Protocol) -> int | None:
        """Concurrent sessions of `protocol` allowed (its plain and TLS listeners together); None: no cap
        of its own."""
        most: int | None = getattr(self.limits, protocol.limit)
        return most
