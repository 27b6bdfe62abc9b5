"""The drawing engine: a tenant's live plans, its seeded generator, and what each knob has left.

`FaultState.session_faults` draws a session's quirks; `scripted_reply` and `transport` draw per
occurrence.  `probability` is drawn from the tenant's own `random.Random(seed)`, and only for knobs whose
probability is below 1, so one seed and one command sequence give the same faults every time.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from ..pop3 import COMPLIANT_QUIRKS, Pop3Quirks
from ._imap_engine import ImapEngine
from ._presets import expand
from ._schema import (
    CapaFault,
    CloseAfter,
    FaultPlan,
    GreetingDelay,
    Knob,
    LineLimitFault,
    QuitFault,
    TransportFault,
)
from ._smtp_engine import SmtpEngine

__all__ = ["COMPLIANT", "FaultState", "SessionFaults"]

_NOT_QUIRKS = {"profile", "seed", "replies", "transport", "smtp", "imap"}
_QUIRK_FIELDS = tuple(name for name in FaultPlan.__struct_fields__ if name not in _NOT_QUIRKS)
"""Every per-session quirk: the plan's fields but the preset name, the seed and the per-occurrence lists."""


@dataclass(frozen=True, slots=True)
class SessionFaults:
    """The quirks one session drew; the adapter and the core act on these, never on the plan itself."""

    core: Pop3Quirks = COMPLIANT_QUIRKS
    quit: QuitFault | None = None
    ignore_message_argument: bool = False
    errors_close: bool = False
    deadline: float | None = None
    line_endings_lf: bool = False
    terminator_missing: bool = False
    octets_off_by_lf: bool = False
    uidl: str = "stable"
    capa: CapaFault | None = None
    greeting: str = "ok"
    accept_any_password: bool = False
    newest_first: bool = False
    line_limit: LineLimitFault | None = None
    pipelining_first_only: bool = False
    bare_ok: bool = False
    top: str = "works"
    fired: tuple[str, ...] = ()


COMPLIANT = SessionFaults()


