"""mockmail/mailbox.py and mockmail/server/maildrop.py: storage rules and one session's view."""

from __future__ import annotations

import pytest

from mockmail.errors import InvalidInput, MailboxNotFound, MessageNotFound, UidTaken
from mockmail.mailbox import Store
from mockmail.server.maildrop import SessionMaildrop


def test_messages_are_normalized_and_sized() -> None:
    box, created = Store().put("bob", "pw")
    assert created
    message = box.add(b"Subject: a\n\nbody")
    assert message.content == b"Subject: a\r\n\r\nbody\r\n"
    assert message.size == len(message.content)
    assert message.summary.subject == "a"
    assert box.octets == message.size


def test_uids_unique_and_never_reused() -> None:
    box, _ = Store().put("bob", "pw")
    first = box.add(b"Subject: a\r\n\r\n", uid="fixed")
    with pytest.raises(UidTaken):
        box.add(b"Subject: b\r\n\r\n", uid="fixed")
    box.remove([first.id])
    with pytest.raises(UidTaken):
        box.add(b"Subject: c\r\n\r\n", uid="fixed")
    auto = {box.add(b"Subject: d\r\n\r\n").uid for _ in range(50)}
    assert len(auto) == 50


def test_add_many_is_all_or_nothing() -> None:
    box, _ = Store().put("bob", "pw")
    with pytest.raises(UidTaken) as err:
        box.add_many([(b"Subject: a\r\n\r\n", "x"), (b"Subject: b\r\n\r\n", "x")])
    assert err.value.field == "$[1].uid"
    assert box.messages == {}
    with pytest.raises(InvalidInput, match="not 1 to 70 printable ASCII"):  # malformed: 422, not 409
        box.add_many([(b"Subject: a\r\n\r\n", "has space")])
    assert box.messages == {}


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (0, b"H: v\r\n\r\n"),
        (1, b"H: v\r\n\r\nl1\r\n"),
        (3, b"H: v\r\n\r\nl1\r\nl2\r\n"),
        (99, b"H: v\r\n\r\nl1\r\nl2\r\n"),
    ],
)
def test_top(lines: int, expected: bytes) -> None:
    box, _ = Store().put("bob", "pw")
    top = box.add(b"H: v\r\n\r\nl1\r\nl2\r\n").top(lines)
    assert top.content() == expected and top.size == len(expected)


def test_top_of_a_message_without_body_adds_the_blank_line() -> None:
    box, _ = Store().put("bob", "pw")
    assert box.add(b"H: v\r\n").top(5).content() == b"H: v\r\n\r\n"


def test_store_lookups() -> None:
    store = Store()
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


def test_session_maildrop_marks_and_commits() -> None:
    box, _ = Store().put("bob", "pw")
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
    assert len(box.messages) == 2
    assert b in box and a not in box and c not in box
