"""Drawing the `imap` part of a tenant's plans.

Which plan decides: before login, the tenant's; from login on, the logged-in user's mailbox plan, field by
field, then the tenant's (as POP3's quirks do).  Every knob is drawn with `FaultState.fire` under the name
`imap.<field>`: the same `times`, `probability` and seeded generator as every other knob.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._imap import ExpungeNumbersFault, IdleCut, ImapBye, ImapFaultPlan, SelectEmptyFault

if TYPE_CHECKING:
    from ._engine import FaultState

__all__ = ["IMAP_COMPLIANT", "ImapEngine", "ImapSessionFaults"]

_SESSION_KNOBS = tuple(name for name in ImapFaultPlan.__struct_fields__ if name != "replies")
UIDVALIDITY_BASE = 3_000_000_000
"""Where a churning UIDVALIDITY starts: far above the store's own values, so no churned one repeats one."""


@dataclass(frozen=True, slots=True)
class ImapSessionFaults:
    """The IMAP quirks one session drew; the hooks act on these, never on the plan."""

    bye: ImapBye | None = None
    logout_no_ok: bool = False
    size_delta: int = 0
    bodystructure: str | None = None
    select_empty: SelectEmptyFault | None = None
    uidvalidity_churn: bool = False
    idle_no_updates: bool = False
    idle_cut: IdleCut | None = None
    peek_sets_seen: bool = False
    expunge_numbers: ExpungeNumbersFault | None = None
    fired: tuple[str, ...] = ()


IMAP_COMPLIANT = ImapSessionFaults()


class ImapEngine:
    """The IMAP draws of one tenant."""

    def __init__(self, state: FaultState) -> None:
        self.state = state
        self._uidvalidity = itertools.count(UIDVALIDITY_BASE)

    @property
    def active(self) -> bool:
        """Whether any plan of the tenant has an `imap` part (else IMAP sessions run compliant, hooks None)."""
        state = self.state
        return state.active and (
            state.plan.imap is not None or any(p.imap is not None for p in state.mailbox_plans.values())
        )

    def _parts(self, user: str | None) -> list[tuple[str | None, ImapFaultPlan]]:
        state = self.state
        parts: list[tuple[str | None, ImapFaultPlan]] = []
        own = state.mailbox_plans.get(user) if user is not None else None
        if own is not None and own.imap is not None:
            parts.append((user, own.imap))
        if state.plan.imap is not None:
            parts.append((None, state.plan.imap))
        return parts

    def session(self, user: str | None) -> ImapSessionFaults:
        """Draw the session quirks (at the start of a session, at login, after a plan change)."""
        if not self.active:
            return IMAP_COMPLIANT
        parts = self._parts(user)
        chosen: dict[str, Any] = {}
        fired = []
        for name in _SESSION_KNOBS:
            found = next(((scope, getattr(part, name)) for scope, part in parts if getattr(part, name)), None)
            if found is None or not self.state.fire(found[0], f"imap.{name}", found[1]):
                continue
            knob = found[1]
            fired.append(f"imap.{name}")
            if name == "size_delta":
                chosen[name] = knob.delta
            elif name == "bodystructure":
                chosen[name] = knob.mode
            elif name == "select_empty_fails":
                chosen["select_empty"] = knob
            elif name in ("bye", "idle_cut", "expunge_numbers"):
                chosen[name] = knob
            else:
                chosen[name] = True
        if not fired:
            return IMAP_COMPLIANT
        return ImapSessionFaults(**chosen, fired=tuple(fired))

    def scripted(self, user: str | None, verb: str) -> tuple[str, str, str] | None:
        """The first scripted reply for `verb` that matches and fires: (knob name, status, text)."""
        if not self.active:
            return None
        for scope, part in self._parts(user):
            for index, reply in enumerate(part.replies):
                if reply.command != verb or (reply.user is not None and reply.user != user):
                    continue
                name = f"imap.replies[{index}]"
                if self.state.fire(scope, name, reply):
                    return name, reply.status, reply.text
        return None

    def next_uidvalidity(self) -> int:
        """A UIDVALIDITY no SELECT of this tenant announced before (`uidvalidity_churn`)."""
        return next(self._uidvalidity)
