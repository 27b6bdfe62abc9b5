"""The shared store suite runs every test of tests/store/test_stores.py, test_folders.py and test_changes.py
on each backend: memory, SQLite, and PostgreSQL (a real server the tests start, tests/store/pg.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from mockmail.store import Database, MailStore, MemoryStore, SqlStore
from mockmail.store.pg_database import PgDatabase

NewStore = Callable[[], MailStore]


@pytest.fixture(scope="session")
def pg_database(postgresql_dsn: str) -> Iterator[PgDatabase]:
    """One database of the cluster for the whole session; each store is a tenant of its own in it."""
    db = PgDatabase(postgresql_dsn)
    yield db
    db.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def new_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewStore]:
    """Makes empty stores of one backend (each SQLite or PostgreSQL store a tenant of its own in one
    database)."""
    if request.param == "memory":
        yield MemoryStore
        return
    made = iter(range(1_000_000))
    if request.param == "postgres":
        pg: PgDatabase = request.getfixturevalue("pg_database")
        prefix = request.node.nodeid

        def make_pg() -> MailStore:
            return SqlStore(pg, f"{prefix}#{next(made):d}")

        yield make_pg
        return
    db = Database(tmp_path_factory.mktemp("data"))

    def make() -> MailStore:
        return SqlStore(db, f"t{next(made):d}")

    yield make
    db.close()
