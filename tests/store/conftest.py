"""The shared store suite runs every test of tests/store/test_stores.py on each backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from mockmail.store import Database, MailStore, MemoryStore, SqliteStore

NewStore = Callable[[], MailStore]


@pytest.fixture(params=["memory", "sqlite"])
def new_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewStore]:
    """Makes empty stores of one backend (each SQLite store a tenant of its own in one database file)."""
    if request.param == "memory":
        yield MemoryStore
        return
    db = Database(tmp_path_factory.mktemp("data"))
    made = iter(range(1_000_000))

    def make() -> MailStore:
        return SqliteStore(db, f"t{next(made):d}")

    yield make
    db.close()
