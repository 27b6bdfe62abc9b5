"""A tenant: one isolated set of mailboxes and the parts that serve it.

`Tenant` only composes; each part holds one concern:
- `store`: the mailboxes and messages (`mockmail.store`);
- `policies`: the limits in force, the quota and the rate limiter (`policies.py`);
- `listeners`: the listeners of every registered protocol and the sessions open on them (`listeners.py`);
- `faults`: the fault plans and what they drew (`mockmail.faults`);
- `transcripts`: every session's lines (`mockmail.observe.transcripts`);
- `locks`: POP3's maildrop locks, shared by the tenant's sessions.

The `Registry` (registry.py) runs each tenant as one task in its supervisor nursery, inside the listeners'
`CancelScope`; deleting the tenant is `scope.cancel()`: its listeners close, its sessions end (without
committing anything they did not QUIT for), and the deletion returns only once all of that is done.  The
control API reaches tenants only through the `Service` facade (service.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import msgspec
import trio

from ..config.settings import Settings
from ..faults import FaultState
from ..observe.metrics import Metrics
from ..observe.transcripts import TranscriptLog
from ..server.context import TenantContext
from ..server.driver import SessionConfig
from ..server.listener import PortCursor
from ..server.maildrop import MaildropLocks
from ..server.tls import TlsMaterial
from ..store import Mailbox, MailStore, MemoryStore, Message
from .listeners import ListenerPlan, TenantListeners, TenantState, leaves
from .policies import TenantPolicies
from .specs import Endpoint, TenantSpec

__all__ = ["ListenerPlan", "Tenant", "TenantState", "leaves"]


class Tenant:
    """A tenant's live state, as its parts."""

    def __init__(
        self,
        spec: TenantSpec,
        settings: Settings,
        tls: TlsMaterial | None,
        metrics: Metrics | None = None,
        ports: PortCursor | None = None,
        store: MailStore | None = None,
        created: float | None = None,
        admit: Callable[[], bool] | None = None,
    ) -> None:
        self.spec = spec
        self.metrics = metrics
        self.store: MailStore = store if store is not None else MemoryStore()
        self.created = created if created is not None else time.time()
        self.policies = TenantPolicies(spec, settings, self.store)
        self.faults = FaultState()
        if metrics is not None:
            self.faults.fired = metrics.faults
        self.transcripts = TranscriptLog(spec.name, settings.transcript_limit)
        self.locks = MaildropLocks()
        self.metrics_label = metrics.tenant(spec.name) if metrics is not None else spec.name
        """The tenant label the metrics count under."""
        config = SessionConfig(
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
            bearer_tokens=self._bearer_token,
            metrics=metrics,
            tenant=self.metrics_label,
            admits=admit,
        )
        self.context = TenantContext(
            store=self.store,
            config=config,
            options=spec,
            max_message_size=self.policies.max_message_size,
            quota=self.policies.quota,
        )
        """What every protocol's session factory gets."""
        self.listeners = TenantListeners(
            spec, settings, self.policies, self.context, tls=tls is not None, ports=ports, admit=admit
        )
        self.arrived = trio.Event()
        """Set (and replaced) whenever messages are stored: what long-polls wait on."""
        self.store.watch(self._arrival)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def state(self) -> TenantState:
        return self.listeners.state

    @property
    def failure(self) -> str | None:
        return self.listeners.failure

    @property
    def endpoints(self) -> dict[str, Endpoint]:
        """Where each listener accepts connections, by listener name (`pop3`, `smtps`, ...)."""
        return self.listeners.endpoints

    @property
    def scope(self) -> trio.CancelScope:
        return self.listeners.scope

    @property
    def done(self) -> trio.Event:
        return self.listeners.done

    @property
    def visible(self) -> bool:
        """Listed, shown and deletable over the API: running, or failed and waiting to be deleted."""
        return self.state in ("running", "failed")

    def _bearer_token(self, user: str) -> str | None:
        """The mailbox's bearer token, read at each login: one set over REST counts from the next."""
        mailbox = self.store.find(user)
        return mailbox.bearer_token if mailbox is not None else None

    def _arrival(self, mailbox: Mailbox, stored: Sequence[Message]) -> None:
        if self.metrics is not None:
            tenant = self.metrics_label
            for message in stored:
                self.metrics.delivered[(message.via, tenant)] += 1
        # On every stored message: a new Event only when a long-poll waits on the current one.
        if self.arrived.statistics().tasks_waiting:
            arrived, self.arrived = self.arrived, trio.Event()
            arrived.set()

    def bound_spec(self) -> TenantSpec:
        """The spec with the ports the listeners got: what a restart binds again."""
        ports = {f"{name}_port": endpoint.port for name, endpoint in self.endpoints.items()}
        return msgspec.structs.replace(self.spec, **ports)

    def fail(self, reason: str) -> None:
        """Record a tenant that cannot serve (its ports taken at a restart): visible, failed, deletable."""
        self.listeners.fail(reason)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve the tenant's listeners until its scope is cancelled (see `TenantListeners.run`)."""
        await self.listeners.run(task_status=task_status)
