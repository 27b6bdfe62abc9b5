"""Tenant limits in force: a tenant's own `limits`, else the server's `--tenant-limit-NAME` defaults.

- `effective` resolves them once, when the tenant is made (`message_size` is never above the server's
  `--max-message-size`, so it always has a value).
- `Quota` (in the store layer, `mockmail/store/quota.py`, so that the servers and ingest need nothing
  from this layer) checks what a tenant stores against `mailboxes`, `messages` and `bytes`.
- `RateLimiter` is a token bucket for `api_rps`: a second's worth of burst, refilled continuously.
"""

from __future__ import annotations

import math
import time

from ..config.settings import Settings
from ..errors import RateLimited
from ..store.quota import Quota
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
