"""The `smtp` part of a fault plan: how a tenant (or one recipient's mailbox) departs from RFC 5321.

What the peers offer process-wide (Mailpit's Chaos rejects the sender, a recipient or AUTH with a code;
MailHog's Jim adds probabilities and a rate limit), mockmail offers per tenant, per mailbox and per address
pattern, drawn from the tenant's seeded generator like every POP3 knob:

- `replies`: scripted replies for any command and stage (`DATA-END` is DATA's final dot), filtered by
  sender and recipient patterns;
- `greeting`: `421` (closes) or `554` (then only QUIT is served, RFC 5321 section 3.1);
- `greylisting`: the first attempt of each (client address, sender, recipient) gets `451 4.7.1` at RCPT,
  a retry after `retry_after` seconds is accepted (a real greylist, with its own memory);
- `rate_limit`: `421 4.7.0` at MAIL once `messages` came in the last `per_seconds` (a real window);
- `drop_after_data` (the connection drops after the final dot, before the 250, with the message stored or
  not: the ambiguity that makes clients send twice) and `accept_and_lose` (250, nothing stored);
- quirks of real servers: `ehlo_unknown` (502: the client must fall back to HELO), `no_continuation`
  (multi-line replies without `-`), `starttls` (advertised, then `454`, or the handshake cut),
  `missing_extensions`, `line_endings` (bare LF), `tarpit` (every reply delayed);
- legacy servers that broke real clients: `greeting_lines` (a multi-line 220), `error_lines` (multi-line
  4xx/5xx), `auth_equals` (Postfix's extra `250-AUTH=` line), `auth_failure_235` (qmail), `auth_after_starttls`
  (AUTH gone once TLS is up), `quit_no_reply` (a close instead of 221), `synchronization` (exim's 554 to a
  client that talks before the greeting).  docs/faults.md names the source of each.
Session quirks count sessions in `times`; replies, greylisting, rate limits and drops count occurrences.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ._knob import Knob, LineEndingsFault

__all__ = [
    "AddressPattern",
    "DropAfterData",
    "EhloUnknown",
    "ErrorLines",
    "GreetingLines",
    "Greylisting",
    "MissingExtensions",
    "RateLimit",
    "SmtpCommand",
    "SmtpExtension",
    "SmtpFaultPlan",
    "SmtpGreeting",
    "SmtpReply",
    "StartTlsFault",
    "Synchronization",
    "Tarpit",
]

SmtpCommand = Literal[
    "EHLO",
    "HELO",
    "MAIL",
    "RCPT",
    "DATA",
    "DATA-END",
    "BDAT",
    "RSET",
    "NOOP",
    "QUIT",
    "VRFY",
    "HELP",
    "STARTTLS",
    "AUTH",
]
SmtpExtension = Literal[
    "PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "AUTH"
]
AddressPattern = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=256,
        pattern=r"^[^\x00-\x20\x7f]+(?!\n)$",
        description="A shell-style pattern on an address, case-insensitive: `*@example.com`, `bounce-*`.",
    ),
]


class SmtpReply(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Answer `command` with `line` instead, e.g. RCPT with `452 4.2.2 mailbox full`.

    `mail_from` and `rcpt_to` limit it to transactions whose sender, or recipient (at RCPT; any recipient
    at DATA-END), matches.  A `4xx`/`5xx` to MAIL, RCPT, DATA or DATA-END refuses what it answers (nothing is
    stored); a `2xx` to DATA-END stores the message as usual; `421` closes the connection."""

    command: SmtpCommand
    line: Annotated[
        str,
        Meta(
            pattern=r"^[2-5][0-9][0-9]( [ -~]{0,400})?(?!\n)$",
            description="A reply line: code, then text (an enhanced code in the text if wanted).",
        ),
    ]
    mail_from: AddressPattern | None = None
    rcpt_to: AddressPattern | None = None


