"""Drawing the `smtp` part of a tenant's plans, and the memory greylisting and rate limits need.

Which plan decides: a session's quirks (greeting, EHLO, STARTTLS, extensions, line endings, tarpit) come
from the tenant's plan, since no recipient is known when they act.  Per-transaction faults look first at
the plans of the recipients' mailboxes (at RCPT, the one it resolves to; at the final dot, each recipient's),
field by field, then at the tenant's.  Every knob is drawn with `FaultState.fire`: the same `times`,
`probability` and seeded generator as the POP3 knobs.  The clock is the caller's (`now`), so the engine
stays free of I/O and tests can move time.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._knob import Knob
from ._smtp import DropAfterData, SmtpFaultPlan

if TYPE_CHECKING:
    from ._engine import FaultState

__all__ = ["SMTP_COMPLIANT", "SmtpEngine", "SmtpSessionFaults"]

_SESSION_KNOBS = (
    "greeting",
    "ehlo_unknown",
    "no_continuation",
    "starttls",
    "missing_extensions",
    "line_endings",
    "tarpit",
    "greeting_lines",
    "error_lines",
    "auth_equals",
    "auth_failure_235",
    "auth_after_starttls",
    "quit_no_reply",
    "synchronization",
)


@dataclass(frozen=True, slots=True)
class SmtpSessionFaults:
    """The SMTP quirks one session drew; the hooks act on these, never on the plan."""

    greeting: int | None = None
    ehlo_unknown: int | None = None
    """The code EHLO is refused with, or None."""
    no_continuation: bool = False
    starttls: str | None = None
    missing: frozenset[str] = frozenset()
    line_endings_lf: bool = False
    tarpit_ms: int = 0
    greeting_lines: int = 1
    error_lines: tuple[str, ...] = ()
    auth_equals: bool = False
    auth_failure_235: bool = False
    auth_after_starttls: bool = False
    quit_no_reply: bool = False
    sync_delay_ms: int = 0
    """exim's synchronization check: the greeting held this long, early input refused; 0: off."""
    fired: tuple[str, ...] = ()


SMTP_COMPLIANT = SmtpSessionFaults()


def matches(pattern: str | None, address: str | None) -> bool:
    """A shell-style, case-insensitive match; no pattern matches everything, no address only that."""
    if pattern is None:
        return True
    return address is not None and fnmatch.fnmatchcase(address.lower(), pattern.lower())


