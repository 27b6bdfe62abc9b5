"""mockmail/store/sql_database.py: group commit (`commit_units`, `settled`) on SQLite: writes join one open
unit, which is committed once per scheduler pass; watchers hear of changes only after the commit; a
failed commit takes every write of the unit back, in the rows and in memory, and every waiter hears it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import trio

from mockmail.store import CommitFailed, Database, SqlStore
from mockmail.store.database import FILE_NAME


def committed(folder: Path) -> int:
    """Message rows another connection sees (committed ones only)."""
    conn = sqlite3.connect(folder / FILE_NAME)
    try:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        conn.close()


async def test_writes_of_one_pass_share_one_commit_and_events_follow_it(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    db = Database(tmp_path)
    store = SqlStore(db, "acme")
    a, _ = store.put("a", "pw")
    b, _ = store.put("b", "pw")
    heard: list[str] = []
    store.watch(lambda box, stored: heard.append(box.user))
    await nursery.start(db.commit_units)
    a.add(b"Subject: 1\r\n\r\n")
    b.add(b"Subject: 2\r\n\r\n")
    assert store.unsettled and heard == [] and committed(tmp_path) == 0  # made, not yet durable
    assert (a.count, b.count) == (1, 1)  # this connection sees its own unit
    async with trio.open_nursery() as waiters:
        waiters.start_soon(store.settled)
        waiters.start_soon(store.settled)
    assert not store.unsettled and heard == ["a", "b"] and committed(tmp_path) == 2
    nursery.cancel_scope.cancel()


async def test_a_failed_commit_takes_the_whole_unit_back(tmp_path: Path, nursery: trio.Nursery) -> None:
    db = Database(tmp_path)
    store = SqlStore(db, "acme")
    box, _ = store.put("bob", "pw")
    box.add(b"Subject: kept\r\n\r\n")
    heard: list[str] = []
    store.watch(lambda mailbox, stored: heard.append(mailbox.user))
    db.execute("CREATE TABLE poison (m INTEGER REFERENCES mailboxes (id) DEFERRABLE INITIALLY DEFERRED)")
    db.execute("CREATE TRIGGER poisoned AFTER INSERT ON messages BEGIN INSERT INTO poison VALUES (-1); END")
    await nursery.start(db.commit_units)
    box.add(b"Subject: lost\r\n\r\n")
    carol, _ = store.put("carol", "pw")
    assert box.count == 2 and store.find("carol") is carol
    with pytest.raises(CommitFailed, match="FOREIGN KEY"):
        await store.settled()
    assert (box.count, [m.summary.subject for m in box.listing()]) == (1, ["kept"])
    assert store.find("carol") is None and heard == [] and committed(tmp_path) == 1
    nursery.cancel_scope.cancel()
