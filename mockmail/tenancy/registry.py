"""`Registry`: every tenant by name, the supervisor nursery they run in, and what is kept of them.

With a persistent `Catalog` (`--data-dir`), every change to a tenant is committed before the call that made
it returns: creation (with the ports it got), its token, its fault state (plans and `times` used up), its
deletion.  `restore` brings them all back at start, each on the ports it had; a tenant whose port is taken
meanwhile comes back `failed`, with the reason, and stays deletable while the others run.  The transcripts
of finished sessions are written as each session ends (`CatalogKeeper`) and come back with the tenant.

With an `Ownership` (replicas on one PostgreSQL store, mockmail/replicas/), the registry holds only the
tenants this replica owns: a new one is leased before anything of it is written, `serve_claimed` brings
back one that this replica has just claimed (on ports of its own `--port-range`), `stop_serving` drops one
whose lease is lost, every connection is admitted only while the lease holds, and a tenant owned by another
replica answers `TenantUnavailable` (the replica router, mockmail/replicas/router.py, sends such calls to
the owner; one still arrives here when the tenant moved in between).
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import msgspec
import trio

from ..config.settings import Settings
from ..errors import (
    PortUnavailable,
    ResourcesExhausted,
    TenantExists,
    TenantLimit,
    TenantNotFound,
    TenantUnavailable,
)
from ..observe.metrics import Metrics
from ..observe.resources import MONITOR, is_exhaustion
from ..protocols import LISTENERS
from ..server.listener import PortCursor
from ..server.tls import TlsMaterial
from ..store import Catalog, MemoryCatalog, SavedTenant
from .specs import TenantSpec
from .tenant import Tenant
from .tokens import Keyring

__all__ = ["CatalogKeeper", "Ownership", "Registry"]

log = logging.getLogger("mockmail.tenants")

_SPEC = msgspec.json.Decoder(TenantSpec)


class Ownership(Protocol):
    """Which tenants this process may serve, when several processes share one store (replicas)."""

    @property
    def replica(self) -> str:
        """This replica's id."""

    async def claim_new(self, tenant: str) -> None:
        """Lease a tenant about to be created here.

        Raises:
            TenantExists: a tenant of that name exists (here or on another replica), or is being created.
        """

    def release(self, tenant: str) -> None:
        """Give up the lease of a tenant just deleted."""

    def admits(self, tenant: str) -> bool:
        """Whether the tenant may be served right now (its lease holds by this replica's clock)."""

    def owner_of(self, tenant: str) -> tuple[str, str | None] | None:
        """The replica that owns an existing tenant and its API's URL; None when there is no such tenant."""

    def tenant_of_token(self, token_digest: bytes) -> str | None:
        """The tenant whose token has this digest, as the shared store holds it now."""


@dataclass(frozen=True, slots=True)
class CatalogKeeper:
    """Where a tenant's finished transcripts are written down: the catalog (`Keeper`)."""

    catalog: Catalog
    tenant: str

    def keep(self, number: int, data: bytes, limit: int) -> None:
        self.catalog.keep_transcript(self.tenant, number, data, limit)

    def forget(self) -> None:
        self.catalog.drop_transcripts(self.tenant)


