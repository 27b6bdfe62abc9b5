"""`LeaseTable` (mockmail/replicas/leases.py) and the fence of `PgDatabase` on a real PostgreSQL: claims,
renewals and the fencing token, with two replicas' tables on one database.  A lease running out is made
by moving its end into the past in SQL (what the database's clock would do), never by sleeping."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from mockmail.replicas.leases import FENCE, NEVER, LeaseTable, owner_of, tenant_of_token
from mockmail.store import FencedOut, SqlCatalog
from mockmail.store.pg_database import PgDatabase
from tests.store.pg import fresh_database


@pytest.fixture(name="dsn")
def _dsn(postgresql_dsn: str) -> Iterator[str]:
    with fresh_database(postgresql_dsn) as url:
        yield url


@pytest.fixture(name="db")
def _db(dsn: str) -> Iterator[PgDatabase]:
    db = PgDatabase(dsn)
    yield db
    db.close()


def _run_out(db: PgDatabase, tenant: str) -> None:
    db.conn.execute(
        "UPDATE leases SET lease_until = now() - interval '1 second' WHERE tenant = %s", (tenant,)
    )


def _lease(db: PgDatabase, tenant: str) -> tuple[str, int] | None:
    row = db.conn.execute("SELECT owner, generation FROM leases WHERE tenant = %s", (tenant,)).fetchone()
    return (row[0], row[1]) if row is not None else None


def test_a_new_tenant_is_leased_once(db: PgDatabase, dsn: str) -> None:
    a, b = LeaseTable(dsn, "a", 10), LeaseTable(dsn, "b", 10)
    assert a.claim_new("acme") == 1
    assert b.claim_new("acme") is None  # being created by a
    SqlCatalog(db).save_tenant("acme", b"{}", 1.0)
    _run_out(db, "acme")
    assert b.claim_new("acme") is None  # it exists: it is claimed, not created again
    assert _lease(db, "acme") == ("a", 1)
    a.close()
    b.close()


def test_an_orphan_lease_of_a_create_that_never_finished_is_taken_over_once_it_runs_out(
    db: PgDatabase, dsn: str
) -> None:
    a, b = LeaseTable(dsn, "a", 10), LeaseTable(dsn, "b", 10)
    assert a.claim_new("acme") == 1
    _run_out(db, "acme")
    assert b.claim_new("acme") == 2  # a new generation: whatever a still writes is fenced
    assert _lease(db, "acme") == ("b", 2)
    assert b.claim_free([]) == []  # no tenant row: nothing to claim
    a.close()
    b.close()


def test_renewals_keep_what_is_held_and_claims_take_only_what_ran_out(db: PgDatabase, dsn: str) -> None:
    a, b = LeaseTable(dsn, "a", 10), LeaseTable(dsn, "b", 10)
    catalog = SqlCatalog(db)
    for name in ("one", "two"):
        assert a.claim_new(name) == 1
        catalog.save_tenant(name, b"{}", 1.0)
    assert sorted(a.renew({"one": 1, "two": 1})) == ["one", "two"]
    assert b.claim_free(None) == []  # both held
    _run_out(db, "two")
    assert a.renew({"one": 1, "two": 1}) == ["one"]  # a lease that ran out is not renewed
    assert b.claim_free(None) == [("two", 2)]
    assert a.renew({"one": 1, "two": 1}) == ["one"]
    assert b.renew({"two": 2}) == ["two"]
    assert owner_of(db.conn, "two") == ("b", None)  # b never said where its API is
    b.register("http://127.0.0.1:1234", "127.0.0.1")
    assert owner_of(db.conn, "two") == ("b", "http://127.0.0.1:1234")
    assert owner_of(db.conn, "none") is None
    a.close()
    b.close()


def test_a_replica_starting_takes_back_the_rows_of_its_id_that_it_does_not_hold(
    db: PgDatabase, dsn: str
) -> None:
    first = LeaseTable(dsn, "a", 10)
    assert first.claim_new("acme") == 1
    SqlCatalog(db).save_tenant("acme", b"{}", 1.0)
    first.close()  # killed: the lease still runs
    again, other = LeaseTable(dsn, "a", 10), LeaseTable(dsn, "b", 10)
    assert other.claim_free(None) == []
    assert again.claim_free(None) == []  # only at start does it take its own rows back
    assert again.claim_free([]) == [("acme", 2)]
    again.give_back({"acme": 2})
    assert other.claim_free(None) == [("acme", 3)]  # given back: claimable at once
    again.close()
    other.close()


def test_the_fence_refuses_a_write_of_a_tenant_claimed_by_another_replica(db: PgDatabase, dsn: str) -> None:
    a, b = LeaseTable(dsn, "a", 10), LeaseTable(dsn, "b", 10)
    generation = a.claim_new("acme")
    catalog = SqlCatalog(db)
    held = {"acme": generation}

    def fence(tenant: str) -> tuple[str, tuple[object, ...]]:
        found = held.get(tenant)
        return (FENCE, (tenant, "a", found)) if found is not None else NEVER

    db.fence = fence
    catalog.save_tenant("acme", b"{}", 1.0)
    store = catalog.new_store("acme")
    box, _ = store.put("bob", "pw")
    box.add(b"Subject: kept\r\n\r\n")
    _run_out(db, "acme")
    with pytest.raises(FencedOut, match="tenant 'acme' is fenced out"):
        box.add(b"Subject: after the lease\r\n\r\n")  # ran out, even before anyone claims it
    assert b.claim_free(None) == [("acme", 2)]
    with pytest.raises(FencedOut) as refused:
        box.add(b"Subject: fenced\r\n\r\n")
    assert refused.value.tenant == "acme" and isinstance(refused.value, RuntimeError)
    with pytest.raises(FencedOut):
        catalog.save_token("acme", b"x" * 32)
    with pytest.raises(FencedOut):
        box.remove([m.id for m in box.snapshot()])
    db.fence = None
    subjects = [m.summary.subject for m in catalog.new_store("acme").get("bob").listing()]
    assert subjects == ["kept"]  # nothing of the fenced writes
    assert box.count == 1  # and the figures in memory came back with the rollback
    assert tenant_of_token(db.conn, b"x" * 32) is None
    with pytest.raises(FencedOut):  # a tenant the replica never held
        db.fence = fence
        catalog.new_store("other").put("bob", "pw")
    a.close()
    b.close()


def test_a_claim_waits_for_a_fenced_write_under_way(db: PgDatabase, dsn: str) -> None:
    """The fence locks the lease row FOR SHARE: a claim cannot slip in between the check and the commit."""
    a = LeaseTable(dsn, "a", 10)
    generation = a.claim_new("acme")
    SqlCatalog(db).save_tenant("acme", b"{}", 1.0)
    db.fence = lambda tenant: (FENCE, (tenant, "a", generation))
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SET lock_timeout = '200ms'")
        with db.write("acme"), pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("UPDATE leases SET owner = 'b', generation = generation + 1 WHERE tenant = 'acme'")
        other.execute("UPDATE leases SET owner = 'b', generation = generation + 1 WHERE tenant = 'acme'")
    a.close()
