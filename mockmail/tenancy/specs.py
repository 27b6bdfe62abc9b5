"""The msgspec structs that describe what to create: shared by the REST API, the TOML config and the core.

Every struct is frozen, keyword-only and forbids unknown fields, so a typo is an error, not a silent no-op.
The docstrings become OpenAPI descriptions.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from ..protocols import LISTENERS, PROTOCOLS, SmtpAuth, with_protocol_fields
from ..store.folders import FLAG_PATTERN

__all__ = [
    "BEARER_TOKEN_PATTERN",
    "HEADER_TEXT_PATTERN",
    "PASSWORD_PATTERN",
    "TENANT_NAME_PATTERN",
    "USER_NAME_PATTERN",
    "Attachment",
    "BearerToken",
    "Endpoint",
    "FlagsSpec",
    "MailboxSpec",
    "MessageSpec",
    "Password",
    "Port",
    "SmtpAuth",
    "TenantLimits",
    "TenantLimitsBase",
    "TenantName",
    "TenantSpec",
    "TenantSpecBase",
    "UserName",
]

# Every pattern ends in `(?!\n)$`: msgspec matches with Python's `re`, whose `$` also matches before a
# final newline, so `^...$` alone let "acme\n" or a subject ending in LF through.  With the lookahead,
# Python reads each pattern as ECMA-262 (JSON Schema's dialect) does: `$` is the end of the string.
TENANT_NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?!\n)$"
USER_NAME_PATTERN = r"^[A-Za-z0-9._%+@=-]{1,128}(?!\n)$"
PASSWORD_PATTERN = r"^[^\x00-\x1f\x7f]{1,255}(?!\n)$"
BEARER_TOKEN_PATTERN = r"^[A-Za-z0-9\-._~+/]+=*(?!\n)$"
"""RFC 6750 section 2.1 `b64token`: what may follow `Bearer ` in XOAUTH2 and OAUTHBEARER."""
_HEADER_NAME_PATTERN = r"^[!-9;-~]{1,76}(?!\n)$"

Port = Annotated[int, Meta(ge=0, le=65535, description="TCP port; 0 lets the system pick a free one.")]
TenantName = Annotated[
    str, Meta(pattern=TENANT_NAME_PATTERN, description="Lower-case letters, digits and inner dashes.")
]
UserName = Annotated[
    str, Meta(pattern=USER_NAME_PATTERN, description="A POP3 user name, e.g. `alice` or `alice@example.com`.")
]
Password = Annotated[
    str, Meta(pattern=PASSWORD_PATTERN, description="1 to 255 characters, no control characters.")
]
BearerToken = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=4096,
        pattern=BEARER_TOKEN_PATTERN,
        description="An OAuth 2.0 bearer token (RFC 6750 `b64token`), 1 to 4096 characters.",
    ),
]
HEADER_TEXT_PATTERN = r"^[^\x00-\x08\x0a-\x1f\x7f]*(?!\n)$"
"""Header field text: no control character but HTAB (RFC 5322 section 2.2; CR and LF would end the field)."""
EmailAddress = Annotated[str, Meta(min_length=1, max_length=998, pattern=HEADER_TEXT_PATTERN)]
HeaderText = Annotated[str, Meta(max_length=998, pattern=HEADER_TEXT_PATTERN)]


class Endpoint(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where a listener accepts connections."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"



Count = Annotated[int, Meta(ge=0, le=1_000_000_000)]
Octets = Annotated[int, Meta(ge=0, le=1 << 50)]
MessageSize = Annotated[int, Meta(ge=1024, le=1 << 40)]
SessionCount = Annotated[int, Meta(ge=1, le=1_000_000)]
RequestRate = Annotated[float, Meta(ge=0.001, le=1_000_000)]
"""The value types of `TenantLimits`, shared with the server's `--tenant-limit-NAME` defaults."""


class TenantLimitsBase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What one tenant may hold and use; a field left null takes the server's default
    (`--tenant-limit-NAME`), and null there means no limit."""

    mailboxes: Count | None = None
    """Mailboxes in the tenant; one more is refused with 507."""
    messages: Count | None = None
    """Messages stored across the tenant's mailboxes (REST 507; SMTP 452 4.2.2 at RCPT when full,
    552 5.3.4 after DATA when this message would cross it)."""
    bytes: Octets | None = None
    """Octets stored across the tenant's mailboxes, answered as `messages` is."""
    message_size: MessageSize | None = None
    """Largest message, in octets (REST 413; SMTP `SIZE` and 552 5.3.4); never above the server's
    `--max-message-size`."""
    api_rps: RequestRate | None = None
    """REST requests per second on this tenant's paths (bursts up to one second's worth); more are
    answered 429 with `Retry-After`."""


