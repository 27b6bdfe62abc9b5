"""`LeaseTable`: the SQL of replicas and leases (the `replicas` and `leases` tables of the PostgreSQL store,
schema version 2, mockmail/store/pg_database.py).

- `leases` has one row per tenant: its `owner` (a replica id), `generation` (the fencing token: every
  claim adds one) and `lease_until`, always computed by the database (`now() + seconds`).  A claim is one
  `UPDATE ... WHERE lease_until < now()`: of two replicas claiming at once, the row lock lets one win.
- `replicas` has one row per replica: where its REST API is (`advertise_url`), the host its tenants'
  addresses name, and when it last renewed (`seen`).
- `FENCE` is what every write of a tenant checks first (`PgDatabase.fence`): the row with this owner and
  generation whose lease has not run out, locked `FOR SHARE` so that no claim can take it before the write
  commits.

The table has a connection of its own, used from one worker thread at a time (the claimer's calls), so
that a renewal that waits on the network never holds up the sessions on the trio thread.
"""

from __future__ import annotations

from typing import NamedTuple, cast

import psycopg

from ..store.pg_database import connect

__all__ = [
    "FENCE",
    "NEVER",
    "LeaseTable",
    "Route",
    "owner_of",
    "route_of",
    "serving_replicas",
    "tenant_of_token",
]

FENCE = (
    "SELECT 1 FROM leases WHERE tenant = ? AND owner = ? AND generation = ? AND lease_until > now() FOR SHARE"
)
"""The fence of a held tenant: (tenant, owner, generation)."""
NEVER: tuple[str, tuple[object, ...]] = ("SELECT 1 WHERE false", ())
"""The fence of a tenant this replica does not hold (or no longer, by its own clock): no write goes on."""

STATEMENT_TIMEOUT_MS = 5000
"""How long one lease statement may run before the database gives it up (a lock held by a stuck writer)."""

_LEASE_UNTIL = "now() + make_interval(secs => %(seconds)s)"


class LeaseTable:
    """The leases and replicas rows, as one replica sees them.

    Args:
        conninfo: the `--store` URL.
        replica: this replica's id (`--replica-id`).
        seconds: the lease length (`--lease-seconds`).
    """

    def __init__(self, conninfo: str, replica: str, seconds: float) -> None:
        self.conninfo = conninfo
        self.replica = replica
        self.seconds = seconds
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
            conn = connect(self.conninfo)
            conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS:d}")
            self._conn = conn
        return conn

    def _args(self, **more: object) -> dict[str, object]:
        return {"me": self.replica, "seconds": self.seconds, **more}

    def register(self, advertise_url: str, public_host: str) -> None:
        """Say where this replica's API is (a replica id seen again replaces its row)."""
        self._connection().execute(
            "INSERT INTO replicas VALUES (%(me)s, %(url)s, %(host)s, now()) ON CONFLICT (id) DO UPDATE"
            " SET advertise_url = excluded.advertise_url, public_host = excluded.public_host, seen = now()",
            self._args(url=advertise_url, host=public_host),
        )

    def claim_new(self, tenant: str) -> int | None:
        """The lease of a tenant about to be created here: its generation, or None when the name is taken
        (a tenant of that name exists, or another replica is creating one)."""
        row = (
            self._connection()
            .execute(
                f"INSERT INTO leases AS l VALUES (%(tenant)s, %(me)s, 1, {_LEASE_UNTIL})"
                " ON CONFLICT (tenant) DO UPDATE SET owner = excluded.owner,"
                " generation = l.generation + 1, lease_until = excluded.lease_until"
                " WHERE l.lease_until < now() AND NOT EXISTS (SELECT 1 FROM tenants WHERE name = l.tenant)"
                " RETURNING generation",
                self._args(tenant=tenant),
            )
            .fetchone()
        )
        return cast(int, row[0]) if row is not None else None

    def claim_free(self, held: list[str] | None, limit: int = 100) -> list[tuple[str, int]]:
        """Claim tenants whose lease ran out, and, when `held` is given (a replica starting), this replica
        id's own rows that it does not hold (an earlier process of the same id left them).  Returns
        (tenant, generation) pairs."""
        free = "c.lease_until < now()"
        if held is not None:
            free = "(c.lease_until < now() OR (c.owner = %(me)s AND c.tenant <> ALL(%(held)s)))"
        rows = self._connection().execute(
            f"UPDATE leases AS l SET owner = %(me)s, generation = l.generation + 1, lease_until = {_LEASE_UNTIL}"
            " WHERE l.tenant IN (SELECT c.tenant FROM leases AS c JOIN tenants AS t ON t.name = c.tenant"
            f" WHERE {free} ORDER BY t.created, t.seq LIMIT %(limit)s FOR UPDATE OF c SKIP LOCKED)"
            f" AND {free.replace('c.', 'l.')} RETURNING l.tenant, l.generation",
            self._args(held=held or [], limit=limit),
        )
        return [(cast(str, name), cast(int, generation)) for name, generation in rows]

    def renew(self, held: dict[str, int]) -> list[str]:
        """Extend the leases this replica holds with these generations; return the tenants renewed (a
        tenant missing was taken by another replica, deleted, or had run out)."""
        conn = self._connection()
        conn.execute("UPDATE replicas SET seen = now() WHERE id = %(me)s", self._args())
        if not held:
            return []
        rows = conn.execute(
            f"UPDATE leases AS l SET lease_until = {_LEASE_UNTIL}"
            " FROM unnest(%(tenants)s::text[], %(generations)s::bigint[]) AS h (tenant, generation)"
            " WHERE l.tenant = h.tenant AND l.generation = h.generation AND l.owner = %(me)s"
            " AND l.lease_until > now() RETURNING l.tenant",
            self._args(tenants=list(held), generations=list(held.values())),
        )
        return [cast(str, name) for (name,) in rows]

    def release(self, tenant: str, generation: int) -> None:
        """Forget the lease of a deleted tenant."""
        self._connection().execute(
            "DELETE FROM leases WHERE tenant = %(tenant)s AND owner = %(me)s AND generation = %(generation)s",
            self._args(tenant=tenant, generation=generation),
        )

    def give_back(self, held: dict[str, int]) -> None:
        """End these leases now (a replica shutting down, its tenants stopped): others claim them at once."""
        if held:
            self._connection().execute(
                "UPDATE leases AS l SET lease_until = '-infinity'"
                " FROM unnest(%(tenants)s::text[], %(generations)s::bigint[]) AS h (tenant, generation)"
                " WHERE l.tenant = h.tenant AND l.generation = h.generation AND l.owner = %(me)s",
                self._args(tenants=list(held), generations=list(held.values())),
            )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def owner_of(conn: psycopg.Connection[tuple[object, ...]], tenant: str) -> tuple[str, str | None] | None:
    """The replica that owns an existing tenant, and where its API is; None when there is no such tenant."""
    row = conn.execute(
        "SELECT l.owner, r.advertise_url FROM tenants AS t JOIN leases AS l ON l.tenant = t.name"
        " LEFT JOIN replicas AS r ON r.id = l.owner WHERE t.name = %s",
        (tenant,),
    ).fetchone()
    return (cast(str, row[0]), cast("str | None", row[1])) if row is not None else None


