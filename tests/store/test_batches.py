"""A batch of messages goes to an SQL store one statement per kind, each with every message's row (PostgreSQL
sends them as one pipeline): every message must still get its own id, UID, body and IMAP UID, in order, and a
draw of fresh ids that meets an old one falls back to drawing one at a time."""

from __future__ import annotations

import pytest

import mockmail.store.sql_folders as sql_folders
from mockmail.store import MailStore

from .conftest import NewStore


def mail(n: int) -> bytes:
    return b"Subject: m%d\r\n\r\n" % n + b"body %d\r\n" % n * (n + 1)


def test_a_batch_lines_up_ids_uids_bodies_and_imap_uids(new_store: NewStore) -> None:
    store: MailStore = new_store()
    box, _ = store.put("bob", "pw")
    before = box.add_many([(mail(0), None)])
    batch = box.add_many([(mail(1), None), (mail(2), "given-2"), (mail(3), None), (mail(4), "given-4")])
    assert [m.uid for m in batch] == [batch[0].id, "given-2", batch[2].id, "given-4"]
    assert len({m.id for m in before + batch}) == 5
    assert [box.get(m.id).content for m in batch] == [mail(n) for n in (1, 2, 3, 4)]
    assert [m.size for m in batch] == [len(mail(n)) for n in (1, 2, 3, 4)]
    assert [m.imap_uid for m in batch] == [before[0].imap_uid + n for n in (1, 2, 3, 4)]
    assert [box.get(m.id).summary.subject for m in batch] == ["m1", "m2", "m3", "m4"]
    assert all(box.used(m.uid) for m in batch)
    assert box.count == 5


def test_a_draw_of_ids_that_meets_an_old_one_is_taken_back_and_drawn_again(
    new_store: NewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: MailStore = new_store()
    box, _ = store.put("bob", "pw")
    if not hasattr(box, "_new_ids"):
        (first,) = box.add_many([(mail(0), None)])  # the memory store draws its own way
        assert box.used(first.id)
        return
    (first,) = box.add_many([(mail(0), None)])
    real = sql_folders.random_hex
    draws = iter([first.id, "0123456789abcdef"])  # the batch's first draw meets an old id

    def draw(n: int) -> str:
        return next(draws, None) or real(n)

    monkeypatch.setattr(sql_folders, "random_hex", draw)
    batch = box.add_many([(mail(1), None), (mail(2), None)])
    ids = [m.id for m in batch]
    assert first.id not in ids and len(set(ids)) == 2
    assert "0123456789abcdef" not in ids  # drawn in the batch that clashed, then taken back with it
    assert not box.used("0123456789abcdef")
    assert [box.get(m.id).content for m in batch] == [mail(1), mail(2)]
    assert box.count == 3
    # The draw that was taken back left no reservation behind but the ids in use.
    assert all(box.used(i) for i in [first.id, *ids])
