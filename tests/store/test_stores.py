"""The MailStore rules, on every backend (mockmail/store/memory.py, sqlite.py), and
mockmail/server/maildrop.py (POP3's view of a mailbox)."""

from __future__ import annotations

import pytest

from mockmail.errors import InvalidInput, MailboxNotFound, MessageNotFound, UidTaken
from mockmail.server.maildrop import SessionMaildrop, wire_body
from mockmail.store import Envelope, MemoryStore

from .conftest import NewStore


def test_messages_are_normalized_and_sized(new_store: NewStore) -> None:
    box, created = new_store().put("bob", "pw")
    assert created
    message = box.add(b"Subject: a\n\nbody")
    assert message.content == b"Subject: a\r\n\r\nbody\r\n"
    assert message.size == len(message.content)
    assert message.summary.subject == "a"
    assert box.octets == message.size


def test_uids_unique_and_never_reused(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    first = box.add(b"Subject: a\r\n\r\n", uid="fixed")
    with pytest.raises(UidTaken):
        box.add(b"Subject: b\r\n\r\n", uid="fixed")
    box.remove([first.id])
    with pytest.raises(UidTaken):
        box.add(b"Subject: c\r\n\r\n", uid="fixed")
    auto = {box.add(b"Subject: d\r\n\r\n").uid for _ in range(50)}
    assert len(auto) == 50


def test_add_many_is_all_or_nothing(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    with pytest.raises(UidTaken) as err:
        box.add_many([(b"Subject: a\r\n\r\n", "x"), (b"Subject: b\r\n\r\n", "x")])
    assert err.value.field == "$[1].uid"
    assert box.count == 0 and box.listing() == []
    with pytest.raises(InvalidInput, match="not 1 to 70 printable ASCII"):  # malformed: 422, not 409
        box.add_many([(b"Subject: a\r\n\r\n", "has space")])
    assert box.count == 0 and box.listing() == []


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (0, b"H: v\r\n\r\n"),
        (1, b"H: v\r\n\r\nl1\r\n"),
        (3, b"H: v\r\n\r\nl1\r\nl2\r\n"),
        (99, b"H: v\r\n\r\nl1\r\nl2\r\n"),
    ],
)
def test_top(lines: int, expected: bytes, new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    top = wire_body(box.add(b"H: v\r\n\r\nl1\r\nl2\r\n")).top(lines)
    assert top.content() == expected and top.size == len(expected)


def test_top_of_a_message_without_body_adds_the_blank_line(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    assert wire_body(box.add(b"H: v\r\n")).top(5).content() == b"H: v\r\n\r\n"


def test_store_lookups(new_store: NewStore) -> None:
    store = new_store()
    box, _ = store.put("bob", "pw")
    _, created = store.put("bob", "new")
    assert not created and box.password == "new"
    with pytest.raises(MailboxNotFound):
        store.get("nobody")
    with pytest.raises(MessageNotFound):
        box.get("nope")
    message = box.add(b"S: x\r\n\r\n")
    store.delete("bob")
    assert message not in box  # sessions still holding the old mailbox see its messages gone


def test_put_replaces_password_and_bearer_token_together(new_store: NewStore) -> None:
    store = new_store()
    box, created = store.put("bob", "pw", "tok")
    assert created and (box.password, box.bearer_token) == ("pw", "tok")
    assert store.put("carol", "pw")[0].bearer_token is None
    store.put("bob", "pw", "rotated")
    assert store.get("bob").bearer_token == "rotated"
    store.put("bob", "new")  # no token given: the mailbox has none
    assert (box.password, box.bearer_token) == ("new", None)


def test_session_maildrop_marks_and_commits(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    a, b, c = (box.add(f"S: {n}\r\n\r\n".encode()) for n in "abc")
    drop = SessionMaildrop(box)
    assert (drop.count, drop.octets) == (3, a.size + b.size + c.size)
    drop.mark(2)
    assert drop.lookup(2) == "message 2 already deleted"
    assert drop.lookup(4) == "no such message 4 (maildrop has 3)"
    assert [n for n, _ in drop.live()] == [1, 3]
    assert (drop.count, drop.octets) == (2, a.size + c.size)
    drop.reset()
    assert drop.count == 3
    drop.mark(1)
    drop.mark(3)
    box.add(b"S: late\r\n\r\n")  # arrives after the snapshot: not in this session, not deleted
    assert drop.commit() == 2
    assert box.count == 2
    assert b in box and a not in box and c not in box


def test_messages_remember_how_they_arrived(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    envelope = Envelope(
        mail_from="a@x", rcpt_to=["bob@x"], peer="127.0.0.1:9", helo="h", tls=False, auth=None
    )
    seeded = box.add(b"S: a\r\n\r\n")
    sent = box.add_many([(b"S: b\r\n\r\n", None)], via="smtp", envelope=envelope)[0]
    assert (seeded.via, seeded.envelope) == ("api", None)
    assert (sent.via, sent.envelope) == ("smtp", envelope)


def test_octets_follow_every_change(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    a, b = box.add(b"S: a\r\n\r\n"), box.add(b"S: bb\r\n\r\n")
    assert box.octets == a.size + b.size
    box.remove([a.id, a.id, "missing"])
    assert box.octets == b.size and box.count == 1
    box.purge()
    assert (box.octets, box.count) == (0, 0)


def test_wire_body_is_made_once_and_shares_unstuffed_content() -> None:
    box, _ = MemoryStore().put("bob", "pw")
    plain = box.add(b"S: a\r\n\r\nno dots\r\n")
    dotted = box.add(b"S: a\r\n\r\n.dot\r\n")
    assert plain.resident
    assert wire_body(plain) is wire_body(plain)
    assert wire_body(plain).wire is plain.content  # nothing to stuff: no copy
    assert wire_body(dotted).wire == b"S: a\r\n\r\n..dot\r\n" and wire_body(dotted).size == dotted.size


def test_transaction_keeps_all_or_nothing_across_mailboxes(new_store: NewStore) -> None:
    store = new_store()
    a, _ = store.put("a", "pw")
    b, _ = store.put("b", "pw")
    arrived: list[str] = []
    store.watch(lambda box, stored: arrived.extend(m.id for m in stored))
    with store.transaction():
        one = a.add(b"S: 1\r\n\r\n")
        two = b.add(b"S: 2\r\n\r\n")
    assert arrived == [one.id, two.id]
    assert (a.count, b.count) == (1, 1)
    assert [m.id for m in a.snapshot()] == [one.id]
