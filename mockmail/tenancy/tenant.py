"""A tenant: its listeners, store, fault state and sessions (the supervisor that hosts them is
`mockmail.tenancy.registry`).

A tenant is an isolated store of mailboxes with its own listeners, one per protocol (`ListenerPlan`: POP3
and SMTP, plus POP3S and SMTPS when TLS is on), all served by the one protocol-neutral accept loop in
`server/listener.py`.
The `Registry` (mockmail/registry.py) owns one supervisor nursery; each tenant runs as one task in it, inside its own
`CancelScope`, and deleting the tenant is `scope.cancel()`: its listeners close, its sessions end (without
committing anything they did not QUIT for), and the deletion returns only once all of that is done.  A tenant
whose listener fails records the failure on itself and stays visible as `failed` until deleted; it never
cancels another tenant.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal

import msgspec
import trio

from ..config.settings import Settings
from ..faults import FaultState
from ..observe import logs
from ..observe.metrics import Metrics
from ..observe.transcripts import TranscriptLog
from ..server.driver import SessionConfig
from ..server.listener import PortCursor, bound_port, open_listener, serve_listener
from ..server.maildrop import MaildropLocks
from ..server.pop3_session import Pop3Session
from ..server.smtp_session import SmtpPolicy, SmtpSession
from ..server.tcp import TcpStream
from ..server.tls import TlsMaterial
from ..store import Mailbox, MailStore, MemoryStore, Message
from .quotas import Quota, RateLimiter, effective
from .specs import Endpoint, TenantSpec

__all__ = ["ListenerPlan", "Tenant", "TenantState", "leaves"]

log = logging.getLogger("mockmail.tenants")

_BUSY = {
    "pop3": b"-ERR [SYS/TEMP] too many sessions on this tenant, try later\r\n",
    "smtp": b"421 4.7.0 too many sessions on this tenant, try later\r\n",
}
_LIMITS = {"pop3": "pop3_sessions", "smtp": "smtp_sessions"}


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside `exc`, groups unpacked."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


TenantState = Literal["starting", "running", "failed", "stopped"]


@dataclass(frozen=True, slots=True)
class ListenerPlan:
    """One listener a tenant opens: its protocol name, the port asked for, and the session factory."""

    protocol: str
    """`pop3`, `pop3s`, `smtp` or `smtps`; the key of `Tenant.endpoints`."""
    port: int
    field: str
    """The spec field that asked for the port, named when it cannot be bound (`$.pop3_port`)."""
    handler: Callable[[TcpStream], Awaitable[None]]


class Tenant:
    """A tenant's live state: its spec, store, listeners and open sessions.

    `state` goes `starting` -> `running` -> `stopped` (deleted or shut down), or `running` -> `failed`
    when a listener dies after start: the tenant then stays visible, with `failure` saying why, until it
    is deleted.
    """

    def __init__(
        self,
        spec: TenantSpec,
        settings: Settings,
        tls: TlsMaterial | None,
        metrics: Metrics | None = None,
        ports: PortCursor | None = None,
        store: MailStore | None = None,
        created: float | None = None,
    ) -> None:
        self.spec = spec
        self.metrics = metrics
        self._ports = ports
        self.store: MailStore = store if store is not None else MemoryStore()
        self.created = created if created is not None else time.time()
        self.sessions: set[Pop3Session | SmtpSession] = set()
        """Sessions open right now, of every protocol."""
        self.endpoints: dict[str, Endpoint] = {}
        """Where each listener accepts connections, by protocol."""
        self.state: TenantState = "starting"
        self.failure: str | None = None
        self.bind_failure: str | None = None
        self.max_sessions = spec.max_sessions or settings.max_sessions
        self.limits = effective(spec.limits, settings)
        """The limits in force: the spec's own, else the server's defaults."""
        self.max_message_size: int = self.limits.message_size or settings.max_message_size
        """Largest message this tenant stores (`effective` always sets `message_size`)."""
        self.quota = Quota(self.store, self.limits)
        self.rate = RateLimiter(self.limits.api_rps) if self.limits.api_rps is not None else None
        self.open_sessions = {"pop3": 0, "smtp": 0}
        """Sessions open right now by protocol (POP3S counts as POP3, SMTPS as SMTP)."""
        self.faults = FaultState()
        if metrics is not None:
            self.faults.fired = metrics.faults
        self.transcripts = TranscriptLog(spec.name, settings.transcript_limit)
        self.locks = MaildropLocks()
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
            locks=self.locks,
            auth_failure_delay=settings.auth_failure_delay,
            metrics=metrics,
            tenant=metrics.tenant(spec.name) if metrics is not None else spec.name,
        )
        self.smtp_policy = SmtpPolicy(
            max_message_size=self.max_message_size,
            quota=self.quota,
            auth=spec.smtp_auth,
            plaintext_auth=spec.smtp_plaintext_auth,
            catch_all=spec.catch_all,
        )
        self.arrived = trio.Event()
        """Set (and replaced) whenever messages are stored: what long-polls wait on."""
        self.store.watch(self._arrival)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pop3(self) -> Endpoint | None:
        return self.endpoints.get("pop3")

    @property
    def pop3s(self) -> Endpoint | None:
        return self.endpoints.get("pop3s")

    @property
    def smtp(self) -> Endpoint | None:
        return self.endpoints.get("smtp")

    @property
    def smtps(self) -> Endpoint | None:
        return self.endpoints.get("smtps")

    def _arrival(self, mailbox: Mailbox, stored: Sequence[Message]) -> None:
        if self.metrics is not None:
            tenant = self.session_config.tenant
            for message in stored:
                self.metrics.delivered[(message.via, tenant)] += 1
        # On every stored message: a new Event only when a long-poll waits on the current one.
        if self.arrived.statistics().tasks_waiting:
            arrived, self.arrived = self.arrived, trio.Event()
            arrived.set()

    @property
    def visible(self) -> bool:
        """Listed, shown and deletable over the API: running, or failed and waiting to be deleted."""
        return self.state in ("running", "failed")

    def bound_spec(self) -> TenantSpec:
        """The spec with the ports the listeners got: what a restart binds again."""
        ports = {f"{protocol}_port": endpoint.port for protocol, endpoint in self.endpoints.items()}
        return msgspec.structs.replace(self.spec, **ports)

    def fail(self, reason: str) -> None:
        """Record a tenant that cannot serve (its ports taken at a restart): visible, failed, deletable."""
        shown = self._settings.advertised_host
        for plan in self.listener_plans():
            self.endpoints.setdefault(plan.protocol, Endpoint(host=shown, port=plan.port))
        self.failure = reason
        self.state = "failed"
        self.done.set()

    def listener_plans(self) -> list[ListenerPlan]:
        spec, tls = self.spec, self._tls is not None
        wanted: list[tuple[str, int, Callable[[TcpStream, bool], Pop3Session | SmtpSession], bool]] = [
            ("pop3", spec.pop3_port, self._pop3, False),
            ("pop3s", spec.pop3s_port, self._pop3, True),
            ("smtp", spec.smtp_port, self._smtp, False),
            ("smtps", spec.smtps_port, self._smtp, True),
        ]
        return [
            ListenerPlan(
                protocol, port, f"$.{protocol}_port", partial(self._handle, factory, protocol[:4], implicit)
            )
            for protocol, port, factory, implicit in wanted
            if tls or not implicit
        ]

    def _pop3(self, stream: TcpStream, implicit_tls: bool) -> Pop3Session:
        return Pop3Session(stream, self.store, self.session_config, implicit_tls=implicit_tls)

    def _smtp(self, stream: TcpStream, implicit_tls: bool) -> SmtpSession:
        return SmtpSession(
            stream, self.store, self.session_config, self.smtp_policy, implicit_tls=implicit_tls
        )

    async def _handle(
        self,
        factory: Callable[[TcpStream, bool], Pop3Session | SmtpSession],
        protocol: str,
        implicit_tls: bool,
        stream: TcpStream,
    ) -> None:
        """One connection, from accept to close (the listener hands the stream over to this task)."""
        try:
            most = getattr(self.limits, _LIMITS[protocol])
            busy = most is not None and self.open_sessions[protocol] >= most
            if busy or len(self.sessions) >= self.max_sessions:
                with (
                    trio.move_on_after(1),
                    contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
                ):
                    await stream.send_all(_BUSY[protocol])
                return
            session = factory(stream, implicit_tls)
            self.sessions.add(session)
            self.open_sessions[protocol] += 1
            started = time.monotonic()
            try:
                reason = await session.run()
                log.debug("tenant %s: %s session ended: %s", self.name, protocol, reason)
                if self._settings.log_format == "json":
                    recorder = session.recorder
                    logs.event(
                        "session",
                        f"{protocol} session ended: {reason}",
                        tenant=self.name,
                        protocol=protocol,
                        peer=recorder.peer if recorder is not None else None,
                        user=session.user,
                        end=reason,
                        commands=recorder.commands if recorder is not None else None,
                        faults=list(session.faults_fired),
                        seconds=round(time.monotonic() - started, 6),
                    )
            finally:
                self.sessions.discard(session)
                self.open_sessions[protocol] -= 1
        except Exception:
            log.exception("tenant %s: %s connection handler failed", self.name, protocol.upper())
        finally:
            stream.close()

    async def _bind(self, host: str, port: int) -> socket.socket:
        """Listen on `port`; a port of 0 comes from `--port-range` when there is one."""
        if port or self._ports is None:
            return await open_listener(host, port)
        return await self._ports.bind(host)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Bind every listener, report readiness, and serve until the tenant's scope is cancelled.

        Raises:
            OSError: a port could not be bound (before readiness is reported); `bind_failure` names it.
        """
        settings = self._settings
        host, shown = settings.host, settings.advertised_host
        bound: list[tuple[ListenerPlan, socket.socket]] = []
        try:
            with self.scope:
                try:
                    for plan in self.listener_plans():
                        self.bind_failure = plan.field
                        bound.append((plan, await self._bind(host, plan.port)))
                except BaseException:
                    for _, sock in bound:
                        sock.close()
                    raise
                self.bind_failure = None
                for plan, sock in bound:
                    self.endpoints[plan.protocol] = Endpoint(host=shown, port=bound_port(sock))
                try:
                    async with trio.open_nursery() as nursery:
                        for plan, sock in bound:
                            nursery.start_soon(serve_listener, plan.handler, sock)
                        self.state = "running"
                        task_status.started()
                except Exception as exc:  # a listener died after start: record it, spare other tenants
                    self.failure = "; ".join(f"{type(leaf).__name__}: {leaf}" for leaf in leaves(exc))
                    self.state = "failed"
                    log.error(
                        "tenant %s: listener failed, the tenant stops serving: %s", self.name, self.failure
                    )
        finally:
            if self.state != "failed":
                self.state = "stopped"
            self.done.set()
