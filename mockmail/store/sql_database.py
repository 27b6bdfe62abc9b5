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
  inside, so the commit has happened when the call returns, before any reply goes out.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from ._interface import FencedOut
from .sql_dialect import Dialect

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

    # --- what each engine provides ------------------------------------------------------------------

    def _run(self, statement: str) -> None:
        """Run a statement that takes no parameters (transaction control)."""
        self.execute(statement)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """Run one statement once per row of parameters."""
        raise NotImplementedError

    def insert(self, sql: str, params: Sequence[object], key: str) -> int:
        """Run an INSERT of one row and return the row's `key` column (its generated id)."""
        raise NotImplementedError

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

    @contextlib.contextmanager
    def write(self, tenant: str | None = None) -> Iterator[None]:
        """One transaction (outermost) or savepoint (nested): all of the block's writes, or none.

        Args:
            tenant: whose data the block writes (None: the server's own); the outermost block checks the
                `fence` for it first.

        Raises:
            FencedOut: the fence refused the write (nothing was written).
        """
        depth = self._depth
        self._run(self.dialect.begin if depth == 0 else f"SAVEPOINT s{depth:d}")
        self._depth = depth + 1
        self._rollback.append([])
        told = len(self._after)
        try:
            fence = self.fence
            if fence is not None and depth == 0 and tenant is not None:
                check = fence(tenant)
                if check is not None and self.execute(*check).fetchone() is None:
                    raise FencedOut(tenant)
            yield
        except BaseException:
            undo = self._rollback.pop()
            self._depth = depth
            if depth == 0:
                self._run("ROLLBACK")
                self._after.clear()
            else:
                self._run(f"ROLLBACK TO s{depth:d}")
                self._run(f"RELEASE s{depth:d}")
                del self._after[told:]  # nobody hears of what the savepoint took back
            for forget in undo:
                forget()
            raise
        undo = self._rollback.pop()
        self._depth = depth
        if depth:
            self._run(f"RELEASE s{depth:d}")
            self._rollback[-1].extend(undo)
            return
        try:
            self._run("COMMIT")
        except BaseException:  # pragma: no cover - a failing disk, a lost connection
            with contextlib.suppress(Exception):
                self._run("ROLLBACK")
            self._after.clear()
            for forget in undo:
                forget()
            raise
        after, self._after = self._after, []
        for callback in after:
            callback()

    def on_rollback(self, forget: Callable[[], None]) -> None:
        """Call `forget` if the current block is rolled back (inside `write` only)."""
        self._rollback[-1].append(forget)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the outermost block has committed (inside `write` only)."""
        self._after.append(callback)
