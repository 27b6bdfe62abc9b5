"""`AsyncTenant`, `AsyncMailbox` and `AsyncFaults`: the conveniences a test reaches for, on `AsyncClient`.

This file is the source of `_sync_objects.py` (see `_unasync.py`); edit this one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mockmail.api.schemas import (
    FoundMessage,
    MailboxView,
    MessageCreated,
    MessageDetail,
    MessageSummary,
    TenantView,
)
from mockmail.faults import FaultPlan, MailboxFaultPlan
from mockmail.message.mime import MessageParts
from mockmail.observe.transcripts import SessionDetail
from mockmail.tenancy.specs import Endpoint

from ._calls import Call, MailTimeout, filter_params, json_call, seed_body, timeout_message
from ._calls import mailbox_path as _mailbox
from ._calls import tenant_path as _tenant

if TYPE_CHECKING:
    from ._async import AsyncClient

__all__ = ["AsyncFaultChange", "AsyncFaults", "AsyncMailbox", "AsyncTenant"]

LONG_POLL_MAX = 300.0  # the server's upper bound for `wait`


class AsyncTenant:
    """A tenant: where its listeners are, its mailboxes, its fault plan and its transcripts."""

    def __init__(self, client: AsyncClient, view: TenantView, token: str | None = None) -> None:
        self.client = client
        self.view = view
        self.token = token
        """The tenant's own token, when this object created the tenant (shown once by the server)."""
        self.faults = AsyncFaults(client, f"{_tenant(view.name)}/faults", FaultPlan)

    def __repr__(self) -> str:
        return f"<AsyncTenant {self.name} pop3={self.pop3} smtp={self.smtp}>"

    @property
    def name(self) -> str:
        return self.view.name

    def endpoint(self, listener: str) -> Endpoint | None:
        """Where a listener accepts connections, by its name (`pop3`, `smtps`, ...); None when it is not open."""
        return self.view.endpoint(listener)

    @property
    def pop3(self) -> Endpoint | None:
        return self.view.endpoint("pop3")

    @property
    def pop3s(self) -> Endpoint | None:
        return self.view.endpoint("pop3s")

    @property
    def smtp(self) -> Endpoint | None:
        return self.view.endpoint("smtp")

    @property
    def smtps(self) -> Endpoint | None:
        return self.view.endpoint("smtps")

    @property
    def imap(self) -> Endpoint | None:
        return self.view.endpoint("imap")

    @property
    def imaps(self) -> Endpoint | None:
        return self.view.endpoint("imaps")

    @property
    def worker(self) -> int:
        """The worker process that owns the tenant (`serve --workers`; 0 when the server runs alone)."""
        return self.view.worker

    async def refresh(self) -> TenantView:
        self.view = await self.client.get_tenant(self.name)
        return self.view

    async def delete(self) -> None:
        await self.client.delete_tenant(self.name)

    async def mailbox(
        self, user: str, password: str | None = None, *, bearer_token: str | None = None
    ) -> AsyncMailbox:
        """The mailbox `user`: created (or given this password and bearer token) when `password` is set,
        else an existing one."""
        if password is None:
            view = await self.client.get_mailbox(self.name, user)
        else:
            view = await self.client.put_mailbox(self.name, user, password, bearer_token=bearer_token)
        return AsyncMailbox(self.client, self.name, view.user)

    async def mailboxes(self) -> list[AsyncMailbox]:
        return [
            AsyncMailbox(self.client, self.name, view.user)
            for view in await self.client.list_mailboxes(self.name)
        ]

    async def search(
        self,
        q: str | None = None,
        *,
        subject: str | None = None,
        sender: str | None = None,
        to: str | None = None,
        text: str | None = None,
    ) -> list[FoundMessage]:
        """Messages of every mailbox that pass the filters, oldest first, each naming its `mailbox`."""
        return await self.client.search_messages(
            self.name, q=q, subject=subject, sender=sender, to=to, text=text
        )

    async def sessions(self, user: str | None = None, limit: int | None = None) -> list[SessionDetail]:
        """Sessions newest first, each with its lines."""
        found = await self.client.list_sessions(self.name, user=user, limit=limit)
        return [await self.client.get_session(self.name, summary.id) for summary in found]

    async def clear_sessions(self) -> None:
        await self.client.clear_sessions(self.name)

    def stream(self, user: str | None = None) -> Any:
        """Live transcript lines: `async with tenant.stream() as lines: async for line in lines: ...`."""
        return self.client.stream_sessions(self.name, user=user)


