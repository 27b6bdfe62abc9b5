"""`Claimer`: the trio side of a replica's leases (the `Ownership` of the tenant registry).

One task (`run`) in the root nursery, with two loops:
- the renewer: every third of `--lease-seconds`, renews every lease held in one statement (a tenant not
  renewed is lost: stop serving it); and every third of the lease or `CLAIM_PERIOD` (1 s), whichever is
  shorter, claims tenants whose lease ran out, and serves each (the registry restores it from the store on
  ports of this replica's range);
- the watchdog: sleeps until the earliest local deadline (`LeaseBook`), and stops serving every tenant whose
  deadline passed, whether or not the renewer is stuck on the network.

Between the two, the accept path (`admits`) and every write (`fence`, `PgDatabase.fence`) check the lease
themselves, so a replica that wakes from a freeze past its deadline neither greets a client (not even one
queued in the listen backlog while it slept) nor commits a change, before either loop has run.

The statements run on the `LeaseTable`'s own connection in a worker thread, one at a time.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import psycopg
import trio

from ..errors import TenantExists
from ..store.pg_database import PgDatabase
from ..tenancy.registry import Registry
from .lease import LeaseBook
from .leases import FENCE, NEVER, LeaseTable, owner_of, tenant_of_token

__all__ = ["Claimer", "local_clock"]

log = logging.getLogger("mockmail.replicas")

CLAIM_PERIOD = 1.0
"""Seconds between two looks for tenants to claim, at most (renewals stay every third of the lease)."""

P = ParamSpec("P")
T = TypeVar("T")


def local_clock() -> float:
    """Seconds on a clock that never goes back and keeps counting while the machine sleeps (Linux's
    CLOCK_BOOTTIME; CLOCK_MONOTONIC elsewhere): a replica suspended past its lease sees it run out."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boottime) if boottime is not None else time.monotonic()


