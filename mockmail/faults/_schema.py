"""The fault plan's schema: every knob, the wire faults, `FaultPlan` and the structs derived from it.

Every field left out means "compliant" for that part.  Protocol quirks count sessions in `times`;
scripted replies and wire faults count occurrences (see `_engine.py`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import Meta

from ._imap import ImapFaultPlan, ImapVerb
from ._knob import Knob, LineEndingsFault, Probability, Times
from ._smtp import SmtpCommand, SmtpFaultPlan

__all__ = [
    "PLAN_DEFAULTS",
    "Bandwidth",
    "CapaFault",
    "CloseAfter",
    "CommandsFault",
    "DeadlineFault",
    "DotStuffingFault",
    "FaultPatch",
    "FaultPlan",
    "GreetingDelay",
    "GreetingFault",
    "Knob",
    "Latency",
    "LineEndingsFault",
    "LineLimitFault",
    "MailboxFaultPatch",
    "MailboxFaultPlan",
    "OctetCountsFault",
    "OrderFault",
    "PasswordFault",
    "PipeliningFault",
    "Probability",
    "ProfileName",
    "QuitFault",
    "Reset",
    "ScriptedReply",
    "SizeFormatFault",
    "Slicer",
    "Stall",
    "StateMachineFault",
    "TerminatorFault",
    "Times",
    "TopFault",
    "Transport",
    "TransportFault",
    "TruncateRetr",
    "UidlFault",
]

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


class PipeliningFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`first-only`: CAPA still lists PIPELINING, but of the commands that arrive together only the first
    is answered; the others are dropped unanswered (MailKit issue 174)."""

    mode: Literal["all", "first-only"] = "first-only"


class TopFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """TOP stays in CAPA but is broken: `whole` sends the whole message whatever the line count; `err`
    refuses it with `-ERR` (why Jakarta Mail has `mail.pop3.disabletop`)."""

    mode: Literal["works", "whole", "err"] = "whole"


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
    """Base of the wire faults; `protocol` and `command` limit one to the replies of that protocol or to
    that command (`DATA-END`: the reply to SMTP DATA's final dot; an IMAP UID command is its verb)."""

    protocol: Literal["pop3", "smtp", "imap"] | None = None
    command: Pop3Verb | SmtpCommand | ImapVerb | None = None


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
    """Send only the first `after_bytes` octets of a POP3 RETR reply (or of an IMAP FETCH reply), then
    close the connection."""

    after_bytes: Annotated[int, Meta(ge=0)]


class Reset(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="reset"):
    """Answer `command` with a TCP reset instead of a reply."""


class Stall(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="stall"):
    """Never answer `command`; keep the socket open until the client gives up."""


class CloseAfter(Transport, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="close_after"):
    """Close the connection silently once `commands` commands have been answered."""

    commands: Annotated[int, Meta(ge=0)]


TransportFault = Latency | GreetingDelay | Bandwidth | Slicer | TruncateRetr | Reset | Stall | CloseAfter


ProfileName = Literal[
    "compliant",
    "mailpit-legacy",
    "mailpit-current",
    "greenmail",
    "smtp4dev",
    "pop3-pipelining-first-only",
    "exim-sync",
    "qmail",
    "postfix-broken-auth",
    "greenmail-imap",
    "smtp4dev-imap",
    "idle-dropper",
    "uidvalidity-churn",
    "imap-logout-no-ok",
]
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
    pipelining: PipeliningFault | None = None
    bare_ok: Knob | None = None
    """A successful PASS, APOP or AUTH is answered `+OK` with no text (Dovecot, Cyrus; MailKit issue 171)."""
    top: TopFault | None = None
    replies: list[ScriptedReply] = []
    transport: list[TransportFault] = []
    """Wire faults in the manner of Toxiproxy's toxics, aware of POP3 and SMTP commands; each draws per
    occurrence, for the replies of every protocol unless `protocol` or `command` narrows it."""
    smtp: SmtpFaultPlan | None = None
    """How SMTP departs from RFC 5321 (a mailbox plan's part applies to mail for that mailbox)."""
    imap: ImapFaultPlan | None = None
    """How IMAP departs from RFC 9051 (a mailbox plan's part applies from that user's login on)."""


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


PLAN_DEFAULTS: dict[str, Any] = {name: getattr(FaultPlan(), name) for name in FaultPlan.__struct_fields__}
"""Each field's compliant value: what `expand` leaves to the preset, what the engine skips."""