class AsyncMailbox:
    """A mailbox of a tenant: seed it, list and read its messages, wait for mail, set its own faults."""

    def __init__(self, client: AsyncClient, tenant: str, user: str) -> None:
        self.client = client
        self.tenant = tenant
        self.user = user
        self.faults = AsyncFaults(client, f"{_mailbox(tenant, user)}/faults", MailboxFaultPlan)

    def __repr__(self) -> str:
        return f"<AsyncMailbox {self.user} of {self.tenant}>"

    async def info(self) -> MailboxView:
        return await self.client.get_mailbox(self.tenant, self.user)

    async def delete(self) -> None:
        await self.client.delete_mailbox(self.tenant, self.user)

    async def seed(
        self, raw: bytes | str | Path | None = None, /, **fields: Any
    ) -> MessageCreated | list[MessageCreated]:
        """Store a message: raw bytes, a file (.eml, or mbox: a list comes back), or MessageSpec fields
        (`subject=`, `text=`, `html=`, `sender=`, `attachments=`, ...) to compose one."""
        body, content_type = seed_body(raw, fields)
        return await self.client.add_messages(self.tenant, self.user, body, content_type)

    async def messages(self) -> list[MessageSummary]:
        return await self.client.list_messages(self.tenant, self.user)

    async def search(
        self,
        q: str | None = None,
        *,
        subject: str | None = None,
        sender: str | None = None,
        to: str | None = None,
        text: str | None = None,
    ) -> list[MessageSummary]:
        """The messages that pass the filters: `q` terms found in the subject, sender, recipients or
        text; the others each a case-insensitive substring of that one thing."""
        return await self.client.list_messages(
            self.tenant, self.user, q=q, subject=subject, sender=sender, to=to, text=text
        )

    async def message(self, message_id: str) -> MessageDetail:
        """The message with its header fields and its `links` (the verification link a test follows)."""
        return await self.client.get_message(self.tenant, self.user, message_id)

    async def raw(self, message_id: str) -> bytes:
        return await self.client.get_message_raw(self.tenant, self.user, message_id)

    async def parts(self, message_id: str) -> MessageParts:
        """The message's text and HTML bodies, decoded, and its attachments in brief."""
        return await self.client.get_message_parts(self.tenant, self.user, message_id)

    async def attachment(self, message_id: str, index: int) -> bytes:
        return await self.client.get_attachment(self.tenant, self.user, message_id, index)

    async def delete_message(self, message_id: str) -> None:
        await self.client.delete_message(self.tenant, self.user, message_id)

    async def purge(self) -> None:
        await self.client.purge_messages(self.tenant, self.user)

    async def wait_for(
        self,
        count: int = 1,
        timeout: float = 10.0,
        subject: str | None = None,
        *,
        sender: str | None = None,
        to: str | None = None,
        text: str | None = None,
        match: Callable[[MessageSummary], bool] | None = None,
    ) -> list[MessageSummary]:
        """Block until the mailbox holds `count` messages that pass the filters and return those; the
        server's long-poll answers the moment they arrive.  Raises `MailTimeout` after `timeout`.

        `subject`, `sender`, `to` and `text` are case-insensitive substrings of the Subject, the From
        field (or MAIL FROM), a To or Cc field (or RCPT TO) and the decoded text (the text/plain body or
        what the HTML one shows); the server applies them, so other mail is never fetched.  `match` is
        a predicate on each message's summary, applied here after them.
        """
        filters = filter_params(subject=subject, sender=sender, to=to, text=text)
        deadline = time.monotonic() + timeout
        want = count
        while True:
            remaining = min(max(deadline - time.monotonic(), 0.0), LONG_POLL_MAX)
            found = await self.client.list_messages(
                self.tenant, self.user, wait=remaining, count=want, **filters
            )
            matching = [m for m in found if match is None or match(m)]
            if len(matching) >= count:
                return matching
            if time.monotonic() >= deadline:
                held = await self.client.list_messages(self.tenant, self.user)
                where = f"{self.user} of {self.tenant}"
                report = timeout_message(where, count, timeout, filters, match, len(matching), held)
                raise MailTimeout(report, matching, held)
            # The server counts what passes its filters; `match` may refuse some, so wait for one more.
            want = max(len(found) + 1, count) if match is not None else count


class AsyncFaults:
    """A fault plan (a tenant's or a mailbox's): `get`, `set` (a context manager too), `patch`, `clear`."""

    def __init__(self, client: AsyncClient, path: str, plan_type: Any) -> None:
        self.client = client
        self.path = path
        self.plan_type = plan_type

    async def get(self) -> Any:
        return await self.client.send(Call("GET", self.path, self.plan_type))

    async def set(self, profile: str | None = None, **knobs: Any) -> AsyncFaultChange:
        """Replace the plan with a preset and knobs; `async with await faults.set(...)` puts the
        plan before it back on exit."""
        previous = await self.get()
        applied = await self.put({"profile": profile, **knobs} if profile is not None else knobs)
        return AsyncFaultChange(self, previous, applied)

    async def put(self, plan: Any) -> Any:
        """Replace the plan with `plan` (a plan struct or its fields as a dict) and return it as stored."""
        return await self.client.send(json_call("PUT", self.path, self.plan_type, plan))

    async def patch(self, **knobs: Any) -> Any:
        """Change the fields given (None sets one back to compliant) and keep the rest."""
        return await self.client.send(json_call("PATCH", self.path, self.plan_type, knobs))

    async def clear(self) -> None:
        """Back to compliant."""
        await self.client.send(Call("DELETE", self.path, None))


class AsyncFaultChange:
    """A plan that `AsyncFaults.set` applied; as a context manager, the plan before it returns on exit."""

    def __init__(self, faults: AsyncFaults, previous: Any, plan: Any) -> None:
        self.faults = faults
        self.previous = previous
        self.plan = plan

    async def __aenter__(self) -> Any:
        return self.plan

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.restore()

    async def restore(self) -> None:
        if self.previous == self.faults.plan_type():
            await self.faults.clear()
        else:
            await self.faults.put(self.previous)
