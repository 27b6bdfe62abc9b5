"""`SqlDatabase`: what the SQL stores' databases (SQLite: `Database`, database.py; PostgreSQL: `PgDatabase`,
pg_database.py) share: the statements in one placeholder style, and the transactions.

- Every statement the stores run is written once, with `?` placeholders; `execute` is the connection's own
  call on SQLite and translates them to `%s` on PostgreSQL (once per statement text).  The few phrases the
  two spell differently are in `Dialect` (sql_dialect.py).
- `write()` nests: the outermost block is one transaction, an inner one a savepoint.  Code that keeps
  figures in memory beside the rows registers `on_rollback` (to forget them) and `after_commit` (to tell
  watchers) inside the block; both run at the right level.
- `fence` (None by default) guards every outermost write made on behalf of a tenant: its statement runs
  first, inside the transaction, and a write whose fence returns no row is rolled back and raises
  `FencedOut`.  A replica lease is such a fence: `UPDATE leases SET ... WHERE tenant = ? AND generation
  = ? RETURNING 1` makes the commit conditional on still holding the tenant.
- `announce` (None by default) is the statement that tells other processes of new mail (replicas:
  PostgreSQL's `NOTIFY`); it runs inside the delivering transaction, so it is heard only once that commits.
- One connection, used from the trio thread only.  Every write is a synchronous call with no `await`
  inside.  By itself each outermost write commits before it returns.  Under group commit (`commit_units`,
  which `mockmail serve` runs) the outermost write is a savepoint of one open transaction, the unit, which
  a task commits once per scheduler pass; `settled()` waits for that commit, and the session driver and
  the REST API await it before any reply goes out (docs/scaling.md, the durability barrier).
  `after_commit` callbacks (change events) run only after the unit's commit; if it fails, every write's
  `on_rollback` runs and every waiter hears `CommitFailed`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol

import trio

from ._interface import CommitFailed, FencedOut
from .sql_dialect import Dialect

log = logging.getLogger("mockmail.store")

__all__ = ["Cursor", "SqlDatabase"]


class Cursor(Protocol):
    """What the stores use of a cursor, on either driver (sqlite3, psycopg)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class SqlDatabase:
    """One database connection, its dialect and its transactions (subclassed per engine)."""

    dialect: Dialect
    execute: Callable[..., Cursor]
    """Run one statement (`?` placeholders) with its parameters; the cursor holds what it returned."""
    _run: Callable[[str], object]
    """Run a statement that takes no parameters (transaction control); what it returns is not read."""

    def __init__(self) -> None:
        self.fence: Callable[[str], tuple[str, tuple[object, ...]] | None] | None = None
        """Given a tenant, the statement (`?` placeholders) and parameters that must return a row for a
        write on the tenant's behalf to go ahead, or None (no check); None: no fence at all."""
        self.announce: Callable[[str, str, str], tuple[str, tuple[object, ...]]] | None = None
        """Given (tenant, mailbox, folder) of new mail, the statement (`?` placeholders) and parameters that
        tell other processes of it, run inside the delivering transaction; None: nobody is told."""
        self._depth = 0
        self._rollback: list[list[Callable[[], None]]] = []
        self._after: list[Callable[[], None]] = []
        self._deferred = False
        """Group commit is on (`commit_units` runs): the outermost write joins the open unit."""
        self._unit: _Unit | None = None
        self._unit_undo: list[Callable[[], None]] = []
        """The `on_rollback` calls of every write in the open unit."""
        self._opened = trio.Event()

    # --- what each engine provides ------------------------------------------------------------------

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """Run one statement once per row of parameters."""
        raise NotImplementedError

    def change(self, sql: str, params: Sequence[object]) -> int:
        """Run a statement that returns no rows (an INSERT, UPDATE or DELETE); return how many rows it
        changed."""
        return self.execute(sql, params).rowcount

    def insert(self, sql: str, params: Sequence[object], key: str) -> int:
        """Run an INSERT of one row and return the row's `key` column (its generated id)."""
        raise NotImplementedError

    def change_many(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        """`change` once per row of parameters (an engine may send them together); the rows changed, summed."""
        change = self.change
        return sum(change(sql, row) for row in rows)

    def insert_many(self, sql: str, rows: Sequence[Sequence[object]], key: str) -> list[int]:
        """`insert` once per row of parameters (an engine may send them together); their keys, in order."""
        insert = self.insert
        return [insert(sql, row, key) for row in rows]

    def stream_body(self, seq: int, chunk: int) -> Iterator[bytes] | None:
        """The content of message row `seq` in pieces of at most `chunk` octets, or None when it is gone."""
        raise NotImplementedError

    def describe(self) -> str:
        """The database, in words, for an error message."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------------------

    def next_uidvalidity(self) -> int:
        """A fresh UIDVALIDITY (inside `write` only): the clock's seconds, above every one handed out, bumped
        in the `counters` row so that two processes on one database never hand out the same one."""
        row = self.execute(
            f"UPDATE counters SET value = {self.dialect.greatest}(value + 1, ?) WHERE name = 'uidvalidity'"
            " RETURNING value",
            (int(time.time()),),
        ).fetchone()
        value = int(row[0])
        if value > 0xFFFFFFFF:  # pragma: no cover - in the year 2106, or after four billion folders
            raise OverflowError("UIDVALIDITY is a 32-bit number")
        return value

    def write(self, tenant: str | None = None) -> contextlib.AbstractContextManager[None]:
        """One transaction (outermost) or savepoint (nested): all of the block's writes, or none.  Under
        group commit (`commit_units`) the outermost block is a savepoint of the open unit instead.

        Args:
            tenant: whose data the block writes (None: the server's own); the outermost block checks the
                `fence` for it first.

        Raises:
            FencedOut: the fence refused the write (nothing was written).
        """
        return _Block(self, tenant)

    def on_rollback(self, forget: Callable[[], None]) -> None:
        """Call `forget` if the current block is rolled back (inside `write` only)."""
        self._rollback[-1].append(forget)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the outermost block has committed (inside `write` only)."""
        self._after.append(callback)

    # --- group commit -------------------------------------------------------------------------------

    @property
    def unsettled(self) -> bool:
        """Writes were made that are not committed yet (only under `commit_units`)."""
        return self._unit is not None

    async def settled(self) -> None:
        """Return once every write made so far is committed.

        Raises:
            CommitFailed: the commit of the unit they were in failed; none of its writes were kept.
        """
        unit = self._unit
        if unit is None:
            return
        await unit.done.wait()
        if unit.error is not None:
            raise CommitFailed(f"{self.describe()}: the commit failed: {unit.error}") from unit.error

    async def commit_units(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Group commit, until cancelled: writes join one open transaction (the unit), which this task
        commits once the scheduler pass that opened it has run, so that every session that changed
        something in that pass shares the commit; then it releases every `settled` waiter at once.

        Whatever is open when the task ends is committed then, and writes commit one by one again.
        """
        self._deferred = True
        try:
            task_status.started()
            while True:
                await self._opened.wait()
                self._opened = trio.Event()
                await trio.sleep(0)  # the rest of this scheduler pass joins the unit
                self.commit_unit()
        finally:
            self._deferred = False
            self.commit_unit()

    def commit_unit(self) -> None:
        """Commit the open unit, if any, and release its waiters; a failure rolls every write of the unit
        back (their `on_rollback` run, their `after_commit` never do) and is what the waiters hear."""
        unit = self._unit
        if unit is None:
            return
        assert self._depth == 0, "a write block is open across an await"
        self._unit = None
        undo, self._unit_undo = self._unit_undo, []
        after, self._after = self._after, []
        try:
            self._run("COMMIT")
        except Exception as exc:
            log.warning("%s: a group commit failed: %s", self.describe(), exc)
            with contextlib.suppress(Exception):
                self._run("ROLLBACK")
            for forget in undo:
                forget()
            unit.error = exc
        else:
            for callback in after:
                callback()
        unit.done.set()


class _Unit:
    """One group commit: its waiters, and how it ended."""

    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.error: Exception | None = None


class _Block:
    """One `write()` block (a class, not a generator: it is entered once for every change made)."""

    __slots__ = ("_db", "_depth", "_savepoint", "_tenant", "_told")

    def __init__(self, db: SqlDatabase, tenant: str | None) -> None:
        self._db = db
        self._tenant = tenant

    def __enter__(self) -> None:
        db = self._db
        self._depth = depth = db._depth
        self._savepoint = savepoint = depth > 0 or db._deferred
        if not savepoint:
            db._run(db.dialect.begin)
        else:
            if depth == 0 and db._unit is None:  # the first write since the last commit opens the unit
                db._run(db.dialect.begin)
                db._unit = _Unit()
                db._opened.set()
            db._run(f"SAVEPOINT s{depth:d}")
        db._depth = depth + 1
        db._rollback.append([])
        self._told = len(db._after)
        fence = db.fence
        if fence is not None and depth == 0 and self._tenant is not None:
            try:
                check = fence(self._tenant)
                if check is not None and db.execute(*check).fetchone() is None:
                    raise FencedOut(self._tenant)
            except BaseException as exc:
                self.__exit__(type(exc), exc, exc.__traceback__)
                raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        db = self._db
        depth = self._depth
        undo = db._rollback.pop()
        db._depth = depth
        if kind is not None:
            if self._savepoint:
                db._run(f"ROLLBACK TO s{depth:d}")
                db._run(f"RELEASE s{depth:d}")
                del db._after[self._told :]  # nobody hears of what the savepoint took back
            else:
                db._run("ROLLBACK")
                db._after.clear()
            for forget in undo:
                forget()
            return  # the exception goes on
        if self._savepoint:
            db._run(f"RELEASE s{depth:d}")
            (db._rollback[-1] if depth else db._unit_undo).extend(undo)
            return
        try:
            db._run("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                db._run("ROLLBACK")
            db._after.clear()
            for forget in undo:
                forget()
            raise
        after, db._after = db._after, []
        for callback in after:
            callback()
