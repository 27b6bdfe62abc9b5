"""Fault plans: how a tenant (or one mailbox) departs from RFC-compliant POP3, on purpose and reproducibly.

A plan is a msgspec struct; every field left out means "compliant" for that part.  Rules kept here:

- **Protocol quirks** (`quit`, `size_format`, `state_machine`, ...) describe how a server behaves for a
  whole session, so their `times` counts sessions: a session takes the quirks that fire when it starts,
  again at login (when the mailbox's own plan joins in), and again at its next command after the plan
  changes, which is how a change reaches open sessions.
- **Scripted replies** count occurrences: each matching command draws once.
- `probability` is drawn from the tenant's own `random.Random(seed)`, and only for knobs whose probability
  is below 1, so one seed and one command sequence give the same faults every time.
- A mailbox plan overrides the tenant plan field by field; its quirks apply from login on.
- Presets (`PROFILES`) are plans with a source; `{"profile": NAME}` expands to one, and fields given with it
  override the preset's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .pop3 import Pop3Quirks
from .pop3._quirks import COMPLIANT as COMPLIANT_QUIRKS

__all__ = [
    "COMPLIANT",
    "PROFILES",
    "DeadlineFault",
    "DotStuffingFault",
    "FaultPlan",
    "FaultState",
    "Knob",
    "Profile",
    "QuitFault",
    "ScriptedReply",
    "SessionFaults",
    "SizeFormatFault",
    "StateMachineFault",
    "UnknownProfile",
    "expand",
]

Probability = Annotated[
    float, Meta(ge=0.0, le=1.0, description="Chance that the knob fires each time it is drawn.")
]
Times = Annotated[int, Meta(ge=1, le=1_000_000, description="Fire at most this many times; null: no limit.")]
Pop3Verb = Literal[
    "USER",
    "PASS",
    "APOP",
    "AUTH",
    "CAPA",
    "STLS",
    "QUIT",
    "STAT",
    "LIST",
    "RETR",
    "DELE",
    "NOOP",
    "RSET",
    "TOP",
    "UIDL",
]


class Knob(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A switch with the common limits: at most `times` firings, each with `probability`."""

    times: Times | None = None
    probability: Probability = 1.0


class QuitFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How QUIT is answered: `drop` closes without `+OK`, `hang` sends nothing and keeps the socket open.

    `commit` says whether the deletions are applied first (Mailpit 1.14 to 1.18.5 applied them)."""

    reply: Literal["ok", "drop", "hang"] = "drop"
    commit: bool = True


class SizeFormatFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`go-float`: LIST lines read `1 %!d(float64=5461)` (Go's %d applied to a float64)."""

    format: Literal["octets", "go-float"] = "go-float"


class StateMachineFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`lax`: a command in the wrong state, or unknown, gets `-ERR <CMD> not implemented`; PASS needs no USER."""

    mode: Literal["strict", "lax"] = "lax"


class DotStuffingFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`none`: message lines starting with `.` go out unstuffed; `retr-only`: TOP is not stuffed."""

    mode: Literal["all", "retr-only", "none"] = "none"


class DeadlineFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One deadline over reads and writes, instead of the 10-minute autologout; expiry closes silently."""

    seconds: Annotated[float, Meta(gt=0, le=3600)] = 30.0


class ScriptedReply(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Answer `command` (optionally only for message `msg` or user `user`) with `line` instead."""

    command: Pop3Verb
    line: Annotated[
        str,
        Meta(
            pattern=r"^-ERR( [^\r\n]{0,400})?$", description="An -ERR line, e.g. `-ERR [SYS/TEMP] try later`."
        ),
    ]
    msg: Annotated[int, Meta(ge=1)] | None = None
    user: str | None = None


class FaultPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """How a tenant or mailbox departs from RFC-compliant POP3; an empty plan is compliant."""

    profile: str | None = None
    """A preset from GET /api/v1/fault-profiles; the other fields given override its fields."""
    seed: int | None = None
    """Seed of the tenant's random draws (tenant plans only), so a failing run can be replayed."""
    quit: QuitFault | None = None
    size_format: SizeFormatFault | None = None
    state_machine: StateMachineFault | None = None
    case_sensitive: Knob | None = None
    """Commands must be upper-case; `list` is an unknown command."""
    ignore_message_argument: Knob | None = None
    """`LIST n` and `UIDL n` answer with the whole listing."""
    dot_stuffing: DotStuffingFault | None = None
    errors_close: Knob | None = None
    """An `-ERR` to RETR, TOP or DELE closes the connection after it."""
    deadline: DeadlineFault | None = None
    replies: list[ScriptedReply] = []


