"""What a failed login costs, in every protocol: its reply is held, and the last allowed attempt closes.

The delay (`auth_failure_delay`, the server's default 0.5 seconds) slows one guessing session without
slowing any other connection, and the same reply goes to an unknown user and a wrong password.  The
session driver applies a `Penalty` (it owns the clock and the socket); this module only decides it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LOGIN_ATTEMPTS", "FailurePolicy", "Penalty"]

LOGIN_ATTEMPTS = 3
"""Failed logins one connection may make; the reply to the last of them closes it."""


@dataclass(frozen=True, slots=True)
class Penalty:
    """What one failed login costs: seconds its reply is held, and why the session closes (None: it stays)."""

    hold: float
    close: str | None


@dataclass(frozen=True, slots=True)
class FailurePolicy:
    """The failed-login rule of a tenant: the delay of each failure and the attempts a connection gets."""

    delay: float = 0.0
    attempts: int = LOGIN_ATTEMPTS

    def penalty(self, failures: int) -> Penalty:
        """The cost of a failed login that is the `failures`-th of its connection."""
        return Penalty(self.delay, "too many failed logins" if failures >= self.attempts else None)
