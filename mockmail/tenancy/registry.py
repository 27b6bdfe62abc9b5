"""`Registry`: every tenant by name, the supervisor nursery they run in, and what is kept of them.

With a persistent `Catalog` (`--data-dir`), every change to a tenant is committed before the call that made
it returns: creation (with the ports it got), its token, its fault state (plans and `times` used up), its
deletion.  `restore` brings them all back at start, each on the ports it had; a tenant whose port is taken
meanwhile comes back `failed`, with the reason, and stays deletable while the others run.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterator

import msgspec
import trio

from ..config.settings import Settings
from ..errors import PortUnavailable, ResourcesExhausted, TenantExists, TenantLimit, TenantNotFound
from ..observe.metrics import Metrics
from ..observe.resources import MONITOR, is_exhaustion
from ..server.listener import PortCursor
from ..server.tls import TlsMaterial
from ..store import Catalog, MemoryCatalog, SavedTenant
from .specs import TenantSpec
from .tenant import Tenant
from .tokens import Keyring

__all__ = ["Registry"]

log = logging.getLogger("mockmail.tenants")

_SPEC = msgspec.json.Decoder(TenantSpec)


class Registry:
    """All tenants by name, and the supervisor nursery they run in.

    Args:
        catalog: where tenants are kept between runs; by default nowhere (memory only).
    """

    def __init__(
        self, settings: Settings, tls: TlsMaterial | None = None, catalog: Catalog | None = None
    ) -> None:
        self.settings = settings
        self.tls = tls
        self.catalog: Catalog = catalog if catalog is not None else MemoryCatalog()
        self.keys = Keyring(settings.admin_token)
        """The admin token's digest and every tenant token's (the API checks requests against it)."""
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
        tenant = self._tenants.get(name)
        if tenant is None or not tenant.visible:
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
        )
        if saved is not None and saved.faults is not None:
            tenant.faults.load(saved.faults)
        if self.catalog.persistent:
            catalog, name = self.catalog, spec.name
            tenant.faults.on_change = lambda state: catalog.save_faults(name, state.dump())
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
        _log_started(tenant)
        return tenant

    async def restore(self) -> builtins.list[Tenant]:
        """Bring back every tenant the catalog kept, on its own ports; return those that failed."""
        failed = []
        for saved in self.catalog.saved():
            spec = _SPEC.decode(saved.spec)
            tenant = self._tenant(spec, saved)
            if saved.token is not None:
                self.keys.restore(spec.name, saved.token)
            self._tenants[spec.name] = tenant
            try:
                await self._start(tenant)
            except (PortUnavailable, ResourcesExhausted) as exc:
                where = f" ({exc.field})" if exc.field else ""
                tenant.fail(f"after a restart: {exc.detail}{where}")
                log.error("tenant %s: cannot serve: %s", spec.name, tenant.failure)
                failed.append(tenant)
                continue
            _log_started(tenant)
        return failed

    async def delete(self, name: str) -> None:
        """Stop the tenant's listeners and sessions, then forget it (also on disk); returns when all are
        closed."""
        tenant = self.get(name)
        del self._tenants[name]
        self.keys.forget(name)
        tenant.scope.cancel()
        await tenant.done.wait()
        self.catalog.drop_tenant(name)
        log.info("tenant %s: deleted", name)


def _log_started(tenant: Tenant) -> None:
    log.info(
        "tenant %s: %s",
        tenant.name,
        ", ".join(f"{protocol.upper()} on {endpoint}" for protocol, endpoint in tenant.endpoints.items()),
    )
