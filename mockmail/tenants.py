"""Tenants and the supervisor that hosts them.

A tenant is an isolated store of mailboxes with its own POP3 listener (and POP3S listener when TLS is on).
The `Registry` owns one supervisor nursery; each tenant runs as one task in it, inside its own
`CancelScope`, and deleting the tenant is `scope.cancel()`: its listeners close, its sessions end (without
committing anything they did not QUIT for), and the deletion returns only once all of that is done.  A tenant
whose listener fails records the failure on itself; it never cancels another tenant.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from functools import partial

import trio

from .errors import PortUnavailable, ResourcesExhausted, TenantExists, TenantNotFound
from .faults import FaultState
from .mailbox import Store
from .resources import MONITOR, is_exhaustion
from .server.connection import Pop3Session, SessionConfig
from .server.listener import bound_port, open_pop3_listener, serve_pop3
from .server.tcp import TcpStream
from .server.tls import TlsMaterial
from .settings import Settings
from .specs import Endpoint, TenantSpec
from .transcripts import TranscriptLog

__all__ = ["Registry", "Tenant"]

log = logging.getLogger("mockmail.tenants")

_BUSY = b"-ERR [SYS/TEMP] too many sessions on this tenant, try later\r\n"


class Tenant:
    """A tenant's live state: its spec, store, listeners and open sessions."""

    def __init__(self, spec: TenantSpec, settings: Settings, tls: TlsMaterial | None) -> None:
        self.spec = spec
        self.store = Store()
        self.created = time.time()
        self.sessions: set[Pop3Session] = set()
        self.pop3: Endpoint | None = None
        self.pop3s: Endpoint | None = None
        self.failure: str | None = None
        self.ready = False
        self.bind_failure: str | None = None
        self.max_sessions = spec.max_sessions or settings.max_sessions
        self.faults = FaultState()
        self.transcripts = TranscriptLog(spec.name, settings.transcript_limit)
        self.scope = trio.CancelScope()
        self.done = trio.Event()
        self._settings = settings
        self._tls = tls
        self.session_config = SessionConfig(
            hostname=settings.advertised_host,
            idle_timeout=settings.idle_timeout,
            line_timeout=settings.line_timeout,
            handshake_timeout=settings.handshake_timeout,
            max_command_line=settings.max_command_line,
            exclusive_sessions=spec.exclusive_sessions,
            tls_context=tls.context if tls else None,
            faults=self.faults,
            transcripts=self.transcripts,
        )

    @property
    def name(self) -> str:
        return self.spec.name

    async def _handle(self, stream: TcpStream, *, implicit_tls: bool) -> None:
        """One connection, from accept to close (the listener hands the stream over to this task)."""
        try:
            if len(self.sessions) >= self.max_sessions:
                with (
                    trio.move_on_after(1),
                    contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
                ):
                    await stream.send_all(_BUSY)
                return
            session = Pop3Session(stream, self.store, self.session_config, implicit_tls=implicit_tls)
            self.sessions.add(session)
            try:
                reason = await session.run()
                log.debug("tenant %s: session ended: %s", self.name, reason)
            finally:
                self.sessions.discard(session)
        except Exception:
            log.exception("tenant %s: POP3 connection handler failed", self.name)
        finally:
            stream.close()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Bind the listeners, report readiness, and serve until the tenant's scope is cancelled.

        Raises:
            OSError: a port could not be bound (before readiness is reported); `bind_failure` names it.
        """
        settings = self._settings
        host, shown = settings.host, settings.advertised_host
        try:
            with self.scope:
                self.bind_failure = "$.pop3_port"
                plain = await open_pop3_listener(host, self.spec.pop3_port)
                secure: socket.socket | None = None
                if self._tls is not None:
                    self.bind_failure = "$.pop3s_port"
                    try:
                        secure = await open_pop3_listener(host, self.spec.pop3s_port)
                    except BaseException:
                        plain.close()
                        raise
                self.bind_failure = None
                self.pop3 = Endpoint(host=shown, port=bound_port(plain))
                if secure is not None:
                    self.pop3s = Endpoint(host=shown, port=bound_port(secure))
                try:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(serve_pop3, partial(self._handle, implicit_tls=False), plain)
                        if secure is not None:
                            nursery.start_soon(serve_pop3, partial(self._handle, implicit_tls=True), secure)
                        self.ready = True
                        task_status.started()
                except Exception as exc:  # a listener died after start: record it, spare other tenants
                    self.failure = f"{type(exc).__name__}: {exc}"
                    log.exception("tenant %s: listener failed", self.name)
        finally:
            self.ready = False
            self.done.set()


class Registry:
    """All tenants by name, and the supervisor nursery they run in."""

    def __init__(self, settings: Settings, tls: TlsMaterial | None = None) -> None:
        self.settings = settings
        self.tls = tls
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
                self._tenants.clear()

    def __len__(self) -> int:
        return len(self._tenants)

    def shutdown(self) -> None:
        """Cancel every tenant and the supervisor itself (server shutdown)."""
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    def list(self) -> list[Tenant]:
        return [tenant for tenant in self._tenants.values() if tenant.ready]

    def get(self, name: str) -> Tenant:
        tenant = self._tenants.get(name)
        if tenant is None or not tenant.ready:
            raise TenantNotFound(f"no tenant named {name!r}", field="tenant")
        return tenant

    async def create(self, spec: TenantSpec) -> Tenant:
        """Create the tenant, bind its listeners and return it once it accepts connections.

        Raises:
            TenantExists: the name is taken.
            PortUnavailable: a requested port could not be bound.
            ResourcesExhausted: the process is out of file descriptors (or socket memory).
        """
        if spec.name in self._tenants:
            raise TenantExists(f"a tenant named {spec.name!r} already exists", field="$.name")
        if self._nursery is None:
            raise RuntimeError("the tenant supervisor is not running")
        tenant = Tenant(spec, self.settings, self.tls)
        self._tenants[spec.name] = tenant  # reserve the name while binding
        try:
            await self._nursery.start(tenant.run)
        except OSError as exc:
            self._tenants.pop(spec.name, None)
            if is_exhaustion(exc):
                reason = MONITOR.exhausted(exc, f"creating tenant {spec.name}")
                raise ResourcesExhausted(
                    f"cannot open the tenant's listeners: {reason}; delete tenants or raise the limit"
                ) from None
            raise PortUnavailable(
                f"cannot listen on the requested port: {exc.strerror or exc}", field=tenant.bind_failure
            ) from None
        except BaseException:
            self._tenants.pop(spec.name, None)
            raise
        log.info(
            "tenant %s: POP3 on %s%s",
            spec.name,
            tenant.pop3,
            f", POP3S on {tenant.pop3s}" if tenant.pop3s else "",
        )
        return tenant

    async def delete(self, name: str) -> None:
        """Stop the tenant's listeners and sessions, then forget it; returns when all are closed."""
        tenant = self.get(name)
        del self._tenants[name]
        tenant.scope.cancel()
        await tenant.done.wait()
        log.info("tenant %s: deleted", name)
