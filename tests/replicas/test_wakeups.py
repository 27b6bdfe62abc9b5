"""`Wakeups` and `announce` (mockmail/replicas/wakeups.py) on a real PostgreSQL: new mail is heard once its
transaction commits and never when it is rolled back, by mailbox; a broken listening connection wakes
every waiter and is opened again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trio

from mockmail.replicas.wakeups import CHANNEL, Wakeups, announce
from mockmail.store import SqlCatalog
from mockmail.store.pg_database import PgDatabase
from tests.store.pg import fresh_database

DEADLINE = 20
"""Seconds a wait may take before the test fails (only a hang takes that long)."""


@pytest.fixture(name="dsn")
def _dsn(postgresql_dsn: str) -> Iterator[str]:
    with fresh_database(postgresql_dsn) as url:
        yield url


@pytest.fixture(name="db")
def _db(dsn: str) -> Iterator[PgDatabase]:
    db = PgDatabase(dsn)
    db.announce = announce
    yield db
    db.close()


async def test_mail_is_heard_when_it_commits_and_never_when_rolled_back(dsn: str, db: PgDatabase) -> None:
    catalog = SqlCatalog(db)
    catalog.save_tenant("acme", b"{}", 1.0)
    store = catalog.new_store("acme")
    bob, _ = store.put("bob", "pw")
    carol, _ = store.put("carol", "pw")
    wakeups = Wakeups(dsn)
    async with trio.open_nursery() as nursery:
        await nursery.start(wakeups.run)
        for_bob = wakeups.event("acme", "bob")
        with pytest.raises(RuntimeError, match="undo"), db.write("acme"):
            bob.add(b"Subject: rolled back\r\n\r\n")  # announced inside the transaction that is undone
            raise RuntimeError("undo")
        for_carol = wakeups.event("acme", "carol")
        carol.add(b"Subject: kept\r\n\r\n")
        with trio.fail_after(DEADLINE):
            await for_carol.wait()
        # Notifications arrive in commit order: had bob's been sent, it would have come before carol's.
        assert not for_bob.is_set() and wakeups.heard == 1
        bob.add(b"Subject: for bob\r\n\r\n")
        with trio.fail_after(DEADLINE):
            await for_bob.wait()
        assert wakeups.heard == 2
        nursery.cancel_scope.cancel()


async def test_a_notice_that_is_not_ours_is_ignored(dsn: str, db: PgDatabase) -> None:
    wakeups = Wakeups(dsn)
    async with trio.open_nursery() as nursery:
        await nursery.start(wakeups.run)
        waiting = wakeups.event("acme", "bob")
        db.conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, "not json"))
        db.execute(*announce("acme", "bob", "INBOX"))
        with trio.fail_after(DEADLINE):
            await waiting.wait()
        assert wakeups.heard == 1
        nursery.cancel_scope.cancel()


async def test_a_broken_listener_wakes_every_waiter_and_listens_again(dsn: str, db: PgDatabase) -> None:
    wakeups = Wakeups(dsn)
    async with trio.open_nursery() as nursery:
        await nursery.start(wakeups.run)
        waiting = wakeups.event("acme", "bob")
        killed = db.conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = %s", (f"LISTEN {CHANNEL}",)
        ).fetchall()
        assert killed == [(True,)]
        with trio.fail_after(DEADLINE):
            await waiting.wait()  # woken at once: what is sent while nobody listens is lost
            again = wakeups.event("acme", "bob")
            await again.wait()  # woken once it listens again
        after = wakeups.event("acme", "bob")
        db.execute(*announce("acme", "bob", "INBOX"))
        with trio.fail_after(DEADLINE):
            await after.wait()
        assert wakeups.heard == 1
        nursery.cancel_scope.cancel()


def test_announce_names_the_mailbox_in_json() -> None:
    statement, params = announce("acme", "bob", "Archive/2024")
    assert statement == "SELECT pg_notify(?, ?)"
    assert params == (CHANNEL, '{"tenant":"acme","mailbox":"bob","folder":"Archive/2024"}')
