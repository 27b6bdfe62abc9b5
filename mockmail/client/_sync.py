"""Generated from _async.py by `python -m mockmail.client._unasync`: edit that file, not this one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

import httpx
import msgspec

from mockmail.api.schemas import (
    FoundMessage,
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
from mockmail.message.mime import MessageParts
from mockmail.observe.transcripts import LiveLine, SessionDetail, SessionSummary
from mockmail.store import FolderInfo
from mockmail.tenancy.specs import FlagsSpec, MailboxSpec, TenantSpec

from . import _sync_objects as objects
from ._calls import (
    API,
    RAW,
    ApiError,
    Call,
    SseParser,
    decode,
    filter_params,
    json_call,
    problem_of,
    segment,
)
from ._calls import mailbox_path as _mailbox
from ._calls import message_path as _message
from ._calls import tenant_path as _tenant

__all__ = ["Client"]

T = TypeVar("T")


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

    def tenant(self, name: str) -> objects.Tenant:
        """An existing tenant (raises `ApiError` 404 when there is none by that name)."""
        return objects.Tenant(self, self.get_tenant(name))

    def create_tenant(self, name: str | TenantSpec, **fields: Any) -> objects.Tenant:
        """createTenant: from a name and TenantSpec fields (`smtp_auth="required"`, `limits={...}`), or a
        whole `TenantSpec`.  The tenant's own token is on the result, as `.token`.  The server checks the
        fields: a bad one raises `ApiError` 422 naming it."""
        spec = name if isinstance(name, TenantSpec) else {"name": name, **fields}
        created = self.send(json_call("POST", f"{API}/tenants", TenantCreated, spec))
        return objects.Tenant(self, created, token=created.token)

    def tenants(self) -> list[objects.Tenant]:
        return [objects.Tenant(self, view) for view in self.list_tenants()]

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

    def put_mailbox(
        self, tenant: str, user: str, password: str, *, bearer_token: str | None = None
    ) -> MailboxView:
        """Create the mailbox, or replace its password and bearer token (None: it has none)."""
        spec = MailboxSpec(password=password, bearer_token=bearer_token)
        return self.send(json_call("PUT", _mailbox(tenant, user), MailboxView, spec))

    def delete_mailbox(self, tenant: str, user: str) -> None:
        self.send(Call("DELETE", _mailbox(tenant, user), None))

    def list_folders(self, tenant: str, user: str) -> list[FolderInfo]:
        return self.send(Call("GET", f"{_mailbox(tenant, user)}/folders", list[FolderInfo]))

    def list_messages(
        self,
        tenant: str,
        user: str,
        *,
        wait: float = 0.0,
        count: int = 1,
        subject: str | None = None,
        sender: str | None = None,
        to: str | None = None,
        text: str | None = None,
        q: str | None = None,
    ) -> list[MessageSummary]:
        """The mailbox's messages that pass the filters (case-insensitive substrings of the subject, the
        sender, a recipient, the text; `q`: search terms found in any of them); with `wait`, once it holds
        `count` of them or after `wait` seconds."""
        params = {"wait": f"{wait:.3f}", "count": str(count)} if wait > 0 else {}
        params.update(filter_params(subject=subject, sender=sender, to=to, text=text, q=q))
        path = f"{_mailbox(tenant, user)}/messages"
        return self.send(Call("GET", path, list[MessageSummary], params=params, timeout=wait))

    def search_messages(
        self,
        tenant: str,
        *,
        q: str | None = None,
        subject: str | None = None,
        sender: str | None = None,
        to: str | None = None,
        text: str | None = None,
    ) -> list[FoundMessage]:
        """The messages of every mailbox of the tenant that pass the filters (as `list_messages`), oldest
        first, each with its `mailbox`."""
        params = filter_params(q=q, subject=subject, sender=sender, to=to, text=text)
        return self.send(Call("GET", f"{_tenant(tenant)}/messages", list[FoundMessage], params=params))

    def add_messages(
        self, tenant: str, user: str, body: bytes, content_type: str, *, uid: str | None = None
    ) -> MessageCreated | list[MessageCreated]:
        """addMessages with a body as it is: JSON (one MessageSpec or a list), message/rfc822 or mbox."""
        path = f"{_mailbox(tenant, user)}/messages"
        params = {"uid": uid} if uid is not None else {}
        result = MessageCreated | list[MessageCreated]  # an object for one message, an array for a batch
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

    def set_message_flags(
        self, tenant: str, user: str, message_id: str, flags: list[str]
    ) -> MessageDetail:
        path = f"{_message(tenant, user, message_id)}/flags"
        return self.send(json_call("PUT", path, MessageDetail, FlagsSpec(flags=flags)))

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
                raise ApiError(problem_of(response.status_code, response.content, response.reason_phrase))
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
