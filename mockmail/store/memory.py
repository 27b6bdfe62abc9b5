"""The in-memory `MailStore`: per folder a dict in UID order, and the snapshot tuple shared between changes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence

from ..errors import FolderExists, FolderNotFound, InvalidInput, MessageNotFound
from ..message.headers import summarize
from ..message.ids import random_hex
from ._interface import Mailbox, MailStore, check_new_uids
from ._message import Envelope, Message, Via
from .changes import (
    ArrivalCallback,
    ChangeCallback,
    Expunged,
    FlagsChanged,
    FolderCreated,
    FolderDeleted,
    FolderRenamed,
    Hub,
    MailboxDeleted,
)
from .folders import (
    INBOX,
    NO_FLAGS,
    FlagMode,
    FolderInfo,
    SpecialUse,
    UidValidities,
    check_flags,
    check_folder_name,
    renamed,
)

__all__ = ["MemoryMailbox", "MemoryStore"]

_UIDVALIDITIES = UidValidities()
"""One for the process: a mailbox or tenant made again never gets the UIDVALIDITY its predecessor had."""


class _Folder:
    """One folder's messages (by id, in UID order), its UID index and figures."""

    __slots__ = (
        "messages",
        "name",
        "octets",
        "snapshot",
        "special_use",
        "subscribed",
        "uidnext",
        "uids",
        "uidvalidity",
    )

    def __init__(
        self,
        name: str,
        uidvalidity: int,
        *,
        uidnext: int = 1,
        subscribed: bool = False,
        special_use: SpecialUse | None = None,
    ) -> None:
        self.name = name
        self.uidvalidity = uidvalidity
        self.uidnext = uidnext
        self.subscribed = subscribed
        self.special_use: SpecialUse | None = special_use
        self.messages: dict[str, Message] = {}
        self.uids: dict[int, str] = {}
        """Message id by IMAP UID."""
        self.octets = 0
        self.snapshot: tuple[Message, ...] | None = None
        """Shared by every session that reads it before the next change (one tuple, not one per session)."""

    def info(self) -> FolderInfo:
        return FolderInfo(
            name=self.name,
            uidvalidity=self.uidvalidity,
            uidnext=self.uidnext,
            subscribed=self.subscribed,
            special_use=self.special_use,
            messages=len(self.messages),
            octets=self.octets,
        )

    def put(self, message: Message) -> None:
        self.messages[message.id] = message
        self.uids[message.imap_uid] = message.id
        self.octets += message.size

    def pop(self, message_id: str) -> Message | None:
        message = self.messages.pop(message_id, None)
        if message is not None:
            del self.uids[message.imap_uid]
            self.octets -= message.size
        return message

    def picked(self, uids: Iterable[int]) -> list[Message]:
        """The messages with these UIDs that are here, in UID order."""
        ids, messages = self.uids, self.messages
        return [messages[ids[uid]] for uid in sorted(set(uids)) if uid in ids]

    def renamed_to(self, name: str) -> None:
        self.name = name
        self.messages = {
            key: m.replaced(folder=name, imap_uid=m.imap_uid, flags=m.flags)
            for key, m in self.messages.items()
        }
        self.snapshot = None