class Profile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named preset: the plan it expands to and where its behaviour comes from."""

    name: str
    description: str
    source: str
    plan: FaultPlan


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name="compliant",
            description="RFC 1939/2449/2595/5034/3206 to the letter: the default.",
            source="mockmail",
            plan=FaultPlan(),
        ),
        Profile(
            name="mailpit-legacy",
            description=(
                "Mailpit 1.14 to 1.18.5, the POP3 server that broke a helpdesk's Ruby Net::POP3 fetching: LIST "
                "lines print sizes as %!d(float64=N) (the LIST header and STAT are right); QUIT closes without "
                "+OK after applying deletions; wrong-state and unknown commands get -ERR <CMD> not implemented; "
                "PASS needs no USER; commands are case-sensitive; LIST n and UIDL n ignore n; no dot-stuffing; "
                "an error on RETR, TOP or DELE closes the connection; one 30 s read/write deadline."
            ),
            source="axllent/mailpit server/pop3/pop3.go before ce7dcce; issue #311, PRs #312 and #315",
            plan=FaultPlan(
                quit=QuitFault(reply="drop", commit=True),
                size_format=SizeFormatFault(format="go-float"),
                state_machine=StateMachineFault(mode="lax"),
                case_sensitive=Knob(),
                ignore_message_argument=Knob(),
                dot_stuffing=DotStuffingFault(mode="none"),
                errors_close=Knob(),
                deadline=DeadlineFault(seconds=30.0),
            ),
        ),
    )
}


class UnknownProfile(ValueError):
    pass


def expand(plan: FaultPlan) -> FaultPlan:
    """A plan with its `profile` (if any) filled in: the preset's fields, then the plan's own."""
    if plan.profile is None:
        return plan
    preset = PROFILES.get(plan.profile)
    if preset is None:
        raise UnknownProfile(f"no fault profile {plan.profile!r}; see GET /api/v1/fault-profiles")
    own = {
        name: getattr(plan, name) for name in plan.__struct_fields__ if getattr(plan, name) != _DEFAULTS[name]
    }
    return msgspec.structs.replace(preset.plan, **own)


_DEFAULTS: dict[str, Any] = {name: getattr(FaultPlan(), name) for name in FaultPlan.__struct_fields__}
_QUIRK_FIELDS = (
    "quit",
    "size_format",
    "state_machine",
    "case_sensitive",
    "ignore_message_argument",
    "dot_stuffing",
    "errors_close",
    "deadline",
)


@dataclass(frozen=True, slots=True)
class SessionFaults:
    """The quirks one session drew; the adapter and the core act on these, never on the plan itself."""

    core: Pop3Quirks = COMPLIANT_QUIRKS
    quit: QuitFault | None = None
    ignore_message_argument: bool = False
    errors_close: bool = False
    deadline: float | None = None
    fired: tuple[str, ...] = ()


COMPLIANT = SessionFaults()


class FaultState:
    """A tenant's plans, its random generator and what is left of each knob's `times`."""

    def __init__(self) -> None:
        self.plan = FaultPlan()
        self.mailbox_plans: dict[str, FaultPlan] = {}
        self.version = 0
        self._rng = random.Random()
        self._left: dict[tuple[str | None, str], int] = {}

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
        self.version += 1
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
        state = chosen.get("state_machine")
        sizes = chosen.get("size_format")
        stuffing = chosen.get("dot_stuffing")
        deadline = chosen.get("deadline")
        return SessionFaults(
            core=Pop3Quirks(
                lax_states=state is not None and state.mode == "lax",
                case_sensitive="case_sensitive" in chosen,
                go_float_sizes=sizes is not None and sizes.format == "go-float",
                dot_stuffing=stuffing.mode if stuffing is not None else "all",
            ),
            quit=chosen.get("quit"),
            ignore_message_argument="ignore_message_argument" in chosen,
            errors_close="errors_close" in chosen,
            deadline=deadline.seconds if deadline is not None else None,
            fired=tuple(fired),
        )

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
