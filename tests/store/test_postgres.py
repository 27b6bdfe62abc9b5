"""mockmail/store/sql_store.py and pg_database.py: what the PostgreSQL backend adds to the shared rules
(durability, transactions, content read on use, the versioned schema), on a real PostgreSQL: each test has
a database of its own in this test process's cluster (tests/store/pg.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockmail.errors import MessageNotFound, UidTaken
from mockmail.server.maildrop import SessionMaildrop, wire_body
from mockmail.store import INBOX, Arrived, Change, Envelope, SavedTenant, SqlCatalog, SqlStore
from mockmail.store.pg_database import PG_SCHEMA_VERSION, PgDatabase

from .pg import fresh_database


@pytest.fixture
def fresh_dsn(postgresql_dsn: str) -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    with fresh_database(postgresql_dsn) as url:
        yield url


ENVELOPE = Envelope(mail_from="a@x", rcpt_to=["bob@x"], peer="127.0.0.1:9", helo="h", tls=True, auth="u")


def test_everything_comes_back_after_reopening(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    box, _ = SqlStore(db, "acme").put("bob", "pw")
    kept = box.add(b"Subject: kept\r\n\r\nbody\r\n", uid="u-1")
    sent = box.add_many([(b"Subject: sent\r\n\r\n", None)], via="smtp", envelope=ENVELOPE)[0]
    gone = box.add(b"Subject: gone\r\n\r\n", uid="u-2")
    box.remove([gone.id])
    SqlStore(db, "other").put("bob", "theirs", "their-token")
    db.close()

    db = PgDatabase(fresh_dsn)
    store = SqlStore(db, "acme")
    again = store.get("bob")
    assert (again.password, again.count, again.octets) == ("pw", 2, kept.size + sent.size)
    listed = again.listing()
    assert [(m.id, m.uid, m.via) for m in listed] == [(kept.id, "u-1", "api"), (sent.id, sent.uid, "smtp")]
    assert listed[0].summary.subject == "kept" and listed[0].content == b"Subject: kept\r\n\r\nbody\r\n"
    assert listed[1].envelope == ENVELOPE
    for used in ("u-1", "u-2", gone.id):  # UIDs are never reused, also after a restart
        with pytest.raises(UidTaken):
            again.add(b"Subject: x\r\n\r\n", uid=used)
    assert SqlStore(db, "other").get("bob").password == "theirs"
    assert (again.bearer_token, SqlStore(db, "other").get("bob").bearer_token) == (None, "their-token")
    db.close()


def test_messages_hold_no_content_and_read_it_on_use(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    box, _ = SqlStore(db, "acme").put("bob", "pw")
    box.add(b"Subject: a\r\n\r\n.dot\r\n")
    (message,) = box.snapshot()
    assert not message.resident
    assert message.summary.subject == "a"  # details read on use
    assert wire_body(message) is not wire_body(message)  # made afresh: not cached beside the store
    assert wire_body(message).wire == b"Subject: a\r\n\r\n..dot\r\n"
    box.remove([message.id])
    assert message not in box
    with pytest.raises(MessageNotFound):
        _ = message.content


def test_a_failing_block_rolls_back_rows_and_figures(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    store = SqlStore(db, "acme")
    a, _ = store.put("a", "pw")
    b, _ = store.put("b", "pw")
    keep = a.add(b"S: keep\r\n\r\n")
    arrived: list[str] = []
    store.watch(lambda box, stored: arrived.extend(m.id for m in stored))
    with pytest.raises(RuntimeError), store.transaction():
        a.add(b"S: 1\r\n\r\n")
        b.add(b"S: 2\r\n\r\n")
        a.remove([keep.id])
        raise RuntimeError("the disk is full")
    assert arrived == []  # nobody heard of what was rolled back
    assert (a.count, a.octets, b.count) == (1, keep.size, 0)
    assert [m.id for m in a.snapshot()] == [keep.id]
    assert keep in a
    # A failure leaving the block undoes the block's earlier writes too.
    with pytest.raises(UidTaken), store.transaction():
        b.add(b"S: 3\r\n\r\n", uid="x")
        b.add(b"S: 4\r\n\r\n", uid="x")
    assert b.count == 0


def test_nested_failure_is_undone_alone(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    box, _ = SqlStore(db, "acme").put("a", "pw")
    with db.write():
        first = box.add(b"S: 1\r\n\r\n")
        with pytest.raises(RuntimeError), db.write():
            box.add(b"S: 2\r\n\r\n", uid="x")
            raise RuntimeError("inner")
        assert box.count == 1
        last = box.add(b"S: 4\r\n\r\n", uid="x")  # the savepoint took "x" back with it
    assert [m.id for m in box.listing()] == [first.id, last.id]
    assert (box.count, box.octets) == (2, first.size + last.size)


def test_stream_reads_in_pieces(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    box, _ = SqlStore(db, "acme").put("a", "pw")
    content = b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n"
    message = box.add(content * 3)
    pieces = list(box.stream(message, chunk=1000))
    assert b"".join(pieces) == message.content and max(map(len, pieces)) == 1000
    box.remove([message.id])
    with pytest.raises(MessageNotFound):
        box.stream(message)


def test_a_mailbox_made_again_starts_empty_and_old_sessions_see_nothing(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    store = SqlStore(db, "acme")
    old, _ = store.put("bob", "pw")
    message = old.add(b"S: a\r\n\r\n", uid="fixed")
    drop = SessionMaildrop(old)
    store.delete("bob")
    new, created = store.put("bob", "pw")
    assert created and new.count == 0 and old.count == 0
    assert drop.lookup_present(1) == "message 1 is no longer in the maildrop"
    assert message not in new and message not in old
    new.add(b"S: b\r\n\r\n", uid="fixed")  # a new mailbox has a new UID history


def test_a_rolled_back_block_tells_no_change(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    store = SqlStore(db, "acme")
    box, _ = store.put("bob", "pw")
    keep = box.add(b"S: keep\r\n\r\n")
    heard: list[Change] = []
    store.watch_changes(heard.append)
    with pytest.raises(RuntimeError), store.transaction():
        box.add(b"S: 1\r\n\r\n")
        box.create_folder("F")
        box.set_flags(INBOX, [keep.imap_uid], ["\\Seen"])
        box.remove([keep.id])
        raise RuntimeError("undone")
    assert heard == []
    assert [f.name for f in box.folders()] == [INBOX]
    assert [(m.id, m.flags) for m in box.snapshot()] == [(keep.id, frozenset())]
    assert box.folder(INBOX).uidnext == 2 and box.add(b"S: 2\r\n\r\n").imap_uid == 2
    with db.write():  # a savepoint that fails is not told either, the block around it is
        box.add(b"S: 3\r\n\r\n")
        with pytest.raises(RuntimeError), db.write():
            box.add(b"S: 4\r\n\r\n")
            raise RuntimeError("inner")
    assert [[m.imap_uid for m in c.messages] for c in heard if isinstance(c, Arrived)] == [[2], [3]]


def test_folders_uids_and_flags_come_back_after_reopening(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    box, _ = SqlStore(db, "acme").put("bob", "pw")
    sent = box.create_folder("Sent", special_use="\\Sent", subscribed=True)
    a = box.add(b"S: a\r\n\r\n", folder="Sent", flags=["\\Seen", "$Label"])
    b = box.add_many([(b"S: b\r\n\r\n", None)], folder="Sent", internaldate=12345.5)[0]
    last = box.add(b"S: c\r\n\r\n")
    box.expunge("Sent", [b.imap_uid])  # the highest UID of Sent went
    box.add(b"S: d\r\n\r\n", folder="Sent")
    box.expunge("Sent", [3])
    box.remove([last.id])  # and INBOX's only message
    inbox = box.folder(INBOX)
    db.close()

    db = PgDatabase(fresh_dsn)
    again = SqlStore(db, "acme").get("bob")
    assert again.folders() == [inbox, box.folder("Sent")]
    assert (
        again.folder("Sent").uidvalidity == sent.uidvalidity and again.folder("Sent").special_use == "\\Sent"
    )
    (kept,) = again.folder_snapshot("Sent")
    assert (kept.id, kept.imap_uid, kept.flags, kept.internaldate) == (
        a.id,
        1,
        {"\\Seen", "$Label"},
        a.created,
    )
    assert again.add(b"S: e\r\n\r\n", folder="Sent").imap_uid == 4  # never reused, also after a restart
    assert again.add(b"S: f\r\n\r\n").imap_uid == last.imap_uid + 1
    made = again.create_folder("New")
    assert made.uidvalidity > max(f.uidvalidity for f in box.folders())
    db.close()


def test_a_mailbox_deleted_leaves_no_folder_rows(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    store = SqlStore(db, "acme")
    box, _ = store.put("bob", "pw")
    box.create_folder("F")
    box.add(b"S: a\r\n\r\n", folder="F")
    store.delete("bob")
    assert db.conn.execute("SELECT count(*) FROM folders").fetchone() == (0,)
    assert db.conn.execute("SELECT count(*) FROM bodies").fetchone() == (0,)
    assert box.folders()[0].messages == 0 and box.snapshot() == ()


def test_the_schema_is_made_once_and_a_newer_one_is_refused(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    box, _ = SqlStore(db, "acme").put("bob", "pw")
    box.add(b"S: a\r\n\r\n")
    db.close()
    db = PgDatabase(fresh_dsn)  # opening again keeps what is there
    assert db.conn.execute("SELECT version FROM mockmail_schema").fetchone() == (PG_SCHEMA_VERSION,)
    assert SqlStore(db, "acme").get("bob").count == 1
    db.conn.execute("UPDATE mockmail_schema SET version = 99")
    db.close()
    known = f"schema version 99, this mockmail knows {PG_SCHEMA_VERSION} and older"
    with pytest.raises(RuntimeError, match=known):
        PgDatabase(fresh_dsn)


def test_tenants_share_the_tables_and_see_only_their_own(fresh_dsn: str) -> None:
    db = PgDatabase(fresh_dsn)
    mine, _ = SqlStore(db, "acme").put("bob", "pw")
    theirs, _ = SqlStore(db, "other").put("bob", "pw")
    mine.add(b"Subject: a\r\n\r\n", uid="same")
    theirs.add(b"Subject: b\r\n\r\n", uid="same")  # another tenant's mailbox: its own UID history
    assert [m.summary.subject for m in SqlStore(db, "acme").get("bob").listing()] == ["a"]
    assert len(SqlStore(db, "nobody")) == 0
    db.close()


def test_the_catalog_keeps_tenants_and_drops_their_mail(fresh_dsn: str) -> None:
    catalog = SqlCatalog(PgDatabase(fresh_dsn))
    assert catalog.persistent and catalog.saved() == [] and catalog.check() is None
    catalog.save_tenant("acme", b"spec-1", 10.0)
    catalog.save_tenant("beta", b"spec-b", 20.0)
    catalog.save_tenant("acme", b"spec-2", 99.0)  # replaced: its spec only
    catalog.save_token("acme", b"digest")
    catalog.save_faults("beta", b"faults")
    box, _ = catalog.new_store("acme").put("bob", "pw")
    box.add(b"Subject: a\r\n\r\n")
    catalog.new_store("beta").put("bob", "pw")
    catalog.close()

    catalog = SqlCatalog(PgDatabase(fresh_dsn))
    assert catalog.saved() == [
        SavedTenant("acme", b"spec-2", 10.0, b"digest", None),
        SavedTenant("beta", b"spec-b", 20.0, None, b"faults"),
    ]
    assert catalog.new_store("acme").get("bob").count == 1
    catalog.keep_transcript("acme", 1, b"first", 5)
    catalog.drop_tenant("acme")
    assert [t.name for t in catalog.saved()] == ["beta"] and catalog.kept_transcripts("acme") == []
    assert len(catalog.new_store("acme")) == 0 and len(catalog.new_store("beta")) == 1
    catalog.close()
    assert catalog.check() is not None  # a closed connection: not ready


def test_the_catalog_keeps_the_last_transcripts_of_each_tenant(fresh_dsn: str) -> None:
    catalog = SqlCatalog(PgDatabase(fresh_dsn))
    for number in range(1, 6):
        catalog.keep_transcript("acme", number, b"acme %d" % number, 3)
    catalog.keep_transcript("beta", 1, b"beta 1", 3)
    catalog.close()

    catalog = SqlCatalog(PgDatabase(fresh_dsn))
    assert catalog.kept_transcripts("acme") == [(3, b"acme 3"), (4, b"acme 4"), (5, b"acme 5")]
    catalog.keep_transcript("acme", 6, b"acme 6", 1)  # a lower limit: the older ones go at the next write
    assert catalog.kept_transcripts("acme") == [(6, b"acme 6")]
    catalog.drop_transcripts("acme")
    assert catalog.kept_transcripts("acme") == [] and catalog.kept_transcripts("beta") == [(1, b"beta 1")]
    catalog.close()