class SavedFaults(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a persistent store keeps of a `FaultState`: the plans and what is left of each `times`."""

    plan: FaultPlan
    mailbox_plans: dict[str, FaultPlan]
    left: list[tuple[str | None, str, int]]
    version: int


_SAVED = msgspec.json.Decoder(SavedFaults)


class FaultState:
    """A tenant's plans, its random generator and what is left of each knob's `times`."""

    def __init__(self) -> None:
        self.plan = FaultPlan()
        self.mailbox_plans: dict[str, FaultPlan] = {}
        self.version = 0
        self._rng = random.Random()
        self._left: dict[tuple[str | None, str], int] = {}
        self.fired: collections.Counter[str] | None = None
        """Where each firing is counted by knob (the server's metrics); None counts nothing."""
        self.smtp = SmtpEngine(self)
        """The draws of the plans' `smtp` parts, and the greylist and rate-limit memory."""
        self.imap = ImapEngine(self)
        """The draws of the plans' `imap` parts."""
        self.on_change: Callable[[FaultState], None] | None = None
        """Called after every change worth keeping (a plan set, a `times` used up): the persistent store."""

    def dump(self) -> bytes:
        """The plans and the `times` left, as `load` takes them back (JSON)."""
        left = [(scope, name, count) for (scope, name), count in self._left.items()]
        return msgspec.json.encode(SavedFaults(self.plan, self.mailbox_plans, left, self.version))

    def load(self, data: bytes) -> None:
        """Take back what `dump` gave (at a restart): a spent knob stays spent.

        The generator starts again from the plan's seed; the greylist and rate-limit memory start empty.
        """
        saved = _SAVED.decode(data)
        self.plan = saved.plan
        self.mailbox_plans = dict(saved.mailbox_plans)
        self._rng = random.Random(saved.plan.seed)
        self._left = {(scope, name): count for scope, name, count in saved.left}
        self.smtp.forget()
        self.version = saved.version

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)

    @property
    def active(self) -> bool:
        return self.version != 0

    def set_plan(self, plan: FaultPlan, user: str | None = None) -> FaultPlan:
        """Replace the tenant's plan (or a mailbox's); return it expanded.  Raises UnknownProfile."""
        expanded = expand(plan)
        if user is None:
            self.plan = expanded
            self._rng = random.Random(expanded.seed)
        elif expanded == FaultPlan():
            self.mailbox_plans.pop(user, None)
        else:
            self.mailbox_plans[user] = expanded
        self._left = {key: left for key, left in self._left.items() if key[0] != user}
        self.smtp.forget()
        self.version += 1
        self._changed()
        return expanded

    def plan_for(self, user: str | None) -> tuple[FaultPlan, FaultPlan | None]:
        return self.plan, (self.mailbox_plans.get(user) if user is not None else None)

    def fire(self, scope: str | None, name: str, knob: Knob | None) -> bool:
        """Draw `knob` once: False if absent, spent, or the probability draw fails; uses up one `times`."""
        if knob is None:
            return False
        key = (scope, name)
        left = self._left.get(key, knob.times)
        if left is not None and left <= 0:
            return False
        if knob.probability < 1.0 and self._rng.random() >= knob.probability:
            return False
        if left is not None:
            self._left[key] = left - 1
            self._changed()
        if self.fired is not None:
            self.fired[name.partition("[")[0]] += 1  # transport[2] and replies[0] count as their list
        return True

    def session_faults(self, user: str | None) -> SessionFaults:
        """Draw every quirk for one session (at start, at login, after a plan change)."""
        if not self.active:
            return COMPLIANT
        tenant_plan, own = self.plan_for(user)
        chosen: dict[str, Any] = {}
        fired: list[str] = []
        for name in _QUIRK_FIELDS:
            scope, knob = (
                (user, getattr(own, name))
                if own is not None and getattr(own, name) is not None
                else (None, getattr(tenant_plan, name))
            )
            if knob is not None and self.fire(scope, name, knob):
                chosen[name] = knob
                fired.append(name)
        disabled = frozenset(chosen["commands"].disabled) if "commands" in chosen else frozenset()
        uidl = chosen["uidl"].mode if "uidl" in chosen else "stable"
        if uidl == "absent":
            disabled |= {"UIDL"}
        if "capa" in chosen and chosen["capa"].mode == "absent":
            disabled |= {"CAPA"}
        state = chosen.get("state_machine")
        sizes = chosen.get("size_format")
        stuffing = chosen.get("dot_stuffing")
        deadline = chosen.get("deadline")
        core = Pop3Quirks(
            lax_states=state is not None and state.mode == "lax",
            case_sensitive="case_sensitive" in chosen,
            go_float_sizes=sizes is not None and sizes.format == "go-float",
            dot_stuffing=stuffing.mode if stuffing is not None else "all",
            disabled=disabled,
        )
        return SessionFaults(
            # The compliant instance itself when nothing fired: the writer's fast path tests identity.
            core=COMPLIANT_QUIRKS if core == COMPLIANT_QUIRKS else core,
            quit=chosen.get("quit"),
            ignore_message_argument="ignore_message_argument" in chosen,
            errors_close="errors_close" in chosen,
            deadline=deadline.seconds if deadline is not None else None,
            line_endings_lf="line_endings" in chosen and chosen["line_endings"].mode == "lf",
            terminator_missing="terminator" in chosen and chosen["terminator"].mode == "missing",
            octets_off_by_lf="octet_counts" in chosen and chosen["octet_counts"].mode == "off-by-lf",
            uidl=uidl,
            capa=chosen.get("capa"),
            greeting=chosen["greeting"].mode if "greeting" in chosen else "ok",
            accept_any_password="password" in chosen and chosen["password"].accept == "any",
            newest_first="order" in chosen and chosen["order"].order == "newest-first",
            line_limit=chosen.get("line_limit"),
            pipelining_first_only="pipelining" in chosen and chosen["pipelining"].mode == "first-only",
            bare_ok="bare_ok" in chosen,
            top=chosen["top"].mode if "top" in chosen else "works",
            fired=tuple(fired),
        )

    def uniform(self, low: float, high: float) -> float:
        """A draw from the tenant's seeded generator (latency jitter)."""
        return self._rng.uniform(low, high)

    def transport(
        self, user: str | None, verb: str | None, answered: int = 0, protocol: str = "pop3"
    ) -> list[tuple[str, TransportFault]]:
        """The wire faults that fire for this reply (`verb` None: the greeting), each drawn once.

        `answered` counts the commands answered so far in the session (for `close_after`); `protocol`
        is the session's, which a fault's own `protocol` may exclude."""
        if not self.active:
            return []
        tenant_plan, own = self.plan_for(user)
        hits = []
        for scope, plan in ((user, own), (None, tenant_plan)):
            if plan is None:
                continue
            for index, fault in enumerate(plan.transport):
                if fault.command is not None and fault.command != verb:
                    continue
                if fault.protocol is not None and fault.protocol != protocol:
                    continue
                if isinstance(fault, GreetingDelay) != (verb is None):
                    continue
                if isinstance(fault, CloseAfter) and answered < fault.commands:
                    continue
                if self.fire(scope, f"transport[{index}]", fault):
                    hits.append((f"transport[{index}] {type(fault).__name__.lower()}", fault))
        return hits

    def scripted_reply(self, user: str | None, verb: str, msg: int | None) -> tuple[str, str] | None:
        """The first scripted reply that matches this command and fires: (knob name, line)."""
        if not self.active:
            return None
        tenant_plan, own = self.plan_for(user)
        for scope, plan in ((user, own), (None, tenant_plan)):
            if plan is None:
                continue
            for index, reply in enumerate(plan.replies):
                if reply.command != verb or (reply.msg is not None and reply.msg != msg):
                    continue
                if reply.user is not None and reply.user != user:
                    continue
                if self.fire(scope, f"replies[{index}]", reply):
                    return f"replies[{index}]", reply.line
        return None
