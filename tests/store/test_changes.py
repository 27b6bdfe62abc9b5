"""mockmail/store/changes.py: watchers hear of every change, on every backend (part of the shared suite)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mockmail.errors import FolderNotFound, InvalidInput, UidTaken
from mockmail.store import (
    INBOX,
    Arrived,
    Change,
    Expunged,
    FlagsChanged,
    FolderCreated,
    FolderDeleted,
    FolderRenamed,
    Mailbox,
    MailboxDeleted,
    Message,
)

from .conftest import NewStore


def mail(n: int) -> bytes:
    return f"Subject: {n}\r\n\r\n".encode()


def brief(change: Change) -> tuple[object, ...]:
    """A change without its mailbox, messages by (folder, IMAP UID)."""
    match change:
        case Arrived(folder=folder, messages=messages, delivered=delivered):
            return ("arrived", folder, [(m.folder, m.imap_uid) for m in messages], delivered)
        case Expunged(folder=folder, uids=uids):
            return ("expunged", folder, list(uids))
        case FlagsChanged(folder=folder, messages=messages):
            return ("flags", folder, [(m.imap_uid, sorted(m.flags)) for m in messages])
        case FolderCreated(folder=folder):
            return ("created", folder)
        case FolderRenamed(renames=renames):
            return ("renamed", list(renames))
        case FolderDeleted(folder=folder):
            return ("deleted", folder)
        case MailboxDeleted():
            return ("mailbox deleted",)


def test_every_change_is_told(new_store: NewStore) -> None:
    store = new_store()
    box, _ = store.put("bob", "pw")
    heard: list[Change] = []
    arrivals: list[tuple[Mailbox, Sequence[Message]]] = []
    store.watch(lambda mailbox, stored: arrivals.append((mailbox, stored)))
    stop = store.watch_changes(heard.append)

    box.create_folder("A")
    box.create_folder("A/b")
    first = box.add(mail(1))
    box.add_many([(mail(2), None), (mail(3), None)], folder="A")
    box.set_flags(INBOX, [1], ["\\Seen"])
    box.set_flags(INBOX, [1], ["\\Seen"], "add")  # no change: nothing told
    box.copy("A", [1, 2], INBOX)
    box.move(INBOX, [2], "A")
    box.expunge("A", [1])
    box.remove([first.id])
    box.rename_folder("A", "Z")
    box.delete_folder("Z/b")
    box.rename_folder(INBOX, "Old")
    box.purge()
    store.delete("bob")
    assert [brief(change) for change in heard] == [
        ("created", "A"),
        ("created", "A/b"),
        ("arrived", INBOX, [(INBOX, 1)], True),
        ("arrived", "A", [("A", 1), ("A", 2)], True),
        ("flags", INBOX, [(1, ["\\Seen"])]),
        ("arrived", INBOX, [(INBOX, 2), (INBOX, 3)], False),
        ("expunged", INBOX, [2]),
        ("arrived", "A", [("A", 3)], False),
        ("expunged", "A", [1]),
        ("expunged", INBOX, [1]),
        ("renamed", [("A", "Z"), ("A/b", "Z/b")]),
        ("deleted", "Z/b"),
        ("created", "Old"),
        ("expunged", INBOX, [3]),
        ("arrived", "Old", [("Old", 3)], False),
        ("expunged", "Z", [2, 3]),
        ("expunged", "Old", [3]),
        ("mailbox deleted",),
    ]
    assert all(change.mailbox is box for change in heard)
    # The arrival callbacks (long-polls, metrics) hear of new mail only, in any folder.
    assert [[m.imap_uid for m in stored] for mailbox, stored in arrivals] == [[1], [1, 2]]
    stop()
    again, _ = store.put("bob", "pw")
    again.add(mail(4))
    assert len(heard) == 18 and len(arrivals) == 3


def test_a_watcher_may_stop_while_told(new_store: NewStore) -> None:
    store = new_store()
    box, _ = store.put("bob", "pw")
    heard: list[str] = []

    def once(change: Change) -> None:
        heard.append("once")
        stop()

    stop = store.watch_changes(once)
    store.watch_changes(lambda change: heard.append("always"))
    box.add(mail(1))
    box.add(mail(2))
    assert heard == ["once", "always", "always"]


def test_watchers_hear_nothing_of_a_refused_change(new_store: NewStore) -> None:
    store = new_store()
    box, _ = store.put("bob", "pw")
    heard: list[Change] = []
    store.watch_changes(heard.append)
    with pytest.raises(UidTaken):
        box.add_many([(mail(1), "x"), (mail(2), "x")])
    with pytest.raises(InvalidInput):
        box.set_flags(INBOX, [1], ["bad flag"])
    with pytest.raises(FolderNotFound):
        box.move(INBOX, [1], "Nowhere")
    assert heard == []


def test_a_deleted_mailbox_is_one_change(new_store: NewStore) -> None:
    store = new_store()
    box, _ = store.put("bob", "pw")
    box.create_folder("F")
    box.add(mail(1))
    box.add(mail(2), folder="F")
    heard: list[Change] = []
    store.watch_changes(heard.append)
    store.delete("bob")
    assert [brief(change) for change in heard] == [("mailbox deleted",)]
    assert box.snapshot() == () and box.totals == (0, 0)
