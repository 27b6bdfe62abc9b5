"""Response bodies of the control API (request bodies are the shared structs in `mockmail.tenancy.specs`)."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from mockmail.store import Envelope, Via
from mockmail.tenancy.views import MailboxView, TenantCreated, TenantToken, TenantView

__all__ = [
    "FoundMessage",
    "Health",
    "MailboxView",
    "MessageCreated",
    "MessageDetail",
    "MessageSummary",
    "Problem",
    "Ready",
    "TenantCreated",
    "TenantToken",
    "TenantView",
    "WorkerHealth",
]


class WorkerHealth(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One worker process: the server itself when it runs alone (`--workers 1`)."""

    id: int
    pid: int
    """Its process id (0 while a worker is being restarted)."""
    tenants: int
    state: Literal["up", "restarting"]
    """`restarting`: the worker died and the supervisor is starting it again."""
    restarts: int
    """Times the supervisor started this worker again after it died."""


class Health(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Liveness and a few counters; `degraded` while the process is short of resources."""

    status: Literal["ok", "degraded"]
    version: str
    tenants: int
    sessions: int
    tls: bool
    open_files: int
    """File descriptors the process holds: one per listener (two per tenant with TLS) and per session."""
    max_open_files: int
    """The process limit (RLIMIT_NOFILE); see the README for how to raise it."""
    tasks: int
    """Trio tasks alive in the server: one per listener and per session, and a few of the server's own."""
    problem: str | None
    """What ran out in the last minute, e.g. `out of file descriptors: ...`; null when nothing did."""
    workers: list[WorkerHealth]
    """The processes that own the tenants (`--workers`), one entry each."""


class Ready(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The server serves: the API answers and every tenant's listeners are up."""

    status: Literal["ready"]
    tenants: int


class MessageCreated(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A stored message: its id for the API, its UIDL unique-id, and its exact POP3 size in octets."""

    id: str
    uid: str
    size: int


class MessageSummary(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename={"sender": "from"}
):
    """A message in a listing; `size` is what LIST and STAT report for it."""

    id: str
    uid: str
    size: int
    subject: str
    sender: str
    date: str
    message_id: str
    via: Via
    """How it arrived: `api` (seeded over REST), `config` (the TOML file), `smtp` or `imap` (APPEND)."""
    envelope: Envelope | None
    """The SMTP envelope; null for mail seeded over REST or from the config."""
    folder: str
    """The folder it is in; `INBOX` is what POP3 sees."""
    flags: list[str]
    """Its IMAP flags, sorted: system flags (`\\Seen`, ...) and keywords."""
    imap_uid: int
    """Its IMAP UID in `folder` (RFC 9051 section 2.3.1.1); `uid` is the POP3 UIDL unique-id."""
    internaldate: datetime.datetime
    """IMAP's INTERNALDATE: when it arrived, unless an IMAP APPEND set it (RFC 3339, UTC)."""


class MessageDetail(MessageSummary, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One message with its header fields; ask with `Accept: message/rfc822` for the raw bytes."""

    headers: list[Annotated[list[str], Meta(min_length=2, max_length=2)]]
    """Each header field as `[name, value]`, in message order.  (A list rather than a tuple: the tuple's
    `prefixItems` schema trips schemathesis's stateful phase, and the JSON is the same.)"""
    links: list[str]
    """The http, https and mailto links of its HTML body (each `href`), then of its text body, decoded,
    each once, in order: the verification or reset link a test follows is `links[0]` or close to it."""


class FoundMessage(MessageSummary, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A message that a tenant-wide search found, and the mailbox it is in."""

    mailbox: str


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    """The offending input: a JSON path into the body (`$.pop3_port`) or a path/query parameter name."""
    tenants: list[str] | None = None
    """The tenants a 503 from `/api/v1/ready` is about (those whose listeners failed)."""
    limit: str | None = None
    """The tenant limit a 507, 413 or 429 is about (`messages`, `bytes`, `message_size`, `api_rps`, ...)."""
