"""mockmail/store/sql_database.py: the fence (`SqlDatabase.fence`) on both SQL backends, with a tiny lease
table: a write made on behalf of a tenant this process no longer holds is refused and leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockmail.store import Database, FencedOut, SqlCatalog, SqlDatabase, SqlStore
from mockmail.store.pg_database import PgDatabase

from .pg import fresh_database


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlDatabase]:
    """A new database of either engine, with a lease table: this process holds `acme` at generation 1."""
    made: SqlDatabase
    if request.param == "postgres":
        with fresh_database(request.getfixturevalue("postgresql_dsn")) as url:
            made = PgDatabase(url)
            yield from _leased(made)
        return
    made = Database(tmp_path_factory.mktemp("data"))
    yield from _leased(made)


def _leased(db: SqlDatabase) -> Iterator[SqlDatabase]:
    with db.write():
        db.execute("CREATE TABLE fence_rows (tenant text PRIMARY KEY, generation integer NOT NULL)")
        db.execute("INSERT INTO fence_rows VALUES ('acme', 1)")
    mine = {"acme": 1}

    def fence(tenant: str) -> tuple[str, tuple[object, ...]] | None:
        if tenant not in mine:
            return None
        return "SELECT 1 FROM fence_rows WHERE tenant = ? AND generation = ?", (tenant, mine[tenant])

    db.fence = fence
    yield db
    db.close()


def _taken_over(db: SqlDatabase) -> None:
    """Another replica takes the tenant: the lease's generation moves on (not through a fenced write)."""
    with db.write():
        db.execute("UPDATE fence_rows SET generation = 2 WHERE tenant = 'acme'")


def _rows(db: SqlDatabase, sql: str) -> int:
    return int(db.execute(sql).fetchone()[0])


def test_writes_go_ahead_while_the_lease_is_held(db: SqlDatabase) -> None:
    catalog = SqlCatalog(db)
    catalog.save_tenant("acme", b"{}", 1.0)
    box, _ = SqlStore(db, "acme").put("bob", "pw")
    box.add(b"Subject: kept\r\n\r\n")
    assert _rows(db, "SELECT count(*) FROM messages") == 1
    assert [t.name for t in catalog.saved()] == ["acme"]


def test_a_fenced_out_mailbox_write_is_refused_and_leaves_nothing(db: SqlDatabase) -> None:
    box, _ = SqlStore(db, "acme").put("bob", "pw")
    box.add(b"Subject: before\r\n\r\n", uid="u-1")
    _taken_over(db)
    with pytest.raises(FencedOut, match="'acme'") as caught:
        box.add_many([(b"Subject: after\r\n\r\n", "u-2"), (b"Subject: after too\r\n\r\n", None)])
    assert caught.value.tenant == "acme"
    assert (box.count, [m.uid for m in box.listing()]) == (1, ["u-1"])
    assert _rows(db, "SELECT count(*) FROM messages") == 1
    assert _rows(db, "SELECT count(*) FROM bodies") == 1
    assert _rows(db, "SELECT count(*) FROM used_uids WHERE uid = 'u-2'") == 0
    with pytest.raises(FencedOut):
        box.create_folder("Archive")
    assert [f.name for f in box.folders()] == ["INBOX"]
    with pytest.raises(FencedOut):
        SqlStore(db, "acme").put("carol", "pw")
    again = SqlStore(db, "acme")  # what the rows say, read afresh
    assert [m.user for m in again] == ["bob"] and again.get("bob").count == 1


def test_a_fenced_out_catalog_write_is_refused_and_leaves_nothing(db: SqlDatabase) -> None:
    catalog = SqlCatalog(db)
    catalog.save_tenant("acme", b"spec-1", 1.0)
    _taken_over(db)
    for write in (
        lambda: catalog.save_tenant("acme", b"spec-2", 1.0),
        lambda: catalog.save_token("acme", b"digest"),
        lambda: catalog.save_faults("acme", b"faults"),
        lambda: catalog.drop_tenant("acme"),
    ):
        with pytest.raises(FencedOut):
            write()
    [saved] = catalog.saved()
    assert (saved.spec, saved.token, saved.faults) == (b"spec-1", None, None)


def test_the_fence_guards_the_outermost_block_and_spares_other_tenants(db: SqlDatabase) -> None:
    acme = SqlStore(db, "acme")
    box, _ = acme.put("bob", "pw")
    _taken_over(db)
    with pytest.raises(FencedOut), acme.transaction():  # one unit: refused as a whole, at its start
        box.add(b"Subject: x\r\n\r\n")
    assert _rows(db, "SELECT count(*) FROM messages") == 0
    other, _ = SqlStore(db, "other").put("bob", "pw")  # no lease asked for: the fence says None
    other.add(b"Subject: theirs\r\n\r\n")
    assert _rows(db, "SELECT count(*) FROM messages") == 1
    db.fence = None
    box.add(b"Subject: unfenced\r\n\r\n")
    assert box.count == 1
