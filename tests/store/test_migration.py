"""mockmail/store/database.py: a data dir written by the release before folders (schema 1) opens and is
upgraded in place, and so does one of schema 2 (folders, before mailboxes had bearer tokens); schema 4 adds
the kept transcripts.

tests/data/release-1/ was made by that release itself (tests/data/make_release_data_dir.py, run with its
checkout): tenant `acme`, mailboxes `bob` (a message with a chosen UID, one with the default, one sent over
SMTP, and one deleted) and `carol` (one raw message with a chosen UID), a token and a fault plan.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from mockmail.errors import UidTaken
from mockmail.server.maildrop import SessionMaildrop
from mockmail.store import INBOX, Database, SqlCatalog, SqlStore, database
from mockmail.store.database import FILE_NAME, SCHEMA_VERSION
from mockmail.tenancy.tokens import digest

RELEASE_1 = Path(__file__).parent.parent / "data" / "release-1"
MADE = json.loads((RELEASE_1 / "made.json").read_text())
UIDLS = {
    "bob": ["u-1", "884e3bd96278cb17", "8af6ff95970c0f05"],
    "carol": ["c-raw"],
}
"""What UIDL answered for each mailbox before the upgrade (the release's REST listing, in made.json)."""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    shutil.copy(RELEASE_1 / FILE_NAME, tmp_path / FILE_NAME)
    return tmp_path


def version(path: Path) -> int:
    conn = sqlite3.connect(path / FILE_NAME)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_the_release_file_is_of_schema_1() -> None:
    assert version(RELEASE_1) == 1 and SCHEMA_VERSION == 4
    assert {user: [uid for _, uid, _ in listed] for user, listed in MADE["messages"].items()} == UIDLS


def test_a_release_data_dir_is_upgraded_in_place(data_dir: Path) -> None:
    before = sqlite3.connect(data_dir / FILE_NAME)
    tenants = before.execute("SELECT name, spec, created, token, faults FROM tenants").fetchall()
    created = dict(before.execute("SELECT id, created FROM messages").fetchall())
    before.close()

    db = Database(data_dir)
    assert version(data_dir) == SCHEMA_VERSION
    assert _columns(data_dir, "transcripts") == ["tenant", "number", "data"]
    catalog = SqlCatalog(db)
    assert catalog.kept_transcripts("acme") == []
    (saved,) = catalog.saved()
    assert [(saved.name, saved.spec, saved.created, saved.token, saved.faults)] == tenants
    assert saved.token == digest(MADE["token"])  # the tenant's token still works
    store = SqlStore(db, "acme")
    validities = set()
    for user, uidls in UIDLS.items():
        box = store.get(user)
        assert box.password == f"{user}-pw" and box.bearer_token is None
        drop = SessionMaildrop(box)  # what POP3 sees: INBOX, the same messages and UIDL values
        assert [m.uid for _, m in drop.live()] == uidls
        listed = box.listing()
        assert [(m.id, m.uid, m.summary.subject) for m in listed] == [
            tuple(m) for m in MADE["messages"][user]
        ]
        assert [(m.folder, m.imap_uid, m.flags) for m in listed] == [
            (INBOX, n, frozenset()) for n in range(1, len(uidls) + 1)
        ]
        assert all(m.internaldate == m.created == created[m.id] for m in listed)
        (inbox,) = box.folders()
        assert (inbox.name, inbox.uidnext, inbox.messages, inbox.subscribed) == (
            INBOX,
            len(uidls) + 1,
            len(uidls),
            True,
        )
        assert (box.count, box.octets) == (len(uidls), sum(m.size for m in listed))
        validities.add(inbox.uidvalidity)
    assert len(validities) == 2 and all(0 < v < 2**32 for v in validities)
    bob = store.get("bob")
    assert bob.listing()[2].via == "smtp" and bob.listing()[2].envelope is not None
    assert b"\r\nSubject: one\r\n" in bob.listing()[0].content
    with pytest.raises(UidTaken):  # the deleted message's UID stays used
        bob.add(b"Subject: x\r\n\r\n", uid="u-gone")
    assert bob.add(b"Subject: new\r\n\r\n").imap_uid == 4
    bob.create_folder("Archive")
    assert bob.move(INBOX, [1], "Archive") == [(1, 1)]
    store.put("carol", "carol-pw", "carol-token")
    db.close()

    db = Database(data_dir)  # opened again: already upgraded, nothing changes
    again = SqlStore(db, "acme").get("bob")
    assert {f.uidvalidity for f in SqlStore(db, "acme").get("carol").folders()} <= validities
    assert again.folder(INBOX).uidvalidity in validities
    assert [m.uid for m in again.snapshot()] == [*UIDLS["bob"][1:], again.snapshot()[-1].uid]
    assert [m.uid for m in again.folder_snapshot("Archive")] == ["u-1"]
    assert SqlStore(db, "acme").get("carol").bearer_token == "carol-token"
    db.close()


def _schema_2_file(path: Path) -> None:
    """A data dir as schema 2 left it: version 1's tables and the 1 -> 2 step, a mailbox with a message."""
    conn = sqlite3.connect(path / FILE_NAME, isolation_level=None)
    for statement in database._SCHEMA_1.split(";"):
        conn.execute(statement)
    for statement in database._UPGRADES[1]:
        conn.execute(statement, {"now": 1000} if ":now" in statement else ())
    conn.execute("PRAGMA user_version=2")
    conn.execute("INSERT INTO mailboxes (tenant, user, password) VALUES ('acme', 'bob', 'pw')")
    conn.execute(
        "INSERT INTO folders (mailbox, name, uidvalidity, uidnext, subscribed) VALUES (1, 'INBOX', 7, 1, 1)"
    )
    conn.execute("UPDATE counters SET value = 7")
    conn.close()


def test_a_schema_2_data_dir_gets_bearer_tokens_in_place(tmp_path: Path) -> None:
    _schema_2_file(tmp_path)
    assert "bearer_token" not in _columns(tmp_path, "mailboxes")
    db = Database(tmp_path)
    assert version(tmp_path) == SCHEMA_VERSION == 4
    store = SqlStore(db, "acme")
    bob = store.get("bob")
    assert (bob.password, bob.bearer_token, bob.folder(INBOX).uidvalidity) == ("pw", None, 7)
    bob.add(b"Subject: kept\r\n\r\n")
    store.put("bob", "pw", "tok")
    db.close()
    db = Database(tmp_path)
    bob = SqlStore(db, "acme").get("bob")
    assert (bob.bearer_token, [m.summary.subject for m in bob.listing()]) == ("tok", ["kept"])
    db.close()


def _columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(path / FILE_NAME)
    try:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def test_a_failed_upgrade_leaves_the_file_as_it_was(data_dir: Path) -> None:
    broken = sqlite3.connect(data_dir / FILE_NAME)
    broken.execute("CREATE TABLE folders (x)")  # the upgrade's first step will fail
    broken.commit()
    broken.close()
    with pytest.raises(sqlite3.OperationalError):
        Database(data_dir)
    assert version(data_dir) == 1
    assert "imap_uid" not in _columns(data_dir, "messages")
    assert "bearer_token" not in _columns(data_dir, "mailboxes")
    assert _columns(data_dir, "transcripts") == []


def test_a_newer_schema_is_refused_with_a_clear_error(data_dir: Path) -> None:
    conn = sqlite3.connect(data_dir / FILE_NAME)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1:d}")
    conn.close()
    with pytest.raises(RuntimeError, match=f"schema version {SCHEMA_VERSION + 1}, this mockmail knows {SCHEMA_VERSION}"):
        Database(data_dir)
