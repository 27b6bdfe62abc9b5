"""Presets: fault plans with a source, each reproducing a real server that real clients met.

`{"profile": NAME}` expands to one (`expand`); fields given with it override the preset's.
"""

from __future__ import annotations

import typing

import msgspec

from ._imap import BodystructureFault, IdleCut, ImapFaultPlan, SelectEmptyFault
from ._schema import (
    PLAN_DEFAULTS,
    CapaFault,
    CommandsFault,
    DeadlineFault,
    DotStuffingFault,
    FaultPlan,
    Knob,
    LineLimitFault,
    OrderFault,
    PasswordFault,
    PipeliningFault,
    ProfileName,
    QuitFault,
    ScriptedReply,
    SizeFormatFault,
    StateMachineFault,
)
from ._smtp import MissingExtensions, SmtpFaultPlan, Synchronization

__all__ = ["PROFILES", "Profile", "UnknownProfile", "expand"]


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
        Profile(
            name="pop3-pipelining-first-only",
            description=(
                "A POP3 server that lists PIPELINING in CAPA but answers only the first of the commands that "
                "arrive together and drops the rest unanswered: a client that pipelines RETRs waits for ever."
            ),
            source="jstedfast/MailKit issue 174",
            plan=FaultPlan(pipelining=PipeliningFault(mode="first-only")),
        ),
        Profile(
            name="exim-sync",
            description=(
                "exim with smtp_enforce_sync: the SMTP greeting comes after a second, and a client that "
                "sends anything before it gets 554 SMTP synchronization error and the connection closes."
            ),
            source="nodemailer/nodemailer issue 56; exim specification, smtp_enforce_sync",
            plan=FaultPlan(smtp=SmtpFaultPlan(synchronization=Synchronization(greeting_delay_ms=1000))),
        ),
        Profile(
            name="qmail",
            description=(
                "qmail-smtpd with an AUTH patch: a failed AUTH is answered 235 auth failure (the success "
                "code), so clients that read only the code think they logged in; EHLO offers no SIZE, "
                "ENHANCEDSTATUSCODES, SMTPUTF8 or CHUNKING."
            ),
            source="jakartaee/mail-api issue 23",
            plan=FaultPlan(
                smtp=SmtpFaultPlan(
                    auth_failure_235=Knob(),
                    missing_extensions=MissingExtensions(
                        extensions=["SIZE", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING"]
                    ),
                )
            ),
        ),
        Profile(
            name="postfix-broken-auth",
            description=(
                "Postfix with broken_sasl_auth_clients = yes: EHLO lists AUTH twice, as AUTH PLAIN LOGIN "
                "and as the non-standard AUTH=PLAIN LOGIN for pre-RFC clients."
            ),
            source="Postfix SASL_README, broken_sasl_auth_clients; thunderbird/thunderbird-android issue 8715",
            plan=FaultPlan(smtp=SmtpFaultPlan(auth_equals=Knob())),
        ),
        Profile(
            name="greenmail-imap",
            description=(
                "GreenMail's IMAP before its issue 113 was fixed: a part's Content-Disposition went into "
                "BODYSTRUCTURE without its parameter list, (\"inline\") instead of (\"inline\" NIL), and "
                "Jakarta Mail failed with Unable to load BODYSTRUCTURE."
            ),
            source="greenmail-mail-test/greenmail issue 113 (JavaMail can't parse BODYSTRUCTURE for inline attachment)",
            plan=FaultPlan(imap=ImapFaultPlan(bodystructure=BodystructureFault())),
        ),
        Profile(
            name="smtp4dev-imap",
            description=(
                "smtp4dev 3.x's IMAP (a LumiSoft fork): SELECT of a folder holding no message failed with "
                "uid must be >= 1, so a client could not open an empty INBOX."
            ),
            source="rnwood/smtp4dev issue 2004",
            plan=FaultPlan(imap=ImapFaultPlan(select_empty_fails=SelectEmptyFault(text="uid must be >= 1"))),
        ),
        Profile(
            name="idle-dropper",
            description=(
                "An IMAP server behind a NAT or proxy that drops quiet connections: an IDLE in which the "
                "client says nothing for 30 seconds ends in a close without BYE (RFC 2177 asks clients to "
                "re-issue IDLE at least every 29 minutes; middleboxes cut much sooner)."
            ),
            source="RFC 2177 section 3; mockmail (the NAT/proxy idle timeout, not one server's bug)",
            plan=FaultPlan(imap=ImapFaultPlan(idle_cut=IdleCut(seconds=30.0))),
        ),
        Profile(
            name="uidvalidity-churn",
            description=(
                "An IMAP server that announces a new UIDVALIDITY at every SELECT (as servers that derive it "
                "from a restart or a rebuilt index do), so a client must forget every UID it cached."
            ),
            source="RFC 9051 section 2.3.1.1; mockmail",
            plan=FaultPlan(imap=ImapFaultPlan(uidvalidity_churn=Knob())),
        ),
        Profile(
            name="imap-logout-no-ok",
            description=(
                "An IMAP server that closes after the BYE to LOGOUT without the tagged OK that RFC 9051 "
                "section 6.1.3 requires: the IMAP twin of a POP3 QUIT answered with a close."
            ),
            source="RFC 9051 section 6.1.3; the POP3 twin is axllent/mailpit issue 311",
            plan=FaultPlan(imap=ImapFaultPlan(logout_no_ok=Knob())),
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
        name: getattr(plan, name)
        for name in plan.__struct_fields__
        if getattr(plan, name) != PLAN_DEFAULTS[name]
    }
    return msgspec.structs.replace(preset.plan, **own)
