"""Generated from _async.py by `python -m mockmail.client._unasync`: edit that file, not this one."""

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
    from ._sync import Client

__all__ = ["FaultChange", "Faults", "Mailbox", "Tenant"]

LONG_POLL_MAX = 300.0  # the server's upper bound for `wait`


class Tenant:
    """A tenant: where its listeners are, its mailboxes, its fault plan and its transcripts."""

    def __init__(self, client: Client, view: TenantView, token: str | None = None) -> None:
        self.client = client
        self.view = view
        self.token = token
        """The tenant's own token, when this object created the tenant (shown once by the server)."""
        self.faults = Faults(client, f"{_tenant(view.name)}/faults", FaultPlan)

    def __repr__(self) -> str:
        return f"<Tenant {self.name} pop3={self.pop3} smtp={self.smtp}>"

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

    def refresh(self) -> TenantView:
        self.view = self.client.get_tenant(self.name)
        return self.view

    def delete(self) -> None:
        self.client.delete_tenant(self.name)

    def mailbox(
        self, user: str, password: str | None = None, *, bearer_token: str | None = None
    ) -> Mailbox:
        """The mailbox `user`: created (or given this password and bearer token) when `password` is set,
        else an existing one."""
        if password is None:
            view = self.client.get_mailbox(self.name, user)
        else:
            view = self.client.put_mailbox(self.name, user, password, bearer_token=bearer_token)
        return Mailbox(self.client, self.name, view.user)

    def mailboxes(self) -> list[Mailbox]:
        return [
            Mailbox(self.client, self.name, view.user)
            for view in self.client.list_mailboxes(self.name)
        ]

    def search(
        self,
        q: str | None = None,
        *,
        subject: str | None = None,
        sender: str | None = None,
        to: str | None = None,
        text: str | None = None,
    ) -> list[FoundMessage]:
        """Messages of every mailbox that pass the filters, oldest first, each naming its `mailbox`."""
        return self.client.search_messages(
            self.name, q=q, subject=subject, sender=sender, to=to, text=text
        )

    def sessions(self, user: str | None = None, limit: int | None = None) -> list[SessionDetail]:
        """Sessions newest first, each with its lines."""
        found = self.client.list_sessions(self.name, user=user, limit=limit)
        return [self.client.get_session(self.name, summary.id) for summary in found]

    def clear_sessions(self) -> None:
        self.client.clear_sessions(self.name)

    def stream(self, user: str | None = None) -> Any:
        """Live transcript lines: `with tenant.stream() as lines: for line in lines: ...`."""
        return self.client.stream_sessions(self.name, user=user)


class Mailbox:
    """A mailbox of a tenant: seed it, list and read its messages, wait for mail, set its own faults."""

    def __init__(self, client: Client, tenant: str, user: str) -> None:
        self.client = client
        self.tenant = tenant
        self.user = user
        self.faults = Faults(client, f"{_mailbox(tenant, user)}/faults", MailboxFaultPlan)

    def __repr__(self) -> str:
        return f"<Mailbox {self.user} of {self.tenant}>"

    def info(self) -> MailboxView:
        return self.client.get_mailbox(self.tenant, self.user)

    def delete(self) -> None:
        self.client.delete_mailbox(self.tenant, self.user)

    def seed(
        self, raw: bytes | str | Path | None = None, /, **fields: Any
    ) -> MessageCreated | list[MessageCreated]:
        """Store a message: raw bytes, a file (.eml, or mbox: a list comes back), or MessageSpec fields
        (`subject=`, `text=`, `html=`, `sender=`, `attachments=`, ...) to compose one."""
        body, content_type = seed_body(raw, fields)
        return self.client.add_messages(self.tenant, self.user, body, content_type)

    def messages(self) -> list[MessageSummary]:
        return self.client.list_messages(self.tenant, self.user)

    def search(
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
        return self.client.list_messages(
            self.tenant, self.user, q=q, subject=subject, sender=sender, to=to, text=text
        )

    def message(self, message_id: str) -> MessageDetail:
        """The message with its header fields and its `links` (the verification link a test follows)."""
        return self.client.get_message(self.tenant, self.user, message_id)

    def raw(self, message_id: str) -> bytes:
        return self.client.get_message_raw(self.tenant, self.user, message_id)

    def parts(self, message_id: str) -> MessageParts:
        """The message's text and HTML bodies, decoded, and its attachments in brief."""
        return self.client.get_message_parts(self.tenant, self.user, message_id)

    def attachment(self, message_id: str, index: int) -> bytes:
        return self.client.get_attachment(self.tenant, self.user, message_id, index)

    def delete_message(self, message_id: str) -> None:
        self.client.delete_message(self.tenant, self.user, message_id)

    def purge(self) -> None:
        self.client.purge_messages(self.tenant, self.user)

    def wait_for(
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
            found = self.client.list_messages(
                self.tenant, self.user, wait=remaining, count=want, **filters
            )
            matching = [m for m in found if match is None or match(m)]
            if len(matching) >= count:
                return matching
            if time.monotonic() >= deadline:
                held = self.client.list_messages(self.tenant, self.user)
                where = f"{self.user} of {self.tenant}"
                report = timeout_message(where, count, timeout, filters, match, len(matching), held)
                raise MailTimeout(report, matching, held)
            # The server counts what passes its filters; `match` may refuse some, so wait for one more.
            want = max(len(found) + 1, count) if match is not None else count


class Faults:
    """A fault plan (a tenant's or a mailbox's): `get`, `set` (a context manager too), `patch`, `clear`."""

    def __init__(self, client: Client, path: str, plan_type: Any) -> None:
        self.client = client
        self.path = path
        self.plan_type = plan_type

    def get(self) -> Any:
        return self.client.send(Call("GET", self.path, self.plan_type))

    def set(self, profile: str | None = None, **knobs: Any) -> FaultChange:
        """Replace the plan with a preset and knobs; `with faults.set(...)` puts the
        plan before it back on exit."""
        previous = self.get()
        applied = self.put({"profile": profile, **knobs} if profile is not None else knobs)
        return FaultChange(self, previous, applied)

    def put(self, plan: Any) -> Any:
        """Replace the plan with `plan` (a plan struct or its fields as a dict) and return it as stored."""
        return self.client.send(json_call("PUT", self.path, self.plan_type, plan))

    def patch(self, **knobs: Any) -> Any:
        """Change the fields given (None sets one back to compliant) and keep the rest."""
        return self.client.send(json_call("PATCH", self.path, self.plan_type, knobs))

    def clear(self) -> None:
        """Back to compliant."""
        self.client.send(Call("DELETE", self.path, None))


class FaultChange:
    """A plan that `Faults.set` applied; as a context manager, the plan before it returns on exit."""

    def __init__(self, faults: Faults, previous: Any, plan: Any) -> None:
        self.faults = faults
        self.previous = previous
        self.plan = plan

    def __enter__(self) -> Any:
        return self.plan

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.restore()

    def restore(self) -> None:
        if self.previous == self.faults.plan_type():
            self.faults.clear()
        else:
            self.faults.put(self.previous)
