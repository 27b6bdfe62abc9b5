"""The folder rules (mockmail/store/folders.py, and the folder calls of memory.py and sqlite.py), on every
backend: part of the shared store suite."""

from __future__ import annotations

import pytest

from mockmail.errors import FolderExists, FolderNotFound, InvalidInput, UidTaken
from mockmail.server.maildrop import SessionMaildrop
from mockmail.store import INBOX, Mailbox, check_flags, check_folder_name

from .conftest import NewStore


def mail(n: int | str) -> bytes:
    return f"Subject: {n}\r\n\r\nbody {n}\r\n".encode()


def names(box: Mailbox) -> list[str]:
    return [f.name for f in box.folders()]


def uids(box: Mailbox, folder: str) -> list[int]:
    return [m.imap_uid for m in box.folder_snapshot(folder)]


def test_a_new_mailbox_has_inbox_only(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    (inbox,) = box.folders()
    assert (inbox.name, inbox.uidnext, inbox.subscribed, inbox.special_use) == (INBOX, 1, True, None)
    assert 0 < inbox.uidvalidity < 2**32
    assert box.folder("inbox") == box.folder("InBoX") == inbox  # INBOX is case-insensitive
    with pytest.raises(FolderNotFound) as err:
        box.folder("Sent")
    assert err.value.field == "folder"


def test_created_folders_have_fresh_uidvalidity(new_store: NewStore) -> None:
    store = new_store()
    box, _ = store.put("bob", "pw")
    sent = box.create_folder("Sent", special_use="\\Sent", subscribed=True)
    trash = box.create_folder("Trash")
    assert (sent.special_use, sent.subscribed, sent.uidnext, sent.messages) == ("\\Sent", True, 1, 0)
    assert (trash.special_use, trash.subscribed) == (None, False)
    assert len({box.folder(INBOX).uidvalidity, sent.uidvalidity, trash.uidvalidity}) == 3
    assert names(box) == [INBOX, "Sent", "Trash"]
    with pytest.raises(FolderExists):
        box.create_folder("Sent")
    with pytest.raises(FolderExists):
        box.create_folder("inbox")
    box.delete_folder("Trash")
    again = box.create_folder("Trash")  # made again, even within the same second: a new UIDVALIDITY
    assert again.uidvalidity not in (trash.uidvalidity, sent.uidvalidity)
    other, _ = store.put("carol", "pw")  # another mailbox's folders too
    assert other.folder(INBOX).uidvalidity not in (again.uidvalidity, box.folder(INBOX).uidvalidity)


@pytest.mark.parametrize("name", ["", "a//b", "/a", "a/", "a*", "b%", "tab\there", "x" * 256])
def test_bad_folder_names_are_refused(name: str, new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    with pytest.raises(InvalidInput) as err:
        box.create_folder(name)
    assert err.value.field == "folder"
    assert names(box) == [INBOX]


def test_folder_names_are_unicode_and_inbox_is_normalized() -> None:
    assert check_folder_name("Entwürfe/日本") == "Entwürfe/日本"
    assert check_folder_name("inbox") == INBOX
    assert check_folder_name("inbox/sub") == "inbox/sub"  # only INBOX itself is case-insensitive


def test_messages_go_to_their_folder_with_rising_uids(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    box.create_folder("Archive")
    first = box.add(mail(1))
    archived = box.add_many(
        [(mail(2), None), (mail(3), "kept")], folder="Archive", flags=["\\seen", "$Label"]
    )
    second = box.add(mail(4))
    assert (first.folder, first.imap_uid, second.imap_uid) == (INBOX, 1, 2)
    assert [(m.folder, m.imap_uid, m.flags) for m in archived] == [
        ("Archive", 1, frozenset({"\\Seen", "$Label"})),
        ("Archive", 2, frozenset({"\\Seen", "$Label"})),
    ]
    assert archived[1].uid == "kept" and archived[0].internaldate == archived[0].created
    # INBOX is what POP3 sees: count, octets, snapshot, listing.
    assert (box.count, box.octets) == (2, first.size + second.size)
    assert [m.id for m in box.snapshot()] == [m.id for m in box.listing()] == [first.id, second.id]
    assert [m.id for m in box.folder_snapshot("Archive")] == [m.id for m in archived]
    assert box.totals == (4, sum(m.size for m in (first, second, *archived)))
    assert box.get(archived[0].id).folder == "Archive"  # get finds a message in any folder
    assert box.folder("Archive").uidnext == 3 and box.folder(INBOX).uidnext == 3
    with pytest.raises(UidTaken):  # POP3 UIDs are unique in the whole mailbox
        box.add(mail(5), uid="kept")


def test_append_sets_internaldate(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    (message,) = box.add_many([(mail(1), None)], via="imap", flags=["\\Draft"], internaldate=1_000_000_000.5)
    assert (message.internaldate, message.via, message.flags) == (1_000_000_000.5, "imap", {"\\Draft"})
    assert box.get(message.id).internaldate == 1_000_000_000.5
    assert box.snapshot()[0].internaldate == 1_000_000_000.5


def test_adding_is_all_or_nothing(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    with pytest.raises(FolderNotFound):
        box.add(mail(1), folder="Nowhere")
    with pytest.raises(InvalidInput) as err:
        box.add_many([(mail(1), "a"), (mail(2), None)], flags=["\\Recent"])
    assert err.value.field == "flags[0]"
    assert box.totals == (0, 0) and box.folder(INBOX).uidnext == 1
    box.add(mail(3), uid="a")  # the refused batch did not take its UID


def test_uids_are_never_reused_after_expunge(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    box.create_folder("F")
    made = [box.add(mail(n), folder="F") for n in range(3)]
    assert box.expunge("F", [made[2].imap_uid, made[0].imap_uid, 99]) == [1, 3]
    assert uids(box, "F") == [2]
    assert box.add(mail(9), folder="F").imap_uid == 4
    last = box.add(mail(10))
    box.remove([last.id])
    assert box.add(mail(11)).imap_uid == last.imap_uid + 1
    box.purge()
    assert box.totals == (0, 0) and names(box) == [INBOX, "F"]
    assert box.add(mail(12), folder="F").imap_uid == 5


def test_flags_are_replaced_added_and_removed(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    a, b = box.add(mail(1)), box.add(mail(2))
    drop = SessionMaildrop(box)
    before = box.folder_snapshot(INBOX)
    done = box.set_flags(INBOX, [b.imap_uid, a.imap_uid, 42], ["\\SEEN", "$Work"])
    assert [(m.id, m.flags) for m in done] == [(a.id, {"\\Seen", "$Work"}), (b.id, {"\\Seen", "$Work"})]
    done = box.set_flags(INBOX, [a.imap_uid], ["\\Flagged"], "add")
    assert done[0].flags == {"\\Seen", "$Work", "\\Flagged"}
    done = box.set_flags(INBOX, [a.imap_uid, b.imap_uid], ["\\Seen", "$Nothing"], "remove")
    assert [m.flags for m in done] == [{"$Work", "\\Flagged"}, {"$Work"}]
    assert [m.flags for m in box.folder_snapshot(INBOX)] == [{"$Work", "\\Flagged"}, {"$Work"}]
    assert box.get(a.id).flags == {"$Work", "\\Flagged"}
    assert [m.flags for m in before] == [set(), set()]  # a snapshot taken before stays as it was
    assert drop.lookup_present(1) is drop.messages[0]  # a flag change is no deletion for POP3
    with pytest.raises(InvalidInput):
        box.set_flags(INBOX, [a.imap_uid], ["\\Seen", "has space"])
    assert box.get(a.id).flags == {"$Work", "\\Flagged"}
    with pytest.raises(FolderNotFound):
        box.set_flags("Nope", [1], ["\\Seen"])


@pytest.mark.parametrize(
    "flag", ["\\Recent", "\\Other", "a b", "(x", "x)", "{1}", "a%", "b*", 'q"', "r]", "é", ""]
)
def test_malformed_flags_are_refused(flag: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_flags(["\\Seen", flag])
    assert err.value.field == "flags[1]"


def test_copy_makes_new_messages_with_flags_and_date(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    box.create_folder("Copies")
    box.add(mail("x"), folder="Copies")
    a, b = box.add(mail(1), flags=["\\Seen"]), box.add(mail(2))
    pairs = box.copy(INBOX, [b.imap_uid, a.imap_uid, 77], "Copies")
    assert pairs == [(a.imap_uid, 2), (b.imap_uid, 3)]
    copies = box.folder_snapshot("Copies")[1:]
    assert [(m.imap_uid, m.flags, m.internaldate, m.content) for m in copies] == [
        (2, {"\\Seen"}, a.internaldate, a.content),
        (3, set(), b.internaldate, b.content),
    ]
    assert {m.id for m in copies}.isdisjoint({a.id, b.id}) and all(m.uid == m.id for m in copies)
    assert [m.id for m in box.snapshot()] == [a.id, b.id]  # the originals stay
    assert box.totals[0] == 5
    box.expunge("Copies", [2])
    assert box.get(a.id).content == a.content  # the copy has content of its own
    with pytest.raises(FolderNotFound) as err:
        box.copy(INBOX, [a.imap_uid], "Missing")
    assert err.value.field == "target"
    assert box.copy(INBOX, [999], "Copies") == []


def test_move_keeps_the_message_and_gives_a_new_uid(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    box.create_folder("Archive")
    a, b, c = box.add(mail(1), flags=["$Keep"]), box.add(mail(2)), box.add(mail(3))
    drop = SessionMaildrop(box)
    assert box.move(INBOX, [c.imap_uid, a.imap_uid], "Archive") == [(1, 1), (3, 2)]
    moved = box.folder_snapshot("Archive")
    assert [(m.id, m.uid, m.flags, m.internaldate) for m in moved] == [
        (a.id, a.uid, {"$Keep"}, a.internaldate),
        (c.id, c.uid, set(), c.internaldate),
    ]
    assert uids(box, INBOX) == [2] and (box.count, box.octets) == (1, b.size)
    assert box.get(a.id).folder == "Archive"
    # POP3: what left INBOX is no longer in the maildrop, and its QUIT does not delete it from Archive.
    assert drop.lookup_present(1) == "message 1 is no longer in the maildrop"
    drop.mark(1)
    drop.mark(2)
    assert drop.commit() == 1
    assert uids(box, "Archive") == [1, 2]
    # Back to INBOX: the same message (POP3 UIDL kept), a new IMAP UID after every one INBOX handed out.
    assert box.move("Archive", [1], INBOX) == [(1, 4)]
    assert [(m.id, m.uid, m.imap_uid) for m in box.snapshot()] == [(a.id, a.uid, 4)]
    assert box.move("Archive", [2], "Archive") == [(2, 3)]  # within a folder: a new UID too
    with pytest.raises(FolderNotFound) as err:
        box.move("Archive", [3], "Missing")
    assert err.value.field == "target"
    assert uids(box, "Archive") == [3]


def test_rename_takes_children_and_keeps_uidvalidity(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    for name in ("a", "a/b", "a/b/c", "ab", "x"):
        box.create_folder(name)
    before = {f.name: f.uidvalidity for f in box.folders()}
    message = box.add(mail(1), folder="a/b")
    renamed = box.rename_folder("a", "z")
    assert renamed.name == "z" and renamed.uidvalidity == before["a"]
    assert names(box) == [INBOX, "ab", "x", "z", "z/b", "z/b/c"]
    assert box.folder("z/b").uidvalidity == before["a/b"]
    (kept,) = box.folder_snapshot("z/b")
    assert (kept.id, kept.imap_uid, kept.folder) == (message.id, 1, "z/b")
    assert box.get(message.id).folder == "z/b"
    with pytest.raises(InvalidInput):
        box.rename_folder("z", "z/b/deeper")  # into itself
    with pytest.raises(FolderExists):
        box.rename_folder("z", "x")
    with pytest.raises(FolderNotFound):
        box.rename_folder("nope", "y")
    with pytest.raises(FolderExists):
        box.rename_folder("x", INBOX)
    assert names(box) == [INBOX, "ab", "x", "z", "z/b", "z/b/c"]
    with pytest.raises(FolderExists):
        box.rename_folder("z/b", "z")  # onto its parent, which stays


def test_renaming_a_folder_onto_a_child_name_it_vacates(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    for name in ("p/q", "p/q/q"):
        box.create_folder(name)
    validity = box.folder("p/q/q").uidvalidity
    box.rename_folder("p/q", "p")  # p/q -> p, p/q/q -> p/q: a name the rename frees
    assert names(box) == [INBOX, "p", "p/q"]
    assert box.folder("p/q").uidvalidity == validity


def test_renaming_inbox_moves_its_messages_and_leaves_it_empty(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    box.create_folder("INBOX/child")
    inbox = box.folder(INBOX)
    a, b = box.add(mail(1), flags=["\\Seen"]), box.add(mail(2))
    drop = SessionMaildrop(box)
    old = box.rename_folder("inbox", "Old")
    assert (old.name, old.messages, old.uidnext) == ("Old", 2, 3)
    assert old.uidvalidity != inbox.uidvalidity
    assert [(m.id, m.imap_uid, m.flags) for m in box.folder_snapshot("Old")] == [
        (a.id, 1, {"\\Seen"}),
        (b.id, 2, set()),
    ]
    now = box.folder(INBOX)
    assert (now.uidvalidity, now.messages, box.count) == (inbox.uidvalidity, 0, 0)
    assert names(box) == [INBOX, "INBOX/child", "Old"]  # its children stay
    assert drop.lookup_present(1) == "message 1 is no longer in the maildrop"
    assert box.add(mail(3)).imap_uid == 3  # INBOX never hands a UID out twice
    with pytest.raises(InvalidInput):
        box.rename_folder(INBOX, INBOX)


def test_delete_folder(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    box.create_folder("Trash")
    box.create_folder("Trash/old")
    gone = box.add(mail(1), folder="Trash")
    assert box.delete_folder("Trash") == 1
    assert names(box) == [INBOX, "Trash/old"]  # not its children
    with pytest.raises(InvalidInput) as err:
        box.delete_folder("inbox")
    assert err.value.field == "folder"
    with pytest.raises(FolderNotFound):
        box.delete_folder("Trash")
    with pytest.raises(UidTaken):  # the UIDs of deleted messages stay used
        box.add(mail(2), uid=gone.uid)
    assert box.totals == (0, 0)


def test_subscribe(new_store: NewStore) -> None:
    box, _ = new_store().put("bob", "pw")
    box.create_folder("News")
    assert box.subscribe("News").subscribed
    assert box.folder("News").subscribed
    assert not box.subscribe("News", False).subscribed
    with pytest.raises(FolderNotFound):
        box.subscribe("Nope")
