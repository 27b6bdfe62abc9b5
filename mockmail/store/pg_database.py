"""`PgDatabase`: the PostgreSQL database of the PostgreSQL store (psycopg 3, sync API), its schema and its
transactions.

- One connection, in autocommit mode, used from the trio thread only; `write()` opens the transactions
  itself.  Every write is a synchronous call with no `await` inside, so the commit has happened when the
  call returns, before any reply goes out (as `Database`, mockmail/store/database.py, does for SQLite).
- Tenants share the tables: every mailbox row names its tenant (as in the SQLite file), so one database
  holds any number of tenants and a tenant is made or dropped without DDL.
- The tables mirror the SQLite schema at its version 3 (metadata and content apart: `bodies` holds the
  octets as `bytea`, read by key on use).  `mockmail_schema.version` is the schema version: a database of
  an older version is upgraded when opened, in one transaction (`_UPGRADES`); a newer one is refused.
- UIDVALIDITY values come from the `counters` row, bumped in SQL (`greatest(value + 1, now)`), so two
  processes on one database never hand out the same one.
- `write()` nests as `Database.write` does: the outermost block is one transaction, an inner one a
  savepoint; `on_rollback` and `after_commit` run at the right level.
- The fencing seam (replicas, mockmail/replicas/): `fence(tenant)` may give a statement that the
  outermost write block on behalf of that tenant runs first, inside its transaction; no row back means
  this process no longer holds the tenant, and the block is rolled back with `FencedOut` before any of
  its writes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import cast

import psycopg
import psycopg.conninfo
from psycopg.rows import TupleRow

from ._interface import FencedOut

__all__ = ["CONNECT_TIMEOUT", "PG_SCHEMA_VERSION", "Fence", "PgDatabase"]

PG_SCHEMA_VERSION = 2

CONNECT_TIMEOUT = 5
"""Seconds a connection attempt may take, unless the URL sets `connect_timeout` itself."""

Fence = Callable[[str], "tuple[str, tuple[object, ...]] | None"]
"""A tenant -> the statement (and its parameters) that must return a row for a write of it to go on."""

_SCHEMA_1 = (
    "CREATE TABLE mockmail_schema (version integer NOT NULL)",
    "INSERT INTO mockmail_schema VALUES (0)",
    "CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL)",
    "INSERT INTO counters VALUES ('uidvalidity', 0)",
    "CREATE TABLE tenants ("
    " name text PRIMARY KEY, spec bytea NOT NULL, created double precision NOT NULL, token bytea,"
    " faults bytea, seq bigserial NOT NULL)",
    "CREATE TABLE mailboxes ("
    ' id bigserial PRIMARY KEY, tenant text NOT NULL, "user" text NOT NULL, password text NOT NULL,'
    ' bearer_token text, UNIQUE (tenant, "user"))',
    "CREATE TABLE used_uids ("
    " mailbox bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE, uid text NOT NULL,"
    " PRIMARY KEY (mailbox, uid))",
    "CREATE TABLE folders ("
    " id bigserial PRIMARY KEY, mailbox bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,"
    " name text NOT NULL, uidvalidity bigint NOT NULL, uidnext bigint NOT NULL,"
    " subscribed boolean NOT NULL, special_use text, UNIQUE (mailbox, name))",
    "CREATE TABLE messages ("
    " seq bigserial PRIMARY KEY, mailbox bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,"
    " id text NOT NULL, uid text NOT NULL, size bigint NOT NULL, created double precision NOT NULL,"
    " via text NOT NULL, subject text NOT NULL, sender text NOT NULL, date text NOT NULL,"
    " message_id text NOT NULL, envelope bytea,"
    " folder bigint NOT NULL REFERENCES folders (id) ON DELETE CASCADE, imap_uid bigint NOT NULL,"
    " flags text NOT NULL, internaldate double precision NOT NULL)",
    "CREATE UNIQUE INDEX messages_by_id ON messages (mailbox, id)",
    "CREATE INDEX messages_in_folder ON messages (folder, imap_uid)",
    "CREATE TABLE bodies (seq bigint PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,"
    " data bytea NOT NULL)",
)

_UPGRADES: dict[int, tuple[str, ...]] = {
    1: (
        # Replicas (mockmail/replicas/): who serves, and which replica owns each tenant until when.  Times
        # are the database's (now()): the clocks of two machines are never compared.
        "CREATE TABLE replicas ("
        " id text PRIMARY KEY, advertise_url text NOT NULL, public_host text NOT NULL,"
        " seen timestamptz NOT NULL)",
        "CREATE TABLE leases ("
        " tenant text PRIMARY KEY, owner text NOT NULL, generation bigint NOT NULL,"
        " lease_until timestamptz NOT NULL)",
        "INSERT INTO leases SELECT name, '', 0, '-infinity' FROM tenants",
        "CREATE INDEX tenants_by_token ON tenants (token)",
    ),
}
"""The statements that take a database from version N to N + 1."""

_LOCK = 0x6D6F636B6D61696C
"""The advisory lock key ('mockmail') that keeps two processes from creating the schema at once."""


class PgDatabase:
    """The PostgreSQL database of one server.

    Args:
        conninfo: a libpq connection string or `postgresql://` URL.
    """

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.conn = connect(conninfo)
        self.dbname = self.conn.info.dbname
        try:
            self._upgrade()
        except BaseException:
            self.conn.close()
            raise
        self._depth = 0
        self._rollback: list[list[Callable[[], None]]] = []
        self._after: list[Callable[[], None]] = []
        self.fence: Fence | None = None
        """The fencing seam (see the module docstring); None: every write goes on."""

    def _upgrade(self) -> None:
        """Create or upgrade the schema to `PG_SCHEMA_VERSION` in one transaction, or refuse it.

        Raises:
            RuntimeError: the database is of a newer version than this mockmail knows.
        """
        conn = self.conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            exists = conn.execute("SELECT to_regclass('mockmail_schema')").fetchone()
            if exists is None or exists[0] is None:
                for statement in _SCHEMA_1:
                    conn.execute(statement)
                version = 1
            else:
                row = conn.execute("SELECT version FROM mockmail_schema").fetchone()
                version = row[0] if row is not None else 0
                if version > PG_SCHEMA_VERSION or version < 1:
                    raise RuntimeError(
                        f"PostgreSQL database {conn.info.dbname!r}: schema version {version}, this mockmail"
                        f" knows {PG_SCHEMA_VERSION} and older; use the mockmail that wrote it, or a new"
                        " database"
                    )
            while version < PG_SCHEMA_VERSION:
                for statement in _UPGRADES[version]:
                    conn.execute(statement)
                version += 1
            conn.execute("UPDATE mockmail_schema SET version = %s", (version,))

    def next_uidvalidity(self, conn: psycopg.Connection[tuple[object, ...]]) -> int:
        """A fresh UIDVALIDITY (inside `write` only): the clock's seconds, above every one handed out."""
        row = conn.execute(
            "UPDATE counters SET value = greatest(value + 1, %s) WHERE name = 'uidvalidity' RETURNING value",
            (int(time.time()),),
        ).fetchone()
        assert row is not None
        value = cast(int, row[0])
        if value > 0xFFFFFFFF:  # pragma: no cover - in the year 2106, or after four billion folders
            raise OverflowError("UIDVALIDITY is a 32-bit number")
        return value

    @contextlib.contextmanager
    def write(self, tenant: str | None = None) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        """One transaction (outermost) or savepoint (nested): all of the block's writes, or none.

        Raises:
            FencedOut: the outermost block is on behalf of `tenant`, and its fence found no row.
        """
        conn = self.conn
        depth = self._depth
        conn.execute("BEGIN" if depth == 0 else f"SAVEPOINT s{depth:d}")
        self._depth = depth + 1
        self._rollback.append([])
        told = len(self._after)
        try:
            if depth == 0 and tenant is not None and self.fence is not None:
                check = self.fence(tenant)
                if check is not None and conn.execute(*check).fetchone() is None:
                    raise FencedOut(tenant)
            yield conn
        except BaseException:
            undo = self._rollback.pop()
            self._depth = depth
            if depth == 0:
                conn.execute("ROLLBACK")
                self._after.clear()
            else:
                conn.execute(f"ROLLBACK TO s{depth:d}")
                conn.execute(f"RELEASE s{depth:d}")
                del self._after[told:]  # nobody hears of what the savepoint took back
            for forget in undo:
                forget()
            raise
        undo = self._rollback.pop()
        self._depth = depth
        if depth:
            conn.execute(f"RELEASE s{depth:d}")
            self._rollback[-1].extend(undo)
            return
        try:
            conn.execute("COMMIT")
        except BaseException:  # pragma: no cover - a lost connection
            with contextlib.suppress(psycopg.Error):
                conn.execute("ROLLBACK")
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

    def close(self) -> None:
        self.conn.close()

    def __repr__(self) -> str:
        return f"PgDatabase(dbname={self.dbname!r})"


def connect(conninfo: str) -> psycopg.Connection[TupleRow]:
    """An autocommit connection that gives up after `CONNECT_TIMEOUT` seconds unless the URL says otherwise."""
    if "connect_timeout" not in psycopg.conninfo.conninfo_to_dict(conninfo):
        conninfo = psycopg.conninfo.make_conninfo(conninfo, connect_timeout=CONNECT_TIMEOUT)
    return psycopg.connect(conninfo, autocommit=True)
