"""mockmail/ingest.py: the one deliver() every way in uses."""

from __future__ import annotations

import pytest

from mockmail.errors import InvalidInput, MessageTooLarge, UidTaken
from mockmail.message.ingest import Incoming, deliver, prepare
from mockmail.store import MemoryStore as Store


def test_prepare_normalizes_raw_messages_and_checks_them() -> None:
    item = prepare(Incoming(b"Subject: a\nX: y\n\nbody\n", "u1", "body"), 1000)
    assert item.data == b"Subject: a\r\nX: y\r\n\r\nbody\r\n" and item.normalized and item.uid == "u1"
    with pytest.raises(InvalidInput, match="not an RFC 5322 message") as refused:
        prepare(Incoming(b"no header here\n", None, "body[3]"), 1000)
    assert refused.value.field == "body[3]"
    with pytest.raises(MessageTooLarge) as large:
        prepare(Incoming(b"Subject: a\n\n" + b"x" * 100, None, "$[1]"), 50)
    assert large.value.field == "$[1]"


def test_a_normalized_message_is_only_measured() -> None:
    composed = b"Subject: composed\r\n\r\nhi\r\n"
    item = Incoming(composed, None, "$", normalized=True)
    assert prepare(item, 1000) is item
    with pytest.raises(MessageTooLarge):
        prepare(item, 10)


def test_deliver_is_all_or_nothing() -> None:
    box, _ = Store().put("bob", "pw")
    batch = [
        Incoming(b"Subject: one\n\n1\n", "a", "body[0]"),
        Incoming(b"Subject: two\n\n2\n", None, "body[1]"),
        Incoming(b"garbage", None, "body[2]"),
    ]
    with pytest.raises(InvalidInput) as refused:
        deliver(box, batch, limit=1000)
    assert refused.value.field == "body[2]" and box.count == 0
    with pytest.raises(UidTaken):
        deliver(box, [batch[0], Incoming(b"Subject: x\n\n", "a", "body[1]")], limit=1000)
    assert box.count == 0
    stored = deliver(box, batch[:2], limit=1000)
    assert stored[0].uid == "a" and stored[1].uid != "a" and box.count == 2
    assert [m.summary.subject for m in box.listing()] == ["one", "two"]
