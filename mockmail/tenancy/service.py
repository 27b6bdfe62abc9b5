"""`Service`: the one door from the control API (and the config loader) into the tenants.

The API calls these methods by tenant name and gets views, or the one part of a tenant a call works on
(a mailbox, the fault state, the transcripts); it never reads a `Tenant`'s attributes.  Every method runs
in this process; this is also the seam where a call can later be forwarded to the worker or replica that
owns the tenant.

Every lookup raises `TenantNotFound` (field `tenant`) or `MailboxNotFound` (field `user`) for a name that
is not there, so handlers need no checks of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import msgspec
import trio

from ..config.settings import Settings
from ..faults import FaultState
from ..message.ingest import Incoming, deliver
from ..observe.metrics import Metrics
from ..observe.transcripts import TranscriptLog
from ..protocols import LISTENERS, PROTOCOLS
from ..server.tls import TlsMaterial
from ..store import INBOX, Mailbox, Message, Via
from .registry import Registry
from .specs import TenantSpec
from .tenant import Tenant
from .tokens import Keyring
from .views import MailboxView, TenantCreated, TenantToken, TenantView

__all__ = ["Service"]


class Service:
    """What can be done to tenants, by name."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    # --- the server ---------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self._registry.settings

    async def settled(self) -> None:
        """Return once every change made so far is durable (the durability barrier, docs/scaling.md):
        the API awaits it before it answers.

        Raises:
            CommitFailed: the changes were not kept.
        """
        await self._registry.catalog.settled()

    @property
    def tls(self) -> TlsMaterial | None:
        return self._registry.tls

    @property
    def metrics(self) -> Metrics:
        return self._registry.metrics

    @property
    def keys(self) -> Keyring:
        """The admin token's digest and every tenant token's (the API checks requests against it)."""
        return self._registry.keys

    def counts(self) -> tuple[int, int]:
        """Tenants shown, and sessions open across them."""
        tenants = self._registry.list()
        return len(tenants), sum(len(tenant.listeners.sessions) for tenant in tenants)

    def failed_tenants(self) -> list[str]:
        """The tenants whose listeners failed, by name."""
        return sorted(tenant.name for tenant in self._registry.list() if tenant.state == "failed")

    # --- tenants --------------------------------------------------------------------------------------

    def tenant_names(self) -> list[str]:
        return [tenant.name for tenant in self._registry.list()]

    def tenants(self) -> list[TenantView]:
        return [self._view(tenant) for tenant in self._registry.list()]

    def tenant(self, name: str) -> TenantView:
        return self._view(self._registry.get(name))

    def require(self, name: str) -> None:
        """Nothing, if the tenant is there.

        Raises:
            TenantNotFound: it is not.
        """
        self._registry.get(name)

    async def create_tenant(self, spec: TenantSpec) -> TenantCreated:
        """Create the tenant, start its listeners and issue its token (see `Registry.create`)."""
        tenant = await self._registry.create(spec)
        token = self._registry.issue_token(tenant.name)
        return TenantCreated(**msgspec.structs.asdict(self._view(tenant)), token=token)

    def rotate_token(self, name: str) -> TenantToken:
        found = self._registry.get(name).name
        return TenantToken(tenant=found, token=self._registry.issue_token(found))

    async def delete_tenant(self, name: str) -> None:
        await self._registry.delete(name)

    def take_request(self, name: str) -> None:
        """Count one REST request against the tenant's `api_rps` (nothing for an unknown tenant).

        Raises:
            RateLimited: over the limit.
        """
        tenant = self._registry.find(name)
        if tenant is not None and tenant.policies.rate is not None:
            tenant.policies.rate.take(name)

    def _view(self, tenant: Tenant) -> TenantView:
        spec, endpoints = tenant.spec, tenant.endpoints
        return TenantView(
            name=tenant.name,
            state="failed" if tenant.state == "failed" else "running",
            **{listener.name: endpoints.get(listener.name) for listener in LISTENERS},
            **{option.name: getattr(spec, option.name) for entry in PROTOCOLS for option in entry.fields},
            catch_all=spec.catch_all,
            exclusive_sessions=spec.exclusive_sessions,
            max_sessions=tenant.policies.max_sessions,
            limits=tenant.policies.limits,
            mailboxes=len(tenant.store),
            sessions=len(tenant.listeners.sessions),
            failure=tenant.failure,
            worker=self.settings.worker_id,
            replica=self._registry.replica,
        )

    # --- mailboxes and messages ---------------------------------------------------------------------

    def mailboxes(self, tenant: str) -> list[MailboxView]:
        found = self._registry.get(tenant)
        return [self._mailbox_view(found, mailbox) for mailbox in found.store]

    def mailbox_view(self, tenant: str, user: str) -> MailboxView:
        found = self._registry.get(tenant)
        return self._mailbox_view(found, found.store.get(user))

    def put_mailbox(
        self, tenant: str, user: str, password: str, bearer_token: str | None = None
    ) -> tuple[MailboxView, bool]:
        """Create the mailbox (within the tenant's `mailboxes` limit) or replace its password and bearer
        token (None: it has none).

        Raises:
            StorageLimit: a new mailbox would cross `mailboxes`.
        """
        found = self._registry.get(tenant)
        if found.store.find(user) is None:
            found.policies.quota.check_mailbox()
        mailbox, created = found.store.put(user, password, bearer_token)
        return self._mailbox_view(found, mailbox), created

    def delete_mailbox(self, tenant: str, user: str) -> None:
        self._registry.get(tenant).store.delete(user)

    def mailbox(self, tenant: str, user: str) -> Mailbox:
        """The mailbox itself, for the calls that read or change its messages."""
        return self._registry.get(tenant).store.get(user)

    def every_mailbox(self, tenant: str) -> list[Mailbox]:
        """The tenant's mailboxes, as they are now."""
        return list(self._registry.get(tenant).store)

    def deliver(
        self,
        tenant: str,
        user: str,
        items: Sequence[Incoming],
        *,
        uid_field: str = "uid",
        via: Via = "api",
        folder: str = INBOX,
        flags: Iterable[str] = (),
    ) -> list[Message]:
        """Store messages in a folder (INBOX by default), with the tenant's size limit and quota (see
        `mockmail.message.ingest.deliver`)."""
        found = self._registry.get(tenant)
        return deliver(
            found.store.get(user),
            items,
            limit=found.policies.max_message_size,
            uid_field=uid_field,
            via=via,
            quota=found.policies.quota,
            folder=folder,
            flags=flags,
        )

    async def wait_until(
        self, tenant: str, user: str, ready: Callable[[Mailbox], bool], seconds: float
    ) -> Mailbox:
        """The mailbox once `ready(mailbox)` holds, checked at every arrival in the tenant, or when
        `seconds` have passed (a long-poll).

        Raises:
            TenantNotFound, MailboxNotFound: also when either goes while waiting.
        """
        box = self.mailbox(tenant, user)
        with trio.move_on_after(seconds):
            while not ready(box):
                await self._registry.get(tenant).arrived.wait()
                box = self.mailbox(tenant, user)
        return box

    def _mailbox_view(self, tenant: Tenant, mailbox: Mailbox) -> MailboxView:
        return MailboxView(
            user=mailbox.user,
            messages=mailbox.count,
            octets=mailbox.octets,
            sessions=tenant.locks.sessions(mailbox),
            locked=tenant.locks.holder(mailbox) is not None,
            oauth=mailbox.bearer_token is not None,
        )

    # --- faults and transcripts ---------------------------------------------------------------------

    def faults(self, tenant: str) -> FaultState:
        return self._registry.get(tenant).faults

    def transcripts(self, tenant: str) -> TranscriptLog:
        return self._registry.get(tenant).transcripts