class MemoryMailbox(Mailbox):
    """A mailbox held in dicts, one per folder."""

    __slots__ = ("_folders", "_hub", "_inbox", "_uids", "bearer_token", "password", "user")

    def __init__(
        self, user: str, password: str, hub: Hub | None = None, bearer_token: str | None = None
    ) -> None:
        self.user = user
        self._hub = hub if hub is not None else Hub()
        self.password = password
        self.bearer_token = bearer_token
        self._inbox = _Folder(INBOX, _UIDVALIDITIES.next(), subscribed=True)
        self._folders: dict[str, _Folder] = {INBOX: self._inbox}
        self._uids: set[str] = set()

    @property
    def count(self) -> int:
        return len(self._inbox.messages)

    @property
    def octets(self) -> int:
        return self._inbox.octets

    @property
    def totals(self) -> tuple[int, int]:
        folders = self._folders.values()
        return sum(len(f.messages) for f in folders), sum(f.octets for f in folders)

    def used(self, uid: str) -> bool:
        return uid in self._uids

    def _find(self, name: str, field: str = "folder") -> _Folder:
        found = self._folders.get(name)
        if found is None:
            if name.upper() == INBOX:
                return self._inbox
            raise FolderNotFound(f"no folder {name!r} in mailbox {self.user!r}", field=field)
        return found

    def _new_id(self) -> str:
        message_id = random_hex(8)
        while message_id in self._uids:  # pragma: no cover - 64 random bits
            message_id = random_hex(8)
        return message_id

    def add_many(
        self,
        items: Sequence[tuple[bytes, str | None]],
        *,
        field: str = "uid",
        via: Via = "api",
        envelope: Envelope | None = None,
        folder: str = INBOX,
        flags: Iterable[str] = (),
        internaldate: float | None = None,
    ) -> list[Message]:
        # The content is CRLF-normalized already (`mockmail.message.ingest.prepare` leaves it so): normalizing
        # here again would scan every message twice.
        target = self._inbox if folder == INBOX else self._find(folder)
        check_new_uids(self, [uid for _, uid in items], field)
        flagged = check_flags(flags) if flags else NO_FLAGS
        summaries = [summarize(content) for content, _ in items]
        taken = {uid for _, uid in items if uid is not None}
        stored = []
        now = time.time()
        name, uidnext, octets = target.name, target.uidnext, target.octets
        messages, index, used = target.messages, target.uids, self._uids
        for (content, uid), summary in zip(items, summaries, strict=True):
            message_id = random_hex(8)
            while message_id in used or message_id in taken:  # pragma: no cover - 64 random bits
                message_id = random_hex(8)
            uid = uid or message_id
            message = Message(
                message_id, uid, content, summary, now, via, envelope, name, uidnext, flagged, internaldate
            )
            used.add(uid)
            used.add(message_id)
            messages[message_id] = message
            index[uidnext] = message_id
            octets += message.size
            uidnext += 1
            stored.append(message)
        target.uidnext, target.octets = uidnext, octets
        target.snapshot = None
        self._hub.arrived(self, name, stored, delivered=True)
        return stored

    def get(self, message_id: str) -> Message:
        for folder in self._folders.values():  # INBOX first
            found = folder.messages.get(message_id)
            if found is not None:
                return found
        raise MessageNotFound(f"no message {message_id!r} in mailbox {self.user!r}")

    def listing(self, folder: str = INBOX) -> list[Message]:
        return list((self._inbox if folder == INBOX else self._find(folder)).messages.values())

    def snapshot(self) -> tuple[Message, ...]:
        inbox = self._inbox
        if inbox.snapshot is None:
            inbox.snapshot = tuple(inbox.messages.values())
        return inbox.snapshot

    def _expunged(self, folder: _Folder, uids: list[int]) -> None:
        folder.snapshot = None
        if self._hub.listening:
            self._hub.tell(Expunged(mailbox=self, folder=folder.name, uids=tuple(sorted(uids))))

    def remove(self, ids: Iterable[str]) -> int:
        inbox = self._inbox
        messages, index = inbox.messages, inbox.uids
        removed: list[int] | None = None
        for message_id in ids:  # POP3's QUIT: inline, as it was before folders
            message = messages.pop(message_id, None)
            if message is not None:
                uid = message._imap_uid
                del index[uid]
                inbox.octets -= message.size
                if removed is None:
                    removed = []
                removed.append(uid)
        if removed is None:
            return 0
        self._expunged(inbox, removed)
        return len(removed)

    def purge(self) -> int:
        count = 0
        for folder in self._folders.values():
            uids = list(folder.uids)
            folder.messages, folder.uids, folder.octets = {}, {}, 0
            if uids:
                count += len(uids)
                self._expunged(folder, uids)
        return count

    def _drop(self) -> None:
        """Forget every message (the mailbox is deleted: `MailboxDeleted` tells of it, not `Expunged`)."""
        for folder in self._folders.values():
            folder.messages, folder.uids, folder.octets, folder.snapshot = {}, {}, 0, None

    def __contains__(self, message: object) -> bool:
        if not isinstance(message, Message):
            return False
        found = self._inbox.messages.get(message.id)
        return found is not None and found.key == message.key

    # --- Folders --------------------------------------------------------------------------------------

    def folders(self) -> list[FolderInfo]:
        others = sorted(name for name in self._folders if name != INBOX)
        return [self._inbox.info(), *(self._folders[name].info() for name in others)]

    def folder(self, name: str) -> FolderInfo:
        return self._find(name).info()

    def create_folder(
        self, name: str, *, special_use: SpecialUse | None = None, subscribed: bool = False
    ) -> FolderInfo:
        name = check_folder_name(name)
        if name in self._folders:
            raise FolderExists(f"folder {name!r} exists in mailbox {self.user!r}", field="folder")
        made = self._folders[name] = _Folder(
            name, _UIDVALIDITIES.next(), subscribed=subscribed, special_use=special_use
        )
        self._hub.tell(FolderCreated(mailbox=self, folder=name))
        return made.info()

    def rename_folder(self, old: str, new: str) -> FolderInfo:
        source = self._find(old)
        new = check_folder_name(new, "new")
        if source is self._inbox:
            return self._rename_inbox(new)
        moves = _renames(source.name, new, self._folders)
        if moves is None:
            raise InvalidInput(f"cannot rename {source.name!r} to itself or into itself", field="new")
        for _, to in moves:
            if to in self._folders and all(to != frm for frm, _ in moves):
                raise FolderExists(f"folder {to!r} exists in mailbox {self.user!r}", field="new")
        folders = {frm: self._folders.pop(frm) for frm, _ in moves}
        for frm, to in moves:
            folders[frm].renamed_to(to)
            self._folders[to] = folders[frm]
        self._hub.tell(FolderRenamed(mailbox=self, renames=tuple(moves)))
        return self._folders[new].info()

    def _rename_inbox(self, new: str) -> FolderInfo:
        inbox = self._inbox
        if new == INBOX:
            raise InvalidInput("cannot rename INBOX to itself", field="new")
        if new in self._folders:
            raise FolderExists(f"folder {new!r} exists in mailbox {self.user!r}", field="new")
        made = self._folders[new] = _Folder(new, _UIDVALIDITIES.next(), uidnext=inbox.uidnext)
        moved = list(inbox.messages.values())
        inbox.messages, inbox.uids, inbox.octets, inbox.snapshot = {}, {}, 0, None
        for message in moved:
            made.put(message.replaced(folder=new, imap_uid=message.imap_uid, flags=message.flags))
        self._hub.tell(FolderCreated(mailbox=self, folder=new))
        if moved:
            self._expunged(inbox, [m.imap_uid for m in moved])
            self._hub.arrived(self, new, list(made.messages.values()), delivered=False)
        return made.info()

    def delete_folder(self, name: str) -> int:
        folder = self._find(name)
        if folder is self._inbox:
            raise InvalidInput("INBOX cannot be deleted", field="folder")
        del self._folders[folder.name]
        self._hub.tell(FolderDeleted(mailbox=self, folder=folder.name))
        return len(folder.messages)

    def subscribe(self, name: str, subscribed: bool = True) -> FolderInfo:
        folder = self._find(name)
        folder.subscribed = subscribed
        return folder.info()

    def folder_snapshot(self, name: str) -> tuple[Message, ...]:
        folder = self._find(name)
        if folder.snapshot is None:
            folder.snapshot = tuple(folder.messages.values())
        return folder.snapshot

    def set_flags(
        self, folder: str, uids: Iterable[int], flags: Iterable[str], mode: FlagMode = "replace"
    ) -> list[Message]:
        found = self._find(folder)
        given = check_flags(flags)
        now: list[Message] = []
        changed: list[Message] = []
        for message in found.picked(uids):
            old = message.flags
            new = given if mode == "replace" else old | given if mode == "add" else old - given
            if new != old:
                message = message.replaced(folder=found.name, imap_uid=message.imap_uid, flags=new)
                found.messages[message.id] = message
                changed.append(message)
            now.append(message)
        if changed:
            found.snapshot = None
            if self._hub.listening:
                self._hub.tell(FlagsChanged(mailbox=self, folder=found.name, messages=tuple(changed)))
        return now

    def copy(self, folder: str, uids: Iterable[int], target: str) -> list[tuple[int, int]]:
        source, dest = self._find(folder), self._find(target, "target")
        now = time.time()
        pairs, made = [], []
        for message in source.picked(uids):
            message_id = self._new_id()
            copied = Message(
                message_id,
                message_id,
                message.content,
                message.summary,
                now,
                message.via,
                message.envelope,
                folder=dest.name,
                imap_uid=dest.uidnext,
                flags=message.flags,
                internaldate=message.internaldate,
            )
            dest.uidnext += 1
            self._uids.add(message_id)
            dest.put(copied)
            pairs.append((message.imap_uid, copied.imap_uid))
            made.append(copied)
        if made:
            dest.snapshot = None
            self._hub.arrived(self, dest.name, made, delivered=False)
        return pairs

    def move(self, folder: str, uids: Iterable[int], target: str) -> list[tuple[int, int]]:
        source, dest = self._find(folder), self._find(target, "target")
        leaving = source.picked(uids)
        for message in leaving:
            source.pop(message.id)
        pairs, made = [], []
        for message in leaving:
            moved = message.replaced(folder=dest.name, imap_uid=dest.uidnext, flags=message.flags)
            dest.uidnext += 1
            dest.put(moved)
            pairs.append((message.imap_uid, moved.imap_uid))
            made.append(moved)
        if leaving:
            self._expunged(source, [old for old, _ in pairs])
            dest.snapshot = None
            self._hub.arrived(self, dest.name, made, delivered=False)
        return pairs

    def expunge(self, folder: str, uids: Iterable[int]) -> list[int]:
        found = self._find(folder)
        gone = [message.imap_uid for message in found.picked(uids)]
        for uid in gone:
            found.pop(found.uids[uid])
        if gone:
            self._expunged(found, gone)
        return gone


