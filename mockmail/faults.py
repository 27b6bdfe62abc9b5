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
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import Meta

from .pop3 import COMPLIANT_QUIRKS, Pop3Quirks

__all__ = [
    "COMPLIANT",
    "PROFILES",
    "DeadlineFault",
    "DotStuffingFault",
    "FaultPatch",
    "FaultPlan",
    "FaultState",
    "Knob",
    "MailboxFaultPatch",
    "MailboxFaultPlan",
    "Profile",
    "ProfileName",
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


class LineEndingsFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`lf`: every line the server sends ends in a bare LF instead of CRLF."""

    mode: Literal["crlf", "lf"] = "lf"


class TerminatorFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`missing`: multi-line replies end without the `.` line."""

    mode: Literal["present", "missing"] = "missing"


class OctetCountsFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`off-by-lf`: LIST and STAT count one octet per line (as if lines ended in LF); RETR still sends CRLF."""

    mode: Literal["exact", "off-by-lf"] = "off-by-lf"


class UidlFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`unstable`: unique-ids change every session; `absent`: UIDL is an unknown command (and not in CAPA)."""

    mode: Literal["stable", "unstable", "absent"] = "unstable"


class CapaFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`absent`: CAPA is unknown; `overclaims`: it lists what is not there; `custom`: exactly `lines`."""

    mode: Literal["accurate", "absent", "overclaims", "custom"] = "absent"
    lines: list[Annotated[str, Meta(pattern=r"^[!-~][ -~]{0,200}(?!\n)$")]] = []


class GreetingFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`err`: the greeting is `-ERR` and the server closes; `garbage`: it is not POP3 at all."""

    mode: Literal["ok", "err", "garbage"] = "err"


class CommandsFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Commands the server does not know: they get `-ERR unknown command` (and leave CAPA)."""

    disabled: list[Pop3Verb] = []


class PasswordFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`any`: any non-empty password logs in to an existing mailbox."""

    accept: Literal["correct", "any"] = "any"


class OrderFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`newest-first`: message 1 is the newest message."""

    order: Literal["oldest-first", "newest-first"] = "newest-first"


class LineLimitFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A different command-line limit, answered with `text` (e.g. Mailpit's 512 and `line too long`)."""

    octets: Annotated[int, Meta(ge=16, le=65536)] = 512
    text: Annotated[str, Meta(pattern=r"^[ -~]{1,200}(?!\n)$")] = "line too long"


class ScriptedReply(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Answer `command` (optionally only for message `msg` or user `user`) with `line` instead."""

    command: Pop3Verb
    line: Annotated[
        str,
        Meta(
            pattern=r"^-ERR( [^\r\n]{0,400})?(?!\n)$",
            description="An -ERR line, e.g. `-ERR [SYS/TEMP] try later`.",
        ),
    ]
    msg: Annotated[int, Meta(ge=1)] | None = None
    user: str | None = None


class Transport(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="kind"):
    """Base of the wire faults; `command` limits one to the replies to that command."""

    command: Pop3Verb | None = None


class Latency(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="latency"):
    """Hold each reply for `ms` milliseconds, plus or minus up to `jitter_ms`."""

    ms: Annotated[float, Meta(ge=0, le=60_000)]
    jitter_ms: Annotated[float, Meta(ge=0, le=60_000)] = 0.0


class GreetingDelay(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="greeting_delay"):
    """Wait `ms` milliseconds after accepting before the greeting."""

    ms: Annotated[float, Meta(ge=0, le=600_000)]


class Bandwidth(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="bandwidth"):
    """Send replies at no more than `bytes_per_second`."""

    bytes_per_second: Annotated[int, Meta(ge=1)]


class Slicer(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="slicer"):
    """Cut replies into writes of `size` octets, `delay_ms` apart."""

    size: Annotated[int, Meta(ge=1)] = 1
    delay_ms: Annotated[float, Meta(ge=0, le=10_000)] = 0.0


class TruncateRetr(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="truncate_retr"):
    """Send only the first `after_bytes` octets of a RETR reply, then close the connection."""

    after_bytes: Annotated[int, Meta(ge=0)]


class Reset(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="reset"):
    """Answer `command` with a TCP reset instead of a reply."""


class Stall(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="stall"):
    """Never answer `command`; keep the socket open until the client gives up."""


class CloseAfter(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="close_after"):
    """Close the connection silently once `commands` commands have been answered."""

    commands: Annotated[int, Meta(ge=0)]


TransportFault = Latency | GreetingDelay | Bandwidth | Slicer | TruncateRetr | Reset | Stall | CloseAfter


ProfileName = Literal["compliant", "mailpit-legacy", "mailpit-current", "greenmail", "smtp4dev"]
"""The presets of PROFILES (an import-time check keeps the two equal)."""


class FaultPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """How a tenant or mailbox departs from RFC-compliant POP3; an empty plan is compliant."""

    profile: ProfileName | None = None
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
    line_endings: LineEndingsFault | None = None
    terminator: TerminatorFault | None = None
    octet_counts: OctetCountsFault | None = None
    uidl: UidlFault | None = None
    capa: CapaFault | None = None
    greeting: GreetingFault | None = None
    commands: CommandsFault | None = None
    password: PasswordFault | None = None
    order: OrderFault | None = None
    line_limit: LineLimitFault | None = None
    replies: list[ScriptedReply] = []
    transport: list[TransportFault] = []
    """Wire faults in the manner of Toxiproxy's toxics, aware of POP3 commands; each draws per occurrence."""


def _derived(
    plan: type[msgspec.Struct],
    name: str,
    doc: str,
    *,
    without: frozenset[str] = frozenset(),
    patch: bool = False,
) -> type[msgspec.Struct]:
    """A struct with the fields of `plan` but `without`; with `patch`, each optional and nullable (UNSET
    tells a field not given from a field set to null)."""
    fields: list[tuple[str, Any, Any]] = []
    for field in msgspec.structs.fields(plan):
        if field.name in without:
            continue
        if patch:
            fields.append((field.name, Union[field.type, None, msgspec.UnsetType], msgspec.UNSET))  # noqa: UP007
        elif field.default_factory is not msgspec.NODEFAULT:
            fields.append((field.name, field.type, msgspec.field(default_factory=field.default_factory)))
        else:
            fields.append((field.name, field.type, field.default))
    derived = msgspec.defstruct(
        name,
        fields,
        frozen=True,
        kw_only=True,
        forbid_unknown_fields=True,
        omit_defaults=True,
        module=__name__,
    )
    derived.__doc__ = doc
    return derived


FaultPatch = _derived(
    FaultPlan,
    "FaultPatch",
    "FaultPlan fields to change: a field given replaces the plan's, null sets it back to compliant.",
    patch=True,
)
MailboxFaultPlan = _derived(
    FaultPlan,
    "MailboxFaultPlan",
    "A mailbox's own plan: a FaultPlan without `seed` (one generator serves the whole tenant).",
    without=frozenset({"seed"}),
)
MailboxFaultPatch = _derived(
    MailboxFaultPlan,
    "MailboxFaultPatch",
    "MailboxFaultPlan fields to change: a field given replaces the plan's, null sets it back to compliant.",
    patch=True,
)


class Profile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named preset: the plan it expands to and where its behaviour comes from."""

    name: ProfileName
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
        Profile(
            name="mailpit-current",
            description=(
                "Mailpit 1.30: CAPA lists only TOP, USER, UIDL and IMPLEMENTATION Mailpit; no APOP, AUTH or STLS; "
                "message 1 is the newest; TOP is not dot-stuffed; a command line over 512 octets gets "
                "-ERR line too long.  Not reproduced: Mailpit reports and sends the bytes as stored, so mail "
                "stored with bare LF goes out LF-only; mockmail keeps messages CRLF-normalized."
            ),
            source="axllent/mailpit internal/pop3/server.go and functions.go at 408b30d5 (v1.30.5)",
            plan=FaultPlan(
                capa=CapaFault(mode="custom", lines=["TOP", "USER", "UIDL", "IMPLEMENTATION Mailpit"]),
                commands=CommandsFault(disabled=["APOP", "AUTH", "STLS"]),
                order=OrderFault(order="newest-first"),
                dot_stuffing=DotStuffingFault(mode="retr-only"),
                line_limit=LineLimitFault(octets=512, text="line too long"),
            ),
        ),
        Profile(
            name="greenmail",
            description="GreenMail: CAPA lists UIDL and SASL PLAIN XOAUTH2 but omits TOP and USER, which both work; APOP is refused.",
            source="greenmail-mail-test/greenmail pop3/commands/CapaCommand.java and ApopCommand.java at 659cd219",
            plan=FaultPlan(
                capa=CapaFault(mode="custom", lines=["UIDL", "SASL PLAIN XOAUTH2"]),
                replies=[ScriptedReply(command="APOP", line="-ERR APOP not supported")],
            ),
        ),
        Profile(
            name="smtp4dev",
            description="smtp4dev: CAPA claims TOP but TOP is an unknown command; any non-empty password is accepted; no APOP or AUTH.",
            source="rnwood/smtp4dev Server/Pop3/Pop3Server.cs and CommandHandlers at 738a75ff",
            plan=FaultPlan(
                capa=CapaFault(mode="custom", lines=["USER", "UIDL", "TOP"]),
                commands=CommandsFault(disabled=["TOP", "APOP", "AUTH"]),
                password=PasswordFault(accept="any"),
            ),
        ),
    )
}


if set(typing.get_args(ProfileName)) != set(PROFILES):  # pragma: no cover - a mistake caught at import
    raise RuntimeError("ProfileName and PROFILES name different presets")


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
_NOT_QUIRKS = {"profile", "seed", "replies", "transport"}
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
            fired=tuple(fired),
        )

    def uniform(self, low: float, high: float) -> float:
        """A draw from the tenant's seeded generator (latency jitter)."""
        return self._rng.uniform(low, high)

    def transport(
        self, user: str | None, verb: str | None, answered: int = 0
    ) -> list[tuple[str, TransportFault]]:
        """The wire faults that fire for this reply (`verb` None: the greeting), each drawn once.

        `answered` counts the commands answered so far in the session (for `close_after`)."""
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