class Claimer:
    """This replica's leases: claims, renewals, the fence and the accept check.

    Args:
        db: the store's database (its fence is this claimer's).
        table: the lease statements, on a connection of their own.
        advertise_url: where the other replicas reach this one's REST API.
        public_host: the host its tenants' addresses name.
        clock: the local clock (`local_clock`); tests pass their own.
    """

    def __init__(
        self,
        db: PgDatabase,
        table: LeaseTable,
        *,
        advertise_url: str,
        public_host: str,
        clock: Callable[[], float] = local_clock,
    ) -> None:
        self.db = db
        self.table = table
        self.book = LeaseBook(table.seconds)
        self.advertise_url = advertise_url
        self.public_host = public_host
        self.clock = clock
        self._registry: Registry | None = None
        self._changed = trio.Event()
        self._scope = trio.CancelScope()
        self._lock = threading.Lock()
        """One statement at a time on the table's connection (worker threads and the trio thread)."""
        db.fence = self.fence

    # --- Ownership: what the registry asks --------------------------------------------------------------

    @property
    def replica(self) -> str:
        return self.table.replica

    async def claim_new(self, tenant: str) -> None:
        sent = self.clock()
        generation = await self._call(self.table.claim_new, tenant)
        if generation is None:
            raise TenantExists(
                f"a tenant named {tenant!r} already exists (or is being created) on a replica", field="$.name"
            )
        self.book.granted(tenant, generation, sent)
        self._changed.set()

    def release(self, tenant: str) -> None:
        generation = self.book.generation(tenant)
        self.book.drop(tenant)
        if generation is not None:
            with self._lock:
                self.table.release(tenant, generation)

    def admits(self, tenant: str) -> bool:
        return self.book.holds(tenant, self.clock())

    def owner_of(self, tenant: str) -> tuple[str, str | None] | None:
        return owner_of(self.db.conn, tenant)

    def tenant_of_token(self, token_digest: bytes) -> str | None:
        return tenant_of_token(self.db.conn, token_digest)

    def fence(self, tenant: str) -> tuple[str, tuple[object, ...]]:
        """The statement a write of `tenant` must get a row from (see `PgDatabase.fence`)."""
        generation = self.book.generation(tenant)
        if generation is None or not self.book.holds(tenant, self.clock()):
            return NEVER
        return FENCE, (tenant, self.replica, generation)

    # --- the task -----------------------------------------------------------------------------------

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        def locked() -> T:
            with self._lock:
                return fn(*args, **kwargs)

        return await trio.to_thread.run_sync(locked, abandon_on_cancel=True)

    async def advertise(self, url: str) -> None:
        """Say (again) where this replica's API is: once it is bound, when the port was picked then."""
        self.advertise_url = url
        await self._call(self.table.register, url, self.public_host)

    async def run(
        self, registry: Registry, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Claim what is free (and what an earlier process of this replica id left), serve it, report
        readiness, then renew and claim until cancelled.

        Raises:
            psycopg.Error: the first claim failed (the database went away since it was opened).
        """
        self._registry = registry
        with self._scope:
            await self._serve(task_status)

    async def _serve(self, task_status: trio.TaskStatus[None]) -> None:
        await self._call(self.table.register, self.advertise_url, self.public_host)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._watch)
            await self._claim(own=True)
            task_status.started()
            renew_every = self.table.seconds / 3
            next_renew = trio.current_time() + renew_every
            while True:
                # Claims are looked for at least every CLAIM_PERIOD: a tenant whose owner died is taken
                # over within that of its lease's end, whatever the lease (failover <= lease + ~1 s).
                await trio.sleep(min(renew_every, CLAIM_PERIOD))
                try:
                    if trio.current_time() >= next_renew:
                        next_renew = trio.current_time() + renew_every
                        await self._renew()
                    await self._claim(own=False)
                except psycopg.Error as exc:  # the watchdog stops the tenants if this lasts
                    log.warning("replica %s: cannot reach the store: %s", self.replica, exc)

    def shutdown(self) -> None:
        """Stop renewing and claiming (server shutdown; `close` gives the leases back once tenants stopped)."""
        self._scope.cancel()

    def give_back(self) -> None:
        """End every lease held now (the tenants have stopped): other replicas claim them at once."""
        held = self.book.generations()
        for name in held:
            self.book.drop(name)
        if held and self._lock.acquire(timeout=5):
            try:
                self.table.give_back(held)
            except psycopg.Error as exc:
                log.warning("replica %s: could not give back its leases: %s", self.replica, exc)
            finally:
                self._lock.release()

    def close(self) -> None:
        self.give_back()
        if self._lock.acquire(timeout=5):
            try:
                self.table.close()
            finally:
                self._lock.release()

    def _stop(self, names: list[str]) -> None:
        assert self._registry is not None
        for name in names:
            self._registry.stop_serving(name)

    async def _watch(self) -> None:
        """Stop serving each tenant when its local deadline passes."""
        while True:
            self._stop(self.book.expired(self.clock()))
            upcoming = self.book.next_deadline()
            wait = math.inf if upcoming is None else max(upcoming - self.clock(), 0.0)
            with trio.move_on_after(wait):
                await self._changed.wait()
            self._changed = trio.Event()

    async def _renew(self) -> None:
        sent = self.clock()
        asked = self.book.generations()
        back = await self._call(self.table.renew, asked)
        self._stop(self.book.renewed(back, sent, asked))
        self._changed.set()

    async def _claim(self, *, own: bool) -> None:
        assert self._registry is not None
        sent = self.clock()
        held = self.book.tenants() if own else None
        claimed = await self._call(self.table.claim_free, held)
        for name, generation in claimed:
            self.book.granted(name, generation, sent)
        if claimed:
            self._changed.set()
        for name, _ in claimed:
            log.info("replica %s: claimed tenant %s", self.replica, name)
            if await self._registry.serve_claimed(name) is None:  # deleted meanwhile
                self.release(name)