def _renames(old: str, new: str, names: Iterable[str]) -> list[tuple[str, str]] | None:
    """(from, to) for `old` and each of its children, the parent first; None when `new` is `old` or
    inside it."""
    if renamed(new, old, new) is not None:
        return None
    moves = [(name, to) for name in names if (to := renamed(name, old, new)) is not None]
    return sorted(moves, key=lambda move: len(move[0]))


class MemoryStore(MailStore):
    """The mailboxes of one tenant, in a dict by user name."""

    __slots__ = ("_hub", "_mailboxes")

    def __init__(self) -> None:
        self._mailboxes: dict[str, MemoryMailbox] = {}
        self._hub = Hub()

    def watch(self, callback: ArrivalCallback) -> None:
        self._hub.watch(callback)

    def watch_changes(self, callback: ChangeCallback) -> Callable[[], None]:
        return self._hub.watch_changes(callback)

    def __len__(self) -> int:
        return len(self._mailboxes)

    def __iter__(self) -> Iterator[Mailbox]:
        return iter(list(self._mailboxes.values()))

    def put(
        self, user: str, password: str, bearer_token: str | None = None
    ) -> tuple[MemoryMailbox, bool]:
        mailbox = self._mailboxes.get(user)
        if mailbox is None:
            mailbox = self._mailboxes[user] = MemoryMailbox(user, password, self._hub, bearer_token)
            return mailbox, True
        mailbox.password = password
        mailbox.bearer_token = bearer_token
        return mailbox, False

    def find(self, user: str) -> MemoryMailbox | None:
        return self._mailboxes.get(user)

    def delete(self, user: str) -> Mailbox:
        self.get(user)  # MailboxNotFound
        mailbox = self._mailboxes.pop(user)
        mailbox._drop()
        self._hub.tell(MailboxDeleted(mailbox=mailbox))
        return mailbox
