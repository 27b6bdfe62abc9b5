"""`TenantListeners`: a tenant's listeners and the sessions they accept, for every registered protocol.

One listener per `Listener` of every `mockmail.protocols` entry (the implicit-TLS ones only when the server
runs with TLS), all served by the one protocol-neutral accept loop in `server/listener.py`.  A connection
beyond the tenant's session caps gets its protocol's `busy` line and is closed; any other runs the
protocol's session factory with the tenant's `TenantContext`.

`state` goes `starting` -> `running` -> `stopped` (deleted or shut down), or `running` -> `failed` when a
listener dies after start: the tenant then stays visible, with `failure` saying why, until it is deleted.
A listener failure is recorded here and never cancels another tenant.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

import trio

from ..config.settings import Settings
from ..observe import logs
from ..protocols import PROTOCOLS, Listener, Protocol
from ..server.context import Session, TenantContext
from ..server.listener import PortCursor, bound_port, open_listener, serve_listener
from ..server.tcp import TcpStream
from .policies import TenantPolicies
from .specs import Endpoint, TenantSpec

__all__ = ["ListenerPlan", "TenantListeners", "TenantState", "leaves"]

log = logging.getLogger("mockmail.tenants")

TenantState = Literal["starting", "running", "failed", "stopped"]


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside `exc`, groups unpacked."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


@dataclass(frozen=True, slots=True)
class ListenerPlan:
    """One listener a tenant opens: which one, the port asked for, and the connection handler."""

    listener: Listener
    port: int
    handler: Callable[[TcpStream], Awaitable[None]]

    @property
    def protocol(self) -> str:
        """The listener's name (`pop3`, `pop3s`, ...): the key of `TenantListeners.endpoints`."""
        return self.listener.name

    @property
    def field(self) -> str:
        """The spec field that asked for the port, named when it cannot be bound (`$.pop3_port`)."""
        return f"$.{self.listener.name}_port"


class TenantListeners:
    """Where a tenant accepts connections, and the sessions open on it right now."""

    def __init__(
        self,
        spec: TenantSpec,
        settings: Settings,
        policies: TenantPolicies,
        context: TenantContext,
        *,
        tls: bool,
        ports: PortCursor | None = None,
        admit: Callable[[], bool] | None = None,
    ) -> None:
        self.name = spec.name
        self._admit = admit
        """Asked before each connection is greeted: False (a replica's lease ran out) closes it unserved."""
        self._spec = spec
        self._settings = settings
        self._policies = policies
        self._context = context
        self._tls = tls
        self._ports = ports
        self.sessions: set[Session] = set()
        """Sessions open right now, of every protocol."""
        self.open_sessions: dict[str, int] = {entry.name: 0 for entry in PROTOCOLS}
        """Sessions open right now by protocol (a TLS listener's count with its protocol's)."""
        self.endpoints: dict[str, Endpoint] = {}
        """Where each listener accepts connections, by listener name."""
        self.state: TenantState = "starting"
        self.failure: str | None = None
        self.bind_failure: str | None = None
        """While binding: the spec field of the port being bound (what a failure names)."""
        self.scope = trio.CancelScope()
        self.done = trio.Event()

    def plans(self) -> list[ListenerPlan]:
        """One plan per listener of every protocol; implicit-TLS listeners only when TLS is on."""
        return [
            ListenerPlan(
                listener,
                getattr(self._spec, f"{listener.name}_port"),
                partial(self._handle, entry, listener.implicit_tls),
            )
            for entry in PROTOCOLS
            for listener in entry.listeners
            if self._tls or not listener.implicit_tls
        ]

    def fail(self, reason: str) -> None:
        """Record a tenant that cannot serve (its ports taken at a restart): visible, failed, deletable."""
        shown = self._settings.advertised_host
        for plan in self.plans():
            self.endpoints.setdefault(plan.protocol, Endpoint(host=shown, port=plan.port))
        self.failure = reason
        self.state = "failed"
        self.done.set()

    def _busy(self, entry: Protocol) -> bool:
        most = self._policies.session_limit(entry)
        if most is not None and self.open_sessions[entry.name] >= most:
            return True
        return len(self.sessions) >= self._policies.max_sessions

    async def _handle(self, entry: Protocol, implicit_tls: bool, stream: TcpStream) -> None:
        """One connection, from accept to close (the listener hands the stream over to this task)."""
        try:
            if self._admit is not None and not self._admit():
                return  # not this process's tenant any more: closed without a greeting
            if self._busy(entry):
                with (
                    trio.move_on_after(1),
                    contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
                ):
                    await stream.send_all(entry.busy)
                return
            session = entry.factory(stream, self._context, implicit_tls)
            self.sessions.add(session)
            self.open_sessions[entry.name] += 1
            started = time.monotonic()
            try:
                reason = await session.run()
                log.debug("tenant %s: %s session ended: %s", self.name, entry.name, reason)
                if self._settings.log_format == "json":
                    self._log_end(entry, session, reason, time.monotonic() - started)
            finally:
                self.sessions.discard(session)
                self.open_sessions[entry.name] -= 1
        except Exception:
            log.exception("tenant %s: %s connection handler failed", self.name, entry.title)
        finally:
            stream.close()

    def _log_end(self, entry: Protocol, session: Session, reason: str, seconds: float) -> None:
        recorder = session.recorder
        logs.event(
            "session",
            f"{entry.name} session ended: {reason}",
            tenant=self.name,
            protocol=entry.name,
            peer=recorder.peer if recorder is not None else None,
            user=session.user,
            end=reason,
            commands=recorder.commands if recorder is not None else None,
            faults=list(session.faults_fired),
            seconds=round(seconds, 6),
        )

    async def _bind(self, host: str, port: int) -> socket.socket:
        """Listen on `port`; a port of 0 comes from `--port-range` when there is one."""
        if port or self._ports is None:
            return await open_listener(host, port)
        return await self._ports.bind(host)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Bind every listener, report readiness, and serve until `scope` is cancelled.

        Raises:
            OSError: a port could not be bound (before readiness is reported); `bind_failure` names it.
        """
        settings = self._settings
        host, shown = settings.host, settings.advertised_host
        bound: list[tuple[ListenerPlan, socket.socket]] = []
        try:
            with self.scope:
                try:
                    for plan in self.plans():
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
