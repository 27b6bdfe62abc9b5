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
  `missing_extensions`, `line_endings` (bare LF), `tarpit` (every reply delayed).
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
    "Greylisting",
    "MissingExtensions",
    "RateLimit",
    "SmtpCommand",
    "SmtpExtension",
    "SmtpFaultPlan",
    "SmtpGreeting",
    "SmtpReply",
    "StartTlsFault",
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
    ehlo_unknown: Knob | None = None
    """EHLO gets `502 5.5.1`: the client must fall back to HELO (and gets no extensions)."""
    no_continuation: Knob | None = None
    """Multi-line replies come without `-` continuation: every line reads `250 ...`."""
    starttls: StartTlsFault | None = None
    missing_extensions: MissingExtensions | None = None
    line_endings: LineEndingsFault | None = None
    tarpit: Tarpit | None = None