class SmtpGreeting(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`421`: the greeting refuses and closes; `554`: it refuses, then every command but QUIT gets 503."""

    code: Literal[421, 554] = 421


class Greylisting(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The first RCPT of each (client address, sender, recipient) gets `451 4.7.1`; a retry after
    `retry_after` seconds is accepted, and the triple then stays accepted."""

    retry_after: Annotated[float, Meta(ge=0, le=86400)] = 300.0


class RateLimit(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`421 4.7.0` at MAIL, closing, once `messages` messages came in the last `per_seconds` seconds."""

    messages: Annotated[int, Meta(ge=1, le=1_000_000)]
    per_seconds: Annotated[float, Meta(gt=0, le=86400)]


class DropAfterData(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Close the connection after DATA's final dot (or the last BDAT), before any reply; `deliver` says
    whether the message was stored first (the client cannot tell, and may send it again)."""

    deliver: bool = False


class StartTlsFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """STARTTLS is advertised, then `refuse`d with `454 4.7.0`, or the handshake is `cut` (no 220 reply's
    promise kept: the connection closes right after it)."""

    mode: Literal["refuse", "cut"] = "refuse"


class MissingExtensions(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """EHLO leaves these out (an older server); the server then also behaves without them: no enhanced
    codes without ENHANCEDSTATUSCODES, BDAT unknown without CHUNKING, MAIL parameters refused without theirs."""

    extensions: Annotated[list[SmtpExtension], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]
    )


class EhloUnknown(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """EHLO is refused with `code` (no enhanced code): RFC 5321 section 3.2 expects 500 or 502 from a
    server that does not know EHLO; some HELO-only servers answer 503 (pear/Net_SMTP issue 5)."""

    code: Literal[500, 502, 503] = 502


class GreetingLines(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The 220 greeting comes in `lines` lines (`220-...`, then `220 ...`), as RFC 5321 section 4.2 allows
    and some clients do not read (nim-lang/smtp issue 24)."""

    lines: Annotated[int, Meta(ge=2, le=20)] = 3


class ErrorLines(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every 4xx/5xx reply goes on over these further lines (`550-...` then `550 ...`), as large providers
    explain refusals; clients that keep only the first line lose the rest (ruby/net-smtp issue 19)."""

    lines: Annotated[
        list[Annotated[str, Meta(pattern=r"^[ -~]{1,200}(?!\n)$")]], Meta(min_length=1, max_length=10)
    ] = msgspec.field(default_factory=lambda: ["see https://mockmail.test/refused for the reason"])


class Synchronization(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """exim's `smtp_enforce_sync`: the greeting is held `greeting_delay_ms`; a client that sends anything
    before it gets `554 SMTP synchronization error` and the connection closes (nodemailer issue 56)."""

    greeting_delay_ms: Annotated[int, Meta(ge=1, le=60_000)] = 1000


class Tarpit(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hold every reply for `ms` milliseconds (the greeting included), as anti-spam tarpits do."""

    ms: Annotated[int, Meta(ge=1, le=600_000)] = 2000


class SmtpFaultPlan(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """How SMTP departs from RFC 5321 for a tenant (or for mail to one mailbox); empty is compliant."""

    replies: list[SmtpReply] = []
    greeting: SmtpGreeting | None = None
    greylisting: Greylisting | None = None
    rate_limit: RateLimit | None = None
    drop_after_data: DropAfterData | None = None
    accept_and_lose: Knob | None = None
    """`250` to the final dot, and nothing stored."""
    ehlo_unknown: EhloUnknown | None = None
    """EHLO is refused (502 unless `code` says 500 or 503): the client must fall back to HELO."""
    no_continuation: Knob | None = None
    """Multi-line replies come without `-` continuation: every line reads `250 ...`."""
    starttls: StartTlsFault | None = None
    missing_extensions: MissingExtensions | None = None
    line_endings: LineEndingsFault | None = None
    tarpit: Tarpit | None = None
    greeting_lines: GreetingLines | None = None
    error_lines: ErrorLines | None = None
    auth_equals: Knob | None = None
    """EHLO lists AUTH twice, also as `AUTH=<mechanisms>` for pre-RFC clients (Postfix's
    `broken_sasl_auth_clients`)."""
    auth_failure_235: Knob | None = None
    """A failed AUTH is answered `235 auth failure`: the success code with a failure text (qmail); the
    session stays unauthenticated."""
    auth_after_starttls: Knob | None = None
    """After STARTTLS, EHLO no longer lists AUTH and AUTH gets `503 5.5.1 AUTH command used when not
    advertised` (exim's text; nodemailer issue 1081)."""
    quit_no_reply: Knob | None = None
    """QUIT closes the connection without a 221 (OpenSMTPD issue 801)."""
    synchronization: Synchronization | None = None