class Registry:
    """All tenants by name, and the supervisor nursery they run in.

    Args:
        catalog: where tenants are kept between runs; by default nowhere (memory only).
    """

    def __init__(
        self,
        settings: Settings,
        tls: TlsMaterial | None = None,
        catalog: Catalog | None = None,
        ownership: Ownership | None = None,
    ) -> None:
        self.settings = settings
        self.tls = tls
        self.catalog: Catalog = catalog if catalog is not None else MemoryCatalog()
        self.ownership = ownership
        self.keys = Keyring(settings.admin_token)
        """The admin token's digest and every tenant token's (the API checks requests against it)."""
        if ownership is not None:
            self.keys.lookup = ownership.tenant_of_token
        self.metrics = Metrics(tenant_labels=not settings.no_metrics_tenant_labels)
        self.metrics.stores = self._store_figures
        self._ports = PortCursor(settings.ports) if settings.ports is not None else None
        self._tenants: dict[str, Tenant] = {}
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: trio.TaskStatus[Registry] = trio.TASK_STATUS_IGNORED) -> None:
        """The supervisor: hosts every tenant until cancelled."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started(self)
            try:
                await trio.sleep_forever()
            finally:
                self._nursery = None
                for name in self._tenants:
                    self.keys.forget(name)
                self._tenants.clear()

    def __len__(self) -> int:
        return len(self._tenants)

    @property
    def replica(self) -> str | None:
        """This replica's id, or None when the server runs alone."""
        return self.ownership.replica if self.ownership is not None else None

    def __contains__(self, name: str) -> bool:
        return name in self._tenants

    def _store_figures(self) -> Iterator[tuple[str, int, int]]:
        for tenant in self.list():
            yield tenant.name, *tenant.policies.quota.held()

    def shutdown(self) -> None:
        """Cancel every tenant and the supervisor itself (server shutdown)."""
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    def list(self) -> list[Tenant]:
        return [tenant for tenant in self._tenants.values() if tenant.visible]

    def find(self, name: str) -> Tenant | None:
        """The visible tenant of that name, or None."""
        tenant = self._tenants.get(name)
        return tenant if tenant is not None and tenant.visible else None

    def get(self, name: str) -> Tenant:
        """The visible tenant of that name.

        Raises:
            TenantNotFound: there is none.
            TenantUnavailable: another replica owns it (it moved while the call was on its way).
        """
        tenant = self._tenants.get(name)
        if tenant is None or not tenant.visible:
            owner = self.ownership.owner_of(name) if self.ownership is not None else None
            if owner is not None and owner[0] != self.replica:
                raise TenantUnavailable(
                    f"tenant {name!r} is served by replica {owner[0]!r}, not this one; try again shortly",
                    field="tenant",
                )
            raise TenantNotFound(f"no tenant named {name!r}", field="tenant")
        return tenant

    def issue_token(self, name: str) -> str:
        """A new token for the tenant (kept, as a digest, before it is returned); the old one stops working."""
        token = self.keys.issue(name)
        self.catalog.save_token(name, self.keys.digest_of(name))
        return token

    def _tenant(self, spec: TenantSpec, saved: SavedTenant | None = None) -> Tenant:
        tenant = Tenant(
            spec,
            self.settings,
            self.tls,
            self.metrics,
            self._ports,
            store=self.catalog.new_store(spec.name),
            created=saved.created if saved is not None else None,
            admit=partial(self.ownership.admits, spec.name) if self.ownership is not None else None,
        )
        if saved is not None and saved.faults is not None:
            tenant.faults.load(saved.faults)
        if self.catalog.persistent:
            catalog, name = self.catalog, spec.name
            tenant.faults.on_change = lambda state: catalog.save_faults(name, state.dump())
            if saved is not None:
                try:
                    tenant.transcripts.load(catalog.kept_transcripts(name))
                except Exception as exc:  # the tenant is served all the same, with no past sessions
                    log.warning("tenant %s: kept transcripts not read: %s", name, exc)
            tenant.transcripts.keeper = CatalogKeeper(catalog, name)
        return tenant

    async def _start(self, tenant: Tenant) -> None:
        """Bind the tenant's listeners and run it in the supervisor.

        Raises:
            ResourcesExhausted: out of file descriptors (or socket memory).
            PortUnavailable: a port could not be bound (`field` names which).
        """
        if self._nursery is None:
            raise RuntimeError("the tenant supervisor is not running")
        try:
            await self._nursery.start(tenant.run)
        except OSError as exc:
            if is_exhaustion(exc):
                reason = MONITOR.exhausted(exc, f"creating tenant {tenant.name}")
                raise ResourcesExhausted(
                    f"cannot open the tenant's listeners: {reason}; delete tenants or raise the limit"
                ) from None
            raise PortUnavailable(
                f"cannot listen on the requested port: {exc.strerror or exc}",
                field=tenant.listeners.bind_failure,
            ) from None

    async def create(self, spec: TenantSpec) -> Tenant:
        """Create the tenant, bind its listeners, keep it, and return it once it accepts connections.

        Raises:
            TenantExists: the name is taken.
            TenantLimit: the server holds `--max-tenants` already.
            PortUnavailable: a requested port could not be bound.
            ResourcesExhausted: the process is out of file descriptors (or socket memory).
        """
        if spec.name in self._tenants:
            raise TenantExists(f"a tenant named {spec.name!r} already exists", field="$.name")
        if self._nursery is None:
            raise RuntimeError("the tenant supervisor is not running")
        limit = self.settings.max_tenants
        if limit is not None and len(self._tenants) >= limit:
            raise TenantLimit(
                f"the server holds its maximum of {limit:d} tenants (--max-tenants); delete one first"
            )
        if self.ownership is not None:
            await self.ownership.claim_new(spec.name)  # before anything of it is written
        if spec.name in self._tenants:  # created meanwhile (claim_new waits on the database)
            raise TenantExists(f"a tenant named {spec.name!r} already exists", field="$.name")
        try:
            self.catalog.drop_tenant(spec.name)  # nothing of an earlier tenant of that name may come back
            tenant = self._tenant(spec)
            self._tenants[spec.name] = tenant  # reserve the name while binding
            try:
                await self._start(tenant)
                self.catalog.save_tenant(spec.name, msgspec.json.encode(tenant.bound_spec()), tenant.created)
            except BaseException:
                self._tenants.pop(spec.name, None)
                tenant.scope.cancel()
                raise
        except BaseException:
            if self.ownership is not None:
                self.ownership.release(spec.name)
            raise
        _log_started(tenant)
        return tenant

    async def restore(self) -> builtins.list[Tenant]:
        """Bring back every tenant the catalog kept, on its own ports; return those that failed."""
        failed = []
        for saved in self.catalog.saved():
            tenant = await self._bring_back(saved, _SPEC.decode(saved.spec), "after a restart")
            if tenant.state == "failed":
                failed.append(tenant)
        return failed

    async def _bring_back(self, saved: SavedTenant, spec: TenantSpec, when: str) -> Tenant:
        """Serve a kept tenant again with `spec` (its ports); a port taken leaves it `failed`."""
        tenant = self._tenant(spec, saved)
        if saved.token is not None:
            self.keys.restore(spec.name, saved.token)
        self._tenants[spec.name] = tenant
        try:
            await self._start(tenant)
        except (PortUnavailable, ResourcesExhausted) as exc:
            where = f" ({exc.field})" if exc.field else ""
            tenant.fail(f"{when}: {exc.detail}{where}")
            log.error("tenant %s: cannot serve: %s", spec.name, tenant.failure)
            return tenant
        _log_started(tenant)
        return tenant

    async def serve_claimed(self, name: str) -> Tenant | None:
        """Serve a tenant this replica has just claimed, as the store kept it; a stored port outside this
        replica's `--port-range` is picked again from the range, and the ports got are kept.  Returns None
        when the store has no such tenant (deleted meanwhile)."""
        if name in self._tenants:
            return self._tenants[name]
        saved = next((kept for kept in self.catalog.saved() if kept.name == name), None)
        if saved is None:
            return None
        spec = _SPEC.decode(saved.spec)
        ports = self.settings.ports
        if ports is not None:
            fields = (f"{listener.name}_port" for listener in LISTENERS)
            spec = msgspec.structs.replace(
                spec, **{field: 0 for field in fields if getattr(spec, field) not in ports}
            )
        tenant = await self._bring_back(saved, spec, "after a claim")
        if tenant.state == "running":
            self.catalog.save_tenant(name, msgspec.json.encode(tenant.bound_spec()), tenant.created)
        return tenant

    def stop_serving(self, name: str) -> Tenant | None:
        """Stop a tenant whose lease is lost: its listeners close and its sessions end (nothing they did not
        QUIT for is committed); what the store keeps of it stays.  Await the returned tenant's `done`."""
        tenant = self._tenants.pop(name, None)
        if tenant is None:
            return None
        self.keys.forget(name)
        tenant.scope.cancel()
        log.warning("tenant %s: this replica no longer holds its lease; stopped serving it", name)
        return tenant

    async def delete(self, name: str) -> None:
        """Stop the tenant's listeners and sessions, then forget it (also on disk); returns when all are
        closed."""
        tenant = self.get(name)
        del self._tenants[name]
        self.keys.forget(name)
        tenant.scope.cancel()
        await tenant.done.wait()
        self.catalog.drop_tenant(name)
        if self.ownership is not None:
            # The drop is durable first (group commit), and only then is the lease given back: its fence's
            # row lock is the unit's until that commit, so a release before it would wait on this thread.
            await self.catalog.settled()
            self.ownership.release(name)
        log.info("tenant %s: deleted", name)


def _log_started(tenant: Tenant) -> None:
    log.info(
        "tenant %s: %s",
        tenant.name,
        ", ".join(f"{protocol.upper()} on {endpoint}" for protocol, endpoint in tenant.endpoints.items()),
    )
