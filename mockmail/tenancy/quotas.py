"""Tenant limits in force: a tenant's own `limits`, else the server's `--tenant-limit-NAME` defaults.

- `effective` resolves them once, when the tenant is made (`message_size` is never above the server's
  `--max-message-size`, so it always has a value).
- `Quota` checks what a tenant stores against `mailboxes`, `messages` and `bytes`.  A batch is checked
  whole before anything of it is stored, so a bulk upload that would cross a limit is refused whole.
- `RateLimiter` is a token bucket for `api_rps`: a second's worth of burst, refilled continuously.
"""

from __future__ import annotations

import math
import time

from ..config.settings import Settings
from ..errors import RateLimited, StorageLimit
from ..store import MailStore
from .specs import TenantLimits

__all__ = ["Quota", "RateLimiter", "effective"]


def effective(own: TenantLimits, settings: Settings) -> TenantLimits:
    """The limits in force for a tenant whose spec says `own`."""
    values: dict[str, int | float | None] = {}
    for name in TenantLimits.__struct_fields__:
        value = getattr(own, name)
        values[name] = value if value is not None else getattr(settings, f"tenant_limit_{name}")
    size = values["message_size"]
    values["message_size"] = (
        settings.max_message_size if size is None else min(int(size), settings.max_message_size)
    )
    return TenantLimits(**values)  # type: ignore[arg-type]


class Quota:
    """A tenant's storage limits, checked against what its store holds right now."""

    __slots__ = ("limits", "store")

    def __init__(self, store: MailStore, limits: TenantLimits) -> None:
        self.store = store
        self.limits = limits

    def held(self) -> tuple[int, int]:
        """Messages and octets stored across the tenant's mailboxes."""
        totals = [box.totals for box in self.store]  # every folder counts, not only INBOX
        return sum(count for count, _ in totals), sum(octets for _, octets in totals)

    def full(self) -> str | None:
        """The storage limit already reached (`messages` or `bytes`), or None while there is room."""
        limits = self.limits
        if limits.messages is None and limits.bytes is None:
            return None
        count, octets = self.held()
        if limits.messages is not None and count >= limits.messages:
            return "messages"
        if limits.bytes is not None and octets >= limits.bytes:
            return "bytes"
        return None

    def check(self, count: int, octets: int) -> None:
        """Room for `count` more messages of `octets` in all.

        Raises:
            StorageLimit: they would cross `messages` or `bytes` (named in `limit`).
        """
        limits = self.limits
        if limits.messages is None and limits.bytes is None:
            return
        held, held_octets = self.held()
        if limits.messages is not None and held + count > limits.messages:
            raise StorageLimit(
                f"the tenant holds {held:d} of its {limits.messages:d} messages; {count:d} more would "
                "cross the limit, nothing was stored",
                limit="messages",
            )
        if limits.bytes is not None and held_octets + octets > limits.bytes:
            raise StorageLimit(
                f"the tenant holds {held_octets:d} of its {limits.bytes:d} octets; {octets:d} more would "
                "cross the limit, nothing was stored",
                limit="bytes",
            )

    def check_mailbox(self) -> None:
        """Room for one more mailbox.

        Raises:
            StorageLimit: the tenant has `mailboxes` already.
        """
        most = self.limits.mailboxes
        if most is not None and len(self.store) >= most:
            raise StorageLimit(
                f"the tenant has its maximum of {most:d} mailboxes; delete one first", limit="mailboxes"
            )


class RateLimiter:
    """A token bucket of `rate` requests a second holding at most a second's worth (at least one)."""

    __slots__ = ("_last", "_tokens", "capacity", "rate")

    def __init__(self, rate: float, clock: float | None = None) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._tokens = self.capacity
        self._last = time.monotonic() if clock is None else clock

    def wait(self, now: float | None = None) -> float:
        """Take one request: 0 when it may go now, else the seconds until it could."""
        now = time.monotonic() if now is None else now
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def take(self, tenant: str) -> None:
        """Take one request for `tenant`.

        Raises:
            RateLimited: over `api_rps`; `Retry-After` says when to come back (whole seconds, at least 1).
        """
        wait = self.wait()
        if wait:
            raise RateLimited(
                f"tenant {tenant!r} is limited to {self.rate:g} API requests a second",
                limit="api_rps",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