class TenantSpecBase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tenant to create: an isolated set of mailboxes served on its own ports, one per listener of every
    protocol (`<listener>_port`, 0 or absent to let the system pick)."""

    name: TenantName
    catch_all: UserName | None = None
    """The mailbox that takes SMTP mail for recipients no mailbox matches; null refuses them (`550 5.1.1`)."""
    exclusive_sessions: bool = True
    """RFC 1939 maildrop lock: a second concurrent login gets `-ERR [IN-USE]`.  False lets sessions share."""
    max_sessions: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    """Concurrent sessions (every protocol together) allowed on this tenant; null takes the server's default."""
    limits: TenantLimitsBase = TenantLimitsBase()
    """Storage, size, session and request-rate limits (see `TenantLimits`)."""


def _described(kind: Any, text: str) -> Any:
    return Annotated[kind, Meta(description=text)]


if TYPE_CHECKING:
    TenantLimits = TenantLimitsBase
    TenantSpec = TenantSpecBase
else:
    TenantLimits = with_protocol_fields(
        "TenantLimits",
        TenantLimitsBase,
        [
            (entry.limit, _described(SessionCount | None, entry.limit_description), None)
            for entry in PROTOCOLS
        ],
        after="message_size",
    )
    TenantSpec = with_protocol_fields(
        "TenantSpec",
        TenantSpecBase,
        [(f"{listener.name}_port", _described(Port, listener.description), 0) for listener in LISTENERS]
        + [
            (option.name, _described(option.type, option.description), option.default)
            for entry in PROTOCOLS
            for option in entry.fields
        ]
        + [("limits", TenantLimits, TenantLimits())],
        after="name",
    )
"""`TenantLimits` and `TenantSpec` are their bases plus the fields of every registered protocol
(`mockmail.protocols`): `pop3_sessions`, `pop3_port`, `smtp_auth`, ..."""


class MailboxSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A mailbox's credentials, replacing those it has."""

    password: Password
    bearer_token: BearerToken | None = None
    """The OAuth 2.0 bearer token that logs in with XOAUTH2 or OAUTHBEARER (POP3, SMTP) instead of the
    password; absent or null: the mailbox has none (a PUT without it removes the one it had)."""


class FlagsSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A message's IMAP flags, replacing those it has."""

    flags: Annotated[list[Annotated[str, Meta(pattern=FLAG_PATTERN)]], Meta(max_length=100)]
    """System flags (`\\Seen`, `\\Answered`, `\\Flagged`, `\\Deleted`, `\\Draft`) and keywords (RFC 9051
    atoms such as `$Label`)."""


class Attachment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A file attached to a composed message; `content` is base64 in JSON."""

    filename: Annotated[str, Meta(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f/\\]*(?!\n)$")]
    content: bytes
    content_type: Annotated[str, Meta(pattern=r"^[!-~]+/[!-~]+(?!\n)$")] = "application/octet-stream"


class MessageSpec(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename={"sender": "from"}
):
    """A message to compose with Python's `email` package; every field is optional."""

    sender: EmailAddress = "mockmail <sender@mockmail.test>"
    to: list[EmailAddress] | None = None
    """Recipients; by default the mailbox user (`user@mockmail.test` when it has no domain)."""
    cc: list[EmailAddress] = []
    subject: HeaderText = ""
    text: str | None = None
    html: str | None = None
    headers: dict[Annotated[str, Meta(pattern=_HEADER_NAME_PATTERN)], HeaderText] = {}
    """Extra header fields, added after the standard ones."""
    attachments: list[Attachment] = []
    date: Annotated[datetime.datetime, Meta(tz=True)] | None = None
    """The Date header (RFC 3339 with a time zone offset); now by default."""
    uid: Annotated[str, Meta(pattern=r"^[\x21-\x7e]{1,70}(?!\n)$")] | None = None
    """The UIDL unique-id to give the message; a fresh one by default."""