def tenant_of_token(conn: psycopg.Connection[tuple[object, ...]], token_digest: bytes) -> str | None:
    """The tenant whose token has this digest, as the database holds it right now."""
    row = conn.execute("SELECT name FROM tenants WHERE token = %s", (token_digest,)).fetchone()
    return cast(str, row[0]) if row is not None else None


class Route(NamedTuple):
    """Where an existing tenant is served, as the database says now."""

    owner: str
    """The replica id that holds (or last held) its lease."""
    url: str | None
    """That replica's advertise URL (None: it never registered)."""
    live: bool
    """Whether the lease still runs (False: run out, the tenant is being taken over)."""


def route_of(conn: psycopg.Connection[tuple[object, ...]], tenant: str) -> Route | None:
    """The owner of an existing tenant, where its API is and whether its lease runs; None: no such tenant."""
    row = conn.execute(
        "SELECT l.owner, r.advertise_url, l.lease_until > now() FROM tenants AS t"
        " JOIN leases AS l ON l.tenant = t.name LEFT JOIN replicas AS r ON r.id = l.owner WHERE t.name = %s",
        (tenant,),
    ).fetchone()
    if row is None:
        return None
    return Route(cast(str, row[0]), cast("str | None", row[1]), bool(row[2]))


def serving_replicas(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[list[tuple[str, str]], list[str]]:
    """The replicas that hold a running lease (id, advertise URL), and every tenant's name in creation
    order: what a tenant list gathered from all replicas asks and sorts by."""
    replicas = conn.execute(
        "SELECT DISTINCT r.id, r.advertise_url FROM leases AS l JOIN replicas AS r ON r.id = l.owner"
        " WHERE l.lease_until > now() ORDER BY r.id"
    ).fetchall()
    names = conn.execute("SELECT name FROM tenants ORDER BY created, seq").fetchall()
    return (
        [(cast(str, replica), cast(str, url)) for replica, url in replicas],
        [cast(str, name) for (name,) in names],
    )
