"""Generated from _async.py by `python -m mockmail.client._unasync`: edit that file, not this one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
import msgspec

from api.schemas import (
    Health,
    MailboxView,
    MessageCreated,
    MessageDetail,
    MessageSummary,
    Ready,
    TenantCreated,
    TenantToken,
    TenantView,
)
from mockmail.faults import FaultPlan, MailboxFaultPlan, Profile
from mockmail.mime import MessageParts
from mockmail.specs import Endpoint, MailboxSpec, TenantSpec
from mockmail.transcripts import LiveLine, SessionDetail, SessionSummary

from ._calls import (
    API,
    MBOX,
    RAW,
    Call,
    MailTimeout,
    SseParser,
    decode,
    json_call,
    seed_body,
    segment,
)
from ._calls import mailbox_path as _mailbox
from ._calls import message_path as _message
from ._calls import tenant_path as _tenant

__all__ = ["Client", "FaultChange", "Faults", "Mailbox", "Tenant"]

T = TypeVar("T")
LONG_POLL_MAX = 300.0  # the server's upper bound for `wait`


class Client:
    """The whole REST API of one mockmail server: a method per operation of openapi.yaml (named for its
    operationId), and `tenant()` / `create_tenant()` for the conveniences of `Tenant`.

    Every error answer raises `ApiError` with the server's problem document.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call[T]) -> T:
        """Send one call and decode its answer (raises `ApiError` for a status of 400 and above)."""
        timeout = httpx.USE_CLIENT_DEFAULT if call.timeout is None else self.timeout + call.timeout
        response = self._http.request(
            call.method,
            call.path,
            params=call.params,
            content=call.body,
            headers=call.headers(),
            timeout=timeout,
        )
        return decode(call, response.status_code, response.content, response.reason_phrase)

    # -- conveniences ------------------------------------------------------------------------------

    def tenant(self, name: str) -> Tenant:
        """An existing tenant (raises `ApiError` 404 when there is none by that name)."""
        return Tenant(self, self.get_tenant(name))

    def create_tenant(self, name: str | TenantSpec, **fields: Any) -> Tenant:
        """createTenant: from a name and TenantSpec fields (`smtp_auth="required"`, `limits={...}`), or a
        whole `TenantSpec`.  The tenant's own token is on the result, as `.token`.  The server checks the
        fields: a bad one raises `ApiError` 422 naming it."""
        spec = name if isinstance(name, TenantSpec) else {"name": name, **fields}
        created = self.send(json_call("POST", f"{API}/tenants", TenantCreated, spec))
        return Tenant(self, created, token=created.token)

    def tenants(self) -> list[Tenant]:
        return [Tenant(self, view) for view in self.list_tenants()]

    # -- one method per operation ------------------------------------------------------------------

    def get_health(self) -> Health:
        return self.send(Call("GET", f"{API}/health", Health))

    def get_ready(self) -> Ready:
        """Raises `ApiError` 503, whose problem names the failed tenants, when not ready."""
        return self.send(Call("GET", f"{API}/ready", Ready))

    def get_metrics(self) -> str:
        return self.send(Call("GET", "/metrics", str, accept="text/plain"))

    def get_open_api(self) -> str:
        return self.send(Call("GET", f"{API}/openapi.yaml", str, accept="application/yaml"))

    def get_ca_certificate(self) -> bytes:
        return self.send(Call("GET", f"{API}/tls/ca.pem", bytes, accept="application/x-pem-file"))

    def list_tenants(self) -> list[TenantView]:
        return self.send(Call("GET", f"{API}/tenants", list[TenantView]))

    def get_tenant(self, tenant: str) -> TenantView:
        return self.send(Call("GET", _tenant(tenant), TenantView))

    def delete_tenant(self, tenant: str) -> None:
        self.send(Call("DELETE", _tenant(tenant), None))

    def rotate_tenant_token(self, tenant: str) -> TenantToken:
        return self.send(Call("POST", f"{_tenant(tenant)}/token", TenantToken))

    def list_mailboxes(self, tenant: str) -> list[MailboxView]:
        return self.send(Call("GET", f"{_tenant(tenant)}/mailboxes", list[MailboxView]))

    def get_mailbox(self, tenant: str, user: str) -> MailboxView:
        return self.send(Call("GET", _mailbox(tenant, user), MailboxView))

    def put_mailbox(self, tenant: str, user: str, password: str) -> MailboxView:
        spec = MailboxSpec(password=password)
        return self.send(json_call("PUT", _mailbox(tenant, user), MailboxView, spec))

    def delete_mailbox(self, tenant: str, user: str) -> None:
        self.send(Call("DELETE", _mailbox(tenant, user), None))

    def list_messages(
        self, tenant: str, user: str, *, wait: float = 0.0, count: int = 1
    ) -> list[MessageSummary]:
        """The mailbox's messages; with `wait`, once it holds `count` of them or after `wait` seconds."""
        params = {"wait": f"{wait:.3f}", "count": str(count)} if wait > 0 else {}
        path = f"{_mailbox(tenant, user)}/messages"
        return self.send(Call("GET", path, list[MessageSummary], params=params, timeout=wait))

    def add_messages(
        self, tenant: str, user: str, body: bytes, content_type: str, *, uid: str | None = None
    ) -> MessageCreated | list[MessageCreated]:
        """addMessages with a body as it is: JSON (one MessageSpec or a list), message/rfc822 or mbox."""
        path = f"{_mailbox(tenant, user)}/messages"
        params = {"uid": uid} if uid is not None else {}
        many = content_type == MBOX or (content_type != RAW and body.lstrip().startswith(b"["))
        result = list[MessageCreated] if many else MessageCreated
        call: Call[Any] = Call("POST", path, result, params=params, body=body, content_type=content_type)
        created: MessageCreated | list[MessageCreated] = self.send(call)
        return created

    def purge_messages(self, tenant: str, user: str) -> None:
        self.send(Call("DELETE", f"{_mailbox(tenant, user)}/messages", None))

    def get_message(self, tenant: str, user: str, message_id: str) -> MessageDetail:
        return self.send(Call("GET", _message(tenant, user, message_id), MessageDetail))

    def get_message_raw(self, tenant: str, user: str, message_id: str) -> bytes:
        """getMessage as the stored bytes (`Accept: message/rfc822`)."""
        return self.send(Call("GET", _message(tenant, user, message_id), bytes, accept=RAW))

    def delete_message(self, tenant: str, user: str, message_id: str) -> None:
        self.send(Call("DELETE", _message(tenant, user, message_id), None))

    def get_message_parts(self, tenant: str, user: str, message_id: str) -> MessageParts:
        return self.send(Call("GET", f"{_message(tenant, user, message_id)}/parts", MessageParts))

    def get_attachment(self, tenant: str, user: str, message_id: str, index: int) -> bytes:
        path = f"{_message(tenant, user, message_id)}/attachments/{index:d}"
        return self.send(Call("GET", path, bytes, accept="*/*"))

    def list_fault_profiles(self) -> list[Profile]:
        return self.send(Call("GET", f"{API}/fault-profiles", list[Profile]))

    def get_tenant_faults(self, tenant: str) -> FaultPlan:
        return self.send(Call("GET", f"{_tenant(tenant)}/faults", FaultPlan))

    def put_tenant_faults(self, tenant: str, plan: FaultPlan | dict[str, Any]) -> FaultPlan:
        return self.send(json_call("PUT", f"{_tenant(tenant)}/faults", FaultPlan, plan))

    def patch_tenant_faults(self, tenant: str, patch: dict[str, Any]) -> FaultPlan:
        return self.send(json_call("PATCH", f"{_tenant(tenant)}/faults", FaultPlan, patch))

    def delete_tenant_faults(self, tenant: str) -> None:
        self.send(Call("DELETE", f"{_tenant(tenant)}/faults", None))

    def get_mailbox_faults(self, tenant: str, user: str) -> Any:
        """The mailbox's own plan, a `MailboxFaultPlan`."""
        return self.send(Call("GET", f"{_mailbox(tenant, user)}/faults", MailboxFaultPlan))

    def put_mailbox_faults(self, tenant: str, user: str, plan: msgspec.Struct | dict[str, Any]) -> Any:
        path = f"{_mailbox(tenant, user)}/faults"
        return self.send(json_call("PUT", path, MailboxFaultPlan, plan))

    def patch_mailbox_faults(self, tenant: str, user: str, patch: dict[str, Any]) -> Any:
        path = f"{_mailbox(tenant, user)}/faults"
        return self.send(json_call("PATCH", path, MailboxFaultPlan, patch))

    def delete_mailbox_faults(self, tenant: str, user: str) -> None:
        self.send(Call("DELETE", f"{_mailbox(tenant, user)}/faults", None))

    def list_sessions(
        self, tenant: str, *, user: str | None = None, limit: int | None = None
    ) -> list[SessionSummary]:
        params = {"user": user} if user is not None else {}
        if limit is not None:
            params["limit"] = str(limit)
        path = f"{_tenant(tenant)}/sessions"
        return self.send(Call("GET", path, list[SessionSummary], params=params))

    def clear_sessions(self, tenant: str) -> None:
        self.send(Call("DELETE", f"{_tenant(tenant)}/sessions", None))

    def get_session(self, tenant: str, session_id: str) -> SessionDetail:
        path = f"{_tenant(tenant)}/sessions/{segment(session_id)}"
        return self.send(Call("GET", path, SessionDetail))

    @contextmanager
    def stream_sessions(
        self, tenant: str, *, user: str | None = None
    ) -> Iterator[Iterator[LiveLine]]:
        """The live transcript lines, from the moment this is entered (the stream is subscribed then):
        `with client.stream_sessions(name) as lines: for line in lines: ...`"""
        params = {"user": user} if user is not None else {}
        path = f"{_tenant(tenant)}/sessions/stream"
        headers = {"Accept": "text/event-stream"}
        with self._http.stream("GET", path, params=params, headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                decode(
                    Call("GET", path, None), response.status_code, response.content, response.reason_phrase
                )
            lines = response.iter_lines()
            parser = SseParser()
            for line in lines:  # the opening comment: the server holds our subscription now
                parser.feed(line)
                if parser.comments:
                    break
            yield _live_lines(lines, parser)


def _live_lines(lines: Iterator[str], parser: SseParser) -> Iterator[LiveLine]:
    for line in lines:
        data = parser.feed(line)
        if data is not None:
            yield msgspec.json.decode(data, type=LiveLine)


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

    @property
    def pop3(self) -> Endpoint | None:
        return self.view.pop3

    @property
    def pop3s(self) -> Endpoint | None:
        return self.view.pop3s

    @property
    def smtp(self) -> Endpoint | None:
        return self.view.smtp

    @property
    def smtps(self) -> Endpoint | None:
        return self.view.smtps

    def refresh(self) -> TenantView:
        self.view = self.client.get_tenant(self.name)
        return self.view

    def delete(self) -> None:
        self.client.delete_tenant(self.name)

    def mailbox(self, user: str, password: str | None = None) -> Mailbox:
        """The mailbox `user`: created (or given this password) when `password` is set, else an existing one."""
        if password is None:
            view = self.client.get_mailbox(self.name, user)
        else:
            view = self.client.put_mailbox(self.name, user, password)
        return Mailbox(self.client, self.name, view.user)

    def mailboxes(self) -> list[Mailbox]:
        return [
            Mailbox(self.client, self.name, view.user)
            for view in self.client.list_mailboxes(self.name)
        ]

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

    def message(self, message_id: str) -> MessageDetail:
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
        self, count: int = 1, timeout: float = 10.0, subject: str | None = None
    ) -> list[MessageSummary]:
        """Block until the mailbox holds `count` messages (with `subject`, if given) and return those;
        the server's long-poll answers the moment they arrive.  Raises `MailTimeout` after `timeout`."""
        deadline = time.monotonic() + timeout
        want = count
        while True:
            remaining = min(max(deadline - time.monotonic(), 0.0), LONG_POLL_MAX)
            found = self.client.list_messages(self.tenant, self.user, wait=remaining, count=want)
            matching = [m for m in found if subject is None or m.subject == subject]
            if len(matching) >= count:
                return matching
            if time.monotonic() >= deadline:
                what = f"{count} message(s)" + (f" with subject {subject!r}" if subject is not None else "")
                raise MailTimeout(
                    f"{self.user} of {self.tenant}: no {what} after {timeout:g} s ({len(matching)} there)",
                    matching,
                )
            want = max(len(found) + 1, count) if subject is not None else count


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
        plan = {"profile": profile, **knobs} if profile is not None else knobs
        applied = self.client.send(json_call("PUT", self.path, self.plan_type, plan))
        return FaultChange(self, previous, applied)

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
            self.faults.client.send(
                json_call("PUT", self.faults.path, self.faults.plan_type, self.previous)
            )
