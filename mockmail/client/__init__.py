"""A typed Python client for the mockmail control API, on httpx, with the server's own msgspec structs.

    from mockmail.client import Client

    with Client("http://127.0.0.1:8025") as client:
        tenant = client.create_tenant("acme")
        inbox = tenant.mailbox("alice", password="s3cret")
        inbox.seed(subject="Hello", text="Hi Alice")
        with tenant.faults.set(profile="mailpit-legacy"):
            ...  # the tenant misbehaves here; its plan before comes back after

`AsyncClient` is the same API for async code (trio, through httpx's anyio backend, or asyncio).  Every
error answer raises `ApiError`, which carries the server's RFC 9457 problem document.
"""

from __future__ import annotations

from mockmail.api.schemas import (
    FoundMessage,
    MailboxView,
    MessageCreated,
    MessageDetail,
    MessageSummary,
    Problem,
    TenantView,
)
from mockmail.message.mime import AttachmentInfo, MessageParts
from mockmail.observe.transcripts import LiveLine, SessionDetail, SessionSummary, TranscriptLine
from mockmail.tenancy.specs import Endpoint

from ._async import AsyncClient
from ._async_objects import AsyncFaultChange, AsyncFaults, AsyncMailbox, AsyncTenant
from ._calls import ApiError, MailTimeout
from ._shapes import POPLIB_MAXLINE, long_line_message
from ._sync import Client
from ._sync_objects import FaultChange, Faults, Mailbox, Tenant
from ._text import live_line_text, transcript_text

__all__ = [
    "POPLIB_MAXLINE",
    "ApiError",
    "AsyncClient",
    "AsyncFaultChange",
    "AsyncFaults",
    "AsyncMailbox",
    "AsyncTenant",
    "AttachmentInfo",
    "Client",
    "Endpoint",
    "FaultChange",
    "Faults",
    "FoundMessage",
    "LiveLine",
    "MailTimeout",
    "Mailbox",
    "MailboxView",
    "MessageCreated",
    "MessageDetail",
    "MessageParts",
    "MessageSummary",
    "Problem",
    "SessionDetail",
    "SessionSummary",
    "Tenant",
    "TenantView",
    "TranscriptLine",
    "live_line_text",
    "long_line_message",
    "transcript_text",
]