class SmtpEngine:
    """The SMTP draws of one tenant, and what greylisting and rate limiting remember."""

    def __init__(self, state: FaultState) -> None:
        self.state = state
        self._first_seen: dict[tuple[str, str, str], float] = {}
        self._passed: set[tuple[str, str, str]] = set()
        self._arrivals: deque[float] = deque()

    def forget(self) -> None:
        """A plan changed: greylisting and rate limiting start afresh."""
        self._first_seen.clear()
        self._passed.clear()
        self._arrivals.clear()

    @property
    def active(self) -> bool:
        """Whether any plan of the tenant has an `smtp` part (else SMTP sessions run compliant)."""
        state = self.state
        return state.active and (
            state.plan.smtp is not None or any(p.smtp is not None for p in state.mailbox_plans.values())
        )

    def _parts(self, users: Iterable[str]) -> list[tuple[str | None, SmtpFaultPlan]]:
        state = self.state
        parts: list[tuple[str | None, SmtpFaultPlan]] = []
        for user in users:
            own = state.mailbox_plans.get(user)
            if own is not None and own.smtp is not None:
                parts.append((user, own.smtp))
        if state.plan.smtp is not None:
            parts.append((None, state.plan.smtp))
        return parts

    def _knob(self, users: Iterable[str], name: str) -> tuple[str | None, Any] | None:
        """The first plan (recipients' mailboxes, then the tenant) that sets `name`, and its knob."""
        for scope, part in self._parts(users):
            knob = getattr(part, name)
            if knob is not None:
                return scope, knob
        return None

    def _fires(self, users: Iterable[str], name: str) -> Any:
        found = self._knob(users, name)
        if found is None:
            return None
        scope, knob = found
        return knob if self.state.fire(scope, f"smtp.{name}", knob) else None

    def session(self) -> SmtpSessionFaults:
        """Draw the session quirks from the tenant's plan (at the start of each SMTP session)."""
        if not self.active or self.state.plan.smtp is None:
            return SMTP_COMPLIANT
        chosen: dict[str, Any] = {}
        fired = []
        for name in _SESSION_KNOBS:
            knob = self._fires((), name)
            if knob is None:
                continue
            fired.append(f"smtp.{name}")
            if name == "greeting":
                chosen["greeting"] = knob.code
            elif name == "starttls":
                chosen["starttls"] = knob.mode
            elif name == "missing_extensions":
                chosen["missing"] = frozenset(knob.extensions)
            elif name == "line_endings":
                chosen["line_endings_lf"] = knob.mode == "lf"
            elif name == "tarpit":
                chosen["tarpit_ms"] = knob.ms
            elif name == "ehlo_unknown":
                chosen["ehlo_unknown"] = knob.code
            elif name == "greeting_lines":
                chosen["greeting_lines"] = knob.lines
            elif name == "error_lines":
                chosen["error_lines"] = tuple(knob.lines)
            elif name == "synchronization":
                chosen["sync_delay_ms"] = knob.greeting_delay_ms
            else:
                chosen[name] = True
        return SmtpSessionFaults(**chosen, fired=tuple(fired))

    def scripted(
        self, users: Iterable[str], command: str, mail_from: str | None, recipients: Iterable[str]
    ) -> tuple[str, str] | None:
        """The first scripted reply for `command` whose filters match and which fires: (name, line)."""
        if not self.active:
            return None
        rcpts = list(recipients)
        for scope, part in self._parts(users):
            for index, reply in enumerate(part.replies):
                if reply.command != command or not matches(reply.mail_from, mail_from):
                    continue
                if reply.rcpt_to is not None and not any(matches(reply.rcpt_to, r) for r in rcpts):
                    continue
                name = f"smtp.replies[{index}]"
                if self.state.fire(scope, name, reply):
                    return name, reply.line
        return None

    def greylisted(self, user: str | None, client: str, mail_from: str, rcpt: str, now: float) -> bool:
        """Whether this RCPT is turned away by greylisting (and remember the attempt)."""
        found = self._knob([user] if user else [], "greylisting")
        if found is None or not self.active:
            return False
        key = (client, mail_from.lower(), rcpt.lower())
        if key in self._passed:
            return False
        first = self._first_seen.get(key)
        if first is not None and now - first >= found[1].retry_after:
            self._passed.add(key)
            return False
        if first is None:
            if not self.state.fire(found[0], "smtp.greylisting", found[1]):
                return False
            self._first_seen[key] = now
        return True

    def rate_limited(self, now: float) -> bool:
        """Whether a new transaction is over the tenant's rate limit."""
        found = self._knob((), "rate_limit")
        if found is None or not self.active:
            return False
        limit = found[1]
        while self._arrivals and self._arrivals[0] <= now - limit.per_seconds:
            self._arrivals.popleft()
        return len(self._arrivals) >= limit.messages and self.state.fire(None, "smtp.rate_limit", limit)

    def arrived(self, now: float) -> None:
        """A message was accepted (what the rate limit counts)."""
        if self.active and self._knob((), "rate_limit") is not None:
            self._arrivals.append(now)

    def drop_after_data(self, users: Iterable[str]) -> DropAfterData | None:
        fault: DropAfterData | None = self._fires(users, "drop_after_data")
        return fault

    def accept_and_lose(self, users: Iterable[str]) -> bool:
        knob: Knob | None = self._fires(users, "accept_and_lose")
        return knob is not None
