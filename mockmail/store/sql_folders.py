"""The folder side of the SQL mailbox (IMAP's view), on SQLite and PostgreSQL alike: folder rows, and the
calls that create, rename and delete folders and copy, move, flag and expunge messages by IMAP UID.

`SqlFolders` is the base of `SqlMailbox` (mockmail/store/sql_store.py), which adds INBOX's calls (what POP3
and SMTP use), the message source and the store.  Memory holds one `FolderRow` per folder (sql_folder_rows.py):
its row id, UIDVALIDITY, UIDNEXT, attributes and two running figures (messages, octets).

A folder's UIDNEXT is `max(folders.uidnext, its highest message UID + 1)`: storing a message writes no
folder row, and whatever takes messages out of a folder first writes its UIDNEXT down (`_leaving`), so a
UID is never handed out twice, also across restarts.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Iterable

from ..errors import FolderExists, FolderNotFound, InvalidInput
from ..message.headers import HeaderSummary
from ..message.ids import random_hex
from ._interface import Mailbox
from ._message import Envelope, Message
from .changes import Change, Expunged, FlagsChanged, FolderCreated, FolderDeleted, FolderRenamed, Hub
from .folders import (
    INBOX,
    FlagMode,
    FolderInfo,
    SpecialUse,
    check_flags,
    check_folder_name,
    flags_text,
    renamed,
)
from .sql_database import SqlDatabase
from .sql_folder_rows import FolderRow, folders_of, folders_query

__all__ = ["SqlFolders"]

_BRIEF = "seq, id, uid, size, created, via, CAST(? AS text), imap_uid, flags, internaldate"
"""What `folder_snapshot` lists of a message (`?` is the folder's name)."""


class _Clash(Exception):
    """A batch of fresh message ids met an old one (or itself): draw them one at a time instead."""


class SqlFolders(Mailbox):
    """A mailbox's folders as rows of `folders`, and the folder calls of `Mailbox`."""

    __slots__ = ("_db", "_folders", "_hub", "_inbox", "_names", "_tenant", "key")
    _db: SqlDatabase
    _tenant: str
    """The tenant the mailbox belongs to: every write is made on its behalf (`SqlDatabase.fence`)."""
    _hub: Hub
    _folders: dict[str, FolderRow]
    _names: dict[int, str]
    """Folder names by row id."""
    _inbox: FolderRow
    key: int

    # What a stored message reads on use (`MessageSource`), in SqlMailbox.
    @abc.abstractmethod
    def read_content(self, message: Message) -> bytes: ...

    @abc.abstractmethod
    def read_details(self, message: Message) -> tuple[HeaderSummary, Envelope | None]: ...

    @abc.abstractmethod
    def read_place(self, message: Message) -> tuple[str, int, str, float]: ...

    def _set_folders(self, folders: list[FolderRow]) -> None:
        self._folders = {folder.name: folder for folder in folders}
        self._names = {folder.key: folder.name for folder in folders}
        inbox = self._folders.get(INBOX)
        # A deleted mailbox has no rows left: an empty INBOX that no message row names.
        self._inbox = inbox if inbox is not None else FolderRow(0, INBOX, 0, 1, 1, True, None)

    def _reload(self) -> None:
        """Folders and figures from the rows again (after a rollback, or when the mailbox was deleted)."""
        rows = self._db.execute(folders_query(self._db, "?"), (self.key, self.key))
        self._set_folders(folders_of(rows).get(self.key, []))

    def _find(self, name: str, field: str = "folder") -> FolderRow:
        found = self._folders.get(name)
        if found is None:
            if name.upper() == INBOX and INBOX in self._folders:
                return self._inbox
            raise FolderNotFound(f"no folder {name!r} in mailbox {self.user!r}", field=field)
        return found

    def _tell(self, change: Change) -> None:
        """Tell the watchers of `change` once the block commits."""
        if self._hub.listening:
            self._db.after_commit(lambda: self._hub.tell(change))

    def _leaving(self, folder: FolderRow) -> None:
        """Write the folder's UIDNEXT down before messages leave it (see the module docstring)."""
        if folder.saved_uidnext != folder.uidnext:
            self._db.execute("UPDATE folders SET uidnext = ? WHERE id = ?", (folder.uidnext, folder.key))
            folder.saved_uidnext = folder.uidnext

    def _expunged(self, folder: FolderRow, gone: list[tuple[int, int]]) -> None:
        """`gone` ((UID, size) pairs) left `folder` in the current block."""
        folder.count -= len(gone)
        folder.octets -= sum(size for _, size in gone)
        folder.changed()
        self._tell(Expunged(mailbox=self, folder=folder.name, uids=tuple(sorted(uid for uid, _ in gone))))

    def _new_id(self) -> str:
        change = self._db.change
        while True:
            message_id = random_hex(8)
            taken = change(
                "INSERT INTO used_uids VALUES (?, ?) ON CONFLICT DO NOTHING", (self.key, message_id)
            )
            if taken:  # 0: 64 random bits met an old id; draw again
                return message_id

    def _new_ids(self, count: int) -> list[str]:
        """`count` fresh message ids, reserved together; one at a time (`_new_id`) if a draw met an old id."""
        if count > 1:
            ids = [random_hex(8) for _ in range(count)]
            try:
                with self._db.write(self._tenant):  # a savepoint: a clash takes the whole draw back
                    reserved = self._db.change_many(
                        "INSERT INTO used_uids VALUES (?, ?) ON CONFLICT DO NOTHING",
                        [(self.key, message_id) for message_id in ids],
                    )
                    if reserved != count:  # an old id, or one drawn twice (ON CONFLICT skipped it)
                        raise _Clash
                return ids
            except _Clash:
                pass
        return [self._new_id() for _ in range(count)]

    def _snapshot(self, folder: FolderRow) -> tuple[Message, ...]:
        if folder.snapshot is None:
            rows = self._db.execute(
                f"SELECT {_BRIEF} FROM messages WHERE folder = ? ORDER BY imap_uid", (folder.name, folder.key)
            )
            stored = Message.stored
            folder.snapshot = tuple(stored(self, *row) for row in rows)
        return folder.snapshot

    def folders(self) -> list[FolderInfo]:
        others = sorted(name for name in self._folders if name != INBOX)
        return [self._inbox.info(), *(self._folders[name].info() for name in others)]

    def folder(self, name: str) -> FolderInfo:
        return self._find(name).info()

    def _make_folder(
        self,
        name: str,
        *,
        uidnext: int = 1,
        subscribed: bool = False,
        special_use: SpecialUse | None = None,
        tell: bool = True,
    ) -> FolderRow:
        validity = self._db.next_uidvalidity()
        key = self._db.insert(
            "INSERT INTO folders (mailbox, name, uidvalidity, uidnext, subscribed, special_use)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (self.key, name, validity, uidnext, subscribed, special_use),
            "id",
        )
        made = self._folders[name] = FolderRow(key, name, validity, uidnext, uidnext, subscribed, special_use)
        self._names[key] = name
        if tell:
            self._tell(FolderCreated(mailbox=self, folder=name))
        return made

    def create_folder(
        self, name: str, *, special_use: SpecialUse | None = None, subscribed: bool = False
    ) -> FolderInfo:
        name = check_folder_name(name)
        if name in self._folders:
            raise FolderExists(f"folder {name!r} exists in mailbox {self.user!r}", field="folder")
        db = self._db
        with db.write(self._tenant):
            db.on_rollback(self._reload)
            made = self._make_folder(name, subscribed=subscribed, special_use=special_use)
        return made.info()

    def rename_folder(self, old: str, new: str) -> FolderInfo:
        source = self._find(old)
        new = check_folder_name(new, "new")
        if source is self._inbox:
            return self._rename_inbox(new)
        if renamed(new, source.name, new) is not None:
            raise InvalidInput(f"cannot rename {source.name!r} to itself or into itself", field="new")
        moves = sorted(
            ((name, to) for name in self._folders if (to := renamed(name, source.name, new)) is not None),
            key=lambda move: len(move[0]),
        )
        for _, to in moves:
            if to in self._folders and all(to != frm for frm, _ in moves):
                raise FolderExists(f"folder {to!r} exists in mailbox {self.user!r}", field="new")
        db = self._db
        with db.write(self._tenant):
            db.on_rollback(self._reload)
            states = [self._folders.pop(frm) for frm, _ in moves]
            # Two steps, so that no name is briefly held twice (UNIQUE (mailbox, name)); the interim names
            # start with a control character no folder name has (and PostgreSQL's text takes: not NUL).
            for state in states:
                db.execute("UPDATE folders SET name = ? WHERE id = ?", (f"\x01{state.key:d}", state.key))
            for state, (_, to) in zip(states, moves, strict=True):
                db.execute("UPDATE folders SET name = ? WHERE id = ?", (to, state.key))
                state.name = to
                state.changed()
                self._folders[to] = state
                self._names[state.key] = to
            self._tell(FolderRenamed(mailbox=self, renames=tuple(moves)))
        return self._folders[new].info()

    def _rename_inbox(self, new: str) -> FolderInfo:
        inbox = self._inbox
        if new == INBOX:
            raise InvalidInput("cannot rename INBOX to itself", field="new")
        if new in self._folders:
            raise FolderExists(f"folder {new!r} exists in mailbox {self.user!r}", field="new")
        db = self._db
        with db.write(self._tenant):
            db.on_rollback(self._reload)
            made = self._make_folder(new, uidnext=inbox.uidnext)
            gone = db.execute(
                "UPDATE messages SET folder = ? WHERE folder = ? RETURNING imap_uid, size",
                (made.key, inbox.key),
            ).fetchall()
            if gone:
                self._leaving(inbox)
                self._expunged(inbox, gone)
                made.count, made.octets = len(gone), sum(size for _, size in gone)
                if self._hub.listening:
                    db.after_commit(
                        lambda: self._hub.arrived(self, new, self._snapshot(made), delivered=False)
                    )
        return made.info()

    def delete_folder(self, name: str) -> int:
        folder = self._find(name)
        if folder is self._inbox:
            raise InvalidInput("INBOX cannot be deleted", field="folder")
        db = self._db
        with db.write(self._tenant):
            db.on_rollback(self._reload)
            count = db.execute("DELETE FROM messages WHERE folder = ?", (folder.key,)).rowcount
            db.execute("DELETE FROM folders WHERE id = ?", (folder.key,))
            del self._folders[folder.name]
            del self._names[folder.key]
            self._tell(FolderDeleted(mailbox=self, folder=folder.name))
        return count

    def subscribe(self, name: str, subscribed: bool = True) -> FolderInfo:
        folder = self._find(name)
        if folder.subscribed != subscribed:
            db = self._db
            with db.write(self._tenant):
                db.on_rollback(self._reload)
                db.execute("UPDATE folders SET subscribed = ? WHERE id = ?", (subscribed, folder.key))
            folder.subscribed = subscribed
        return folder.info()

    def folder_snapshot(self, name: str) -> tuple[Message, ...]:
        return self._snapshot(self._find(name))

    def _picked(self, folder: FolderRow, uids: Iterable[int]) -> list[Message]:
        db = self._db
        rows = db.execute(
            f"SELECT {_BRIEF} FROM messages WHERE folder = ? AND {db.dialect.uid_in} ORDER BY imap_uid",
            (folder.name, folder.key, db.dialect.uid_set(uids)),
        )
        stored = Message.stored
        return [stored(self, *row) for row in rows]

    def set_flags(
        self, folder: str, uids: Iterable[int], flags: Iterable[str], mode: FlagMode = "replace"
    ) -> list[Message]:
        found = self._find(folder)
        given = check_flags(flags)
        now: list[Message] = []
        changed: list[Message] = []
        for message in self._picked(found, uids):
            old = message.flags
            new = given if mode == "replace" else old | given if mode == "add" else old - given
            if new != old:
                message = message.replaced(folder=found.name, imap_uid=message.imap_uid, flags=new)
                changed.append(message)
            now.append(message)
        if changed:
            db = self._db
            with db.write(self._tenant):
                db.on_rollback(self._reload)
                db.executemany(
                    "UPDATE messages SET flags = ? WHERE seq = ?",
                    [(flags_text(m.flags), m.key) for m in changed],
                )
                found.changed()
                self._tell(FlagsChanged(mailbox=self, folder=found.name, messages=tuple(changed)))
        return now

    def copy(self, folder: str, uids: Iterable[int], target: str) -> list[tuple[int, int]]:
        source, dest = self._find(folder), self._find(target, "target")
        picked = self._picked(source, uids)
        if not picked:
            return []
        pairs: list[tuple[int, int]] = []
        now = time.time()
        db = self._db
        with db.write(self._tenant):
            db.on_rollback(self._reload)
            for message in picked:
                message_id = self._new_id()
                seq = db.insert(
                    "INSERT INTO messages (mailbox, id, uid, size, created, via, subject, sender, date,"
                    " message_id, envelope, folder, imap_uid, flags, internaldate)"
                    " SELECT mailbox, ?, ?, size, ?, via, subject, sender, date, message_id, envelope,"
                    " ?, ?, flags, internaldate FROM messages WHERE seq = ?",
                    (message_id, message_id, now, dest.key, dest.uidnext, message.key),
                    "seq",
                )
                db.execute("INSERT INTO bodies SELECT ?, data FROM bodies WHERE seq = ?", (seq, message.key))
                pairs.append((message.imap_uid, dest.uidnext))
                dest.uidnext += 1
                dest.count += 1
                dest.octets += message.size
            dest.changed()
            self._arrived_again(dest, [new for _, new in pairs])
        return pairs

    def _arrived_again(self, dest: FolderRow, uids: list[int]) -> None:
        """Tell watchers, after the commit, of messages copied or moved into `dest`."""
        if self._hub.listening:
            self._db.after_commit(
                lambda: self._hub.arrived(self, dest.name, self._picked(dest, uids), delivered=False)
            )

    def move(self, folder: str, uids: Iterable[int], target: str) -> list[tuple[int, int]]:
        source, dest = self._find(folder), self._find(target, "target")
        picked = self._picked(source, uids)
        if not picked:
            return []
        pairs: list[tuple[int, int]] = []
        db = self._db
        with db.write(self._tenant):
            db.on_rollback(self._reload)
            self._leaving(source)
            for message in picked:
                db.execute(
                    "UPDATE messages SET folder = ?, imap_uid = ? WHERE seq = ?",
                    (dest.key, dest.uidnext, message.key),
                )
                pairs.append((message.imap_uid, dest.uidnext))
                dest.uidnext += 1
                dest.count += 1
                dest.octets += message.size
            self._expunged(source, [(m.imap_uid, m.size) for m in picked])
            dest.changed()
            self._arrived_again(dest, [new for _, new in pairs])
        return pairs

    def expunge(self, folder: str, uids: Iterable[int]) -> list[int]:
        found = self._find(folder)
        db = self._db
        with db.write(self._tenant):
            db.on_rollback(self._reload)
            gone = db.execute(
                f"DELETE FROM messages WHERE folder = ? AND {db.dialect.uid_in} RETURNING imap_uid, size",
                (found.key, db.dialect.uid_set(uids)),
            ).fetchall()
            if gone:
                self._leaving(found)
                self._expunged(found, gone)
        return sorted(uid for uid, _ in gone)
