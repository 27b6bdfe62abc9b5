"""`PgDatabase`: the PostgreSQL database of the SQL store (psycopg 3, sync API) and its schema; the
transactions and the statements are the SQL store's (`SqlDatabase`, sql_database.py).

- One connection, in autocommit mode, used from the trio thread only; `write()` opens the transactions
  itself.  The store's statements use `?` placeholders; `execute` gives psycopg its `%s` instead.
- Tenants share the tables: every mailbox row names its tenant (as in the SQLite file), so one database
  holds any number of tenants and a tenant is made or dropped without DDL.
- The tables mirror the SQLite schema at its version 4 (metadata and content apart: `bodies` holds the
  octets as `bytea`, read by key on use).  `mockmail_schema.version` is the schema version: a database of
  an older version is upgraded when opened, in one transaction (`_UPGRADES`); a newer one is refused.
- UIDVALIDITY values come from the `counters` row, bumped in SQL (`greatest(value + 1, now)`), so two
  processes on one database never hand out the same one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import cast

import psycopg
import psycopg.conninfo
from psycopg.rows import TupleRow

from .sql_database import Cursor, SqlDatabase
from .sql_dialect import POSTGRES

__all__ = ["CONNECT_TIMEOUT", "PG_SCHEMA_VERSION", "PgDatabase", "connect"]

PG_SCHEMA_VERSION = 3

CONNECT_TIMEOUT = 5
"""Seconds a connection attempt may take, unless the URL sets `connect_timeout` itself."""

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
    2: (
        # Finished session transcripts (mockmail/observe/transcripts.py), so that they outlive the process
        # that recorded them: `number` counts a tenant's finished sessions, `data` is opaque to the store.
        "CREATE TABLE transcripts ("
        " tenant text NOT NULL, number bigint NOT NULL, data bytea NOT NULL, PRIMARY KEY (tenant, number))",
    ),
}
"""The statements that take a database from version N to N + 1."""

_LOCK = 0x6D6F636B6D61696C
"""The advisory lock key ('mockmail') that keeps two processes from creating the schema at once."""


class PgDatabase(SqlDatabase):
    """The PostgreSQL database of one server.

    Args:
        conninfo: a libpq connection string or `postgresql://` URL.
    """

    dialect = POSTGRES

    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self.conninfo = conninfo
        self.conn = connect(conninfo)
        self._run = self.conn.execute
        self.dbname = self.conn.info.dbname
        self._spelled: dict[str, str] = {}
        try:
            self._upgrade()
        except BaseException:
            self.conn.close()
            raise

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

    def _spell(self, sql: str) -> str:
        """`sql` with psycopg's placeholders (`%s`) for the store's (`?`)."""
        spelled = self._spelled.get(sql)
        if spelled is None:
            spelled = self._spelled[sql] = sql.replace("%", "%%").replace("?", "%s")
        return spelled

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        return self.conn.execute(self._spell(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        self.conn.cursor().executemany(self._spell(sql), rows)

    def insert(self, sql: str, params: Sequence[object], key: str) -> int:
        row = self.conn.execute(self._spell(f"{sql} RETURNING {key}"), params).fetchone()
        assert row is not None
        return cast(int, row[0])

    # Many rows of one statement go out in one pipeline (psycopg's executemany): one round trip, not one
    # a row (bench/SCALE_RESULTS.md, row 4: 3 statements a seeded message were 3 round trips).
    def change_many(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        if len(rows) < 2:
            return super().change_many(sql, rows)
        cursor = self.conn.cursor()
        cursor.executemany(self._spell(sql), rows)
        return cursor.rowcount

    def insert_many(self, sql: str, rows: Sequence[Sequence[object]], key: str) -> list[int]:
        if len(rows) < 2:
            return super().insert_many(sql, rows, key)
        cursor = self.conn.cursor()
        cursor.executemany(self._spell(f"{sql} RETURNING {key}"), rows, returning=True)
        keys: list[int] = []
        while True:
            row = cursor.fetchone()
            assert row is not None
            keys.append(cast(int, row[0]))
            if not cursor.nextset():
                return keys

    def stream_body(self, seq: int, chunk: int) -> Iterator[bytes] | None:
        conn = self.conn
        row = conn.execute("SELECT octet_length(data) FROM bodies WHERE seq = %s", (seq,)).fetchone()
        if row is None:
            return None
        size = cast(int, row[0])

        def pieces() -> Iterator[bytes]:
            for start in range(0, size, chunk):
                piece = conn.execute(
                    "SELECT substring(data FROM %s FOR %s) FROM bodies WHERE seq = %s",
                    (start + 1, chunk, seq),
                ).fetchone()
                if piece is None:  # deleted meanwhile: what was read is all there is
                    return
                yield cast(bytes, piece[0])

        return pieces()

    def describe(self) -> str:
        return f"the PostgreSQL store ({self!r})"

    def close(self) -> None:
        self.conn.close()

    def __repr__(self) -> str:
        return f"PgDatabase(dbname={self.dbname!r})"


def connect(conninfo: str) -> psycopg.Connection[TupleRow]:
    """An autocommit connection that gives up after `CONNECT_TIMEOUT` seconds unless the URL says otherwise."""
    if "connect_timeout" not in psycopg.conninfo.conninfo_to_dict(conninfo):
        conninfo = psycopg.conninfo.make_conninfo(conninfo, connect_timeout=CONNECT_TIMEOUT)
    return psycopg.connect(conninfo, autocommit=True)
