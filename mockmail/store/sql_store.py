"""The SQL `MailStore`: one tenant's mailboxes in the server's database, SQLite (`Database`, database.py)
or PostgreSQL (`PgDatabase`, pg_database.py); the statements are written once (`SqlDatabase`).

Tenants share the tables: every mailbox row names its tenant.  Memory holds, per mailbox, its row id, password, bearer token and, per folder, its row, UIDVALIDITY, UIDNEXT and two
running figures (messages, octets); per message nothing, except while a session's snapshot lists it (id,
UIDs, size, flags: no content).  Content is read from the `bodies` table when a client asks for it
(`read_content`), or streamed in chunks (`stream`).

The figures held in memory assume this process is the only writer of the tenant's rows; sharing a tenant
between processes (replicas) needs them read from the rows, or kept in step by notifications.

The folder calls (IMAP's view) are in `SqlFolders` (mockmail/store/sql_folders.py); this module keeps
INBOX's calls, which POP3 and SMTP use, the message source and the store.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import cast

import msgspec

from ..errors import MessageNotFound
from ..message.headers import HeaderSummary, summarize
from ._interface import Mailbox, MailStore, check_new_uids
from ._message import Envelope, Message, Via
from .changes import (
    ArrivalCallback,
    ChangeCallback,
    Hub,
    MailboxDeleted,
)
from .folders import (
    INBOX,
    NO_FLAGS,
    check_flags,
    flags_text,
)
from .sql_database import SqlDatabase
from .sql_folder_rows import FolderRow, folders_of, folders_query
from .sql_folders import SqlFolders

__all__ = ["SqlMailbox", "SqlStore"]

_ENVELOPE = msgspec.json.Decoder(Envelope)
_encode = msgspec.json.encode
_LISTED = "seq, id, uid, size, created, via, folder, imap_uid, flags, internaldate, subject, sender, date,"
_LISTED += " message_id, envelope"
CHUNK = 256 * 1024
"""Octets read from the store at a time when content is streamed."""


class SqlMailbox(SqlFolders):
    """A mailbox whose folders and messages are rows of the `folders`, `messages` and `bodies` tables."""

    __slots__ = ("bearer_token", "password", "user")

    def __init__(
        self,
        db: SqlDatabase,
        tenant: str,
        key: int,
        user: str,
        password: str,
        folders: list[FolderRow],
        hub: Hub,
        bearer_token: str | None = None,
    ) -> None:
        self._db = db
        self._tenant = tenant
        self.key = key
        self.user = user
        self.password = password
        self.bearer_token = bearer_token
        self._hub = hub
        self._set_folders(folders)

    @property
    def count(self) -> int:
        return self._inbox.count

    @property
    def octets(self) -> int:
        return self._inbox.octets

    @property
    def totals(self) -> tuple[int, int]:
        folders = self._folders.values()
        return sum(f.count for f in folders), sum(f.octets for f in folders)

    def used(self, uid: str) -> bool:
        return (
            self._db.execute(
                "SELECT 1 FROM used_uids WHERE mailbox = ? AND uid = ?", (self.key, uid)
            ).fetchone()
            is not None
        )

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
        target = self._inbox if folder == INBOX else self._find(folder)
        check_new_uids(self, [uid for _, uid in items], field)
        flagged = check_flags(flags) if flags else NO_FLAGS
        text = flags_text(flagged)
        summaries = [summarize(content) for content, _ in items]
        sealed = _encode(envelope) if envelope is not None else None
        now = time.time()
        date = now if internaldate is None else internaldate
        stored: list[Message] = []
        db = self._db
        name, uidnext = target.name, target.uidnext
        change_many = db.change_many
        with db.write(self._tenant):
            db.on_rollback(self._reload)
            # Each statement once for every message (an engine may send a statement's rows together).
            ids = self._new_ids(len(items))
            given = [(self.key, uid) for _, uid in items if uid is not None]
            if given:
                change_many("INSERT INTO used_uids VALUES (?, ?)", given)
            uids = [
                message_id if uid is None else uid for (_, uid), message_id in zip(items, ids, strict=True)
            ]
            seqs = db.insert_many(
                "INSERT INTO messages (mailbox, id, uid, size, created, via, subject, sender, date,"
                " message_id, envelope, folder, imap_uid, flags, internaldate)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        self.key,
                        message_id,
                        uid,
                        len(content),
                        now,
                        via,
                        summary.subject,
                        summary.sender,
                        summary.date,
                        summary.message_id,
                        sealed,
                        target.key,
                        uidnext + n,
                        text,
                        date,
                    )
                    for n, ((content, _), message_id, uid, summary) in enumerate(
                        zip(items, ids, uids, summaries, strict=True)
                    )
                ],
                "seq",
            )
            change_many(
                "INSERT INTO bodies VALUES (?, ?)",
                [(seq, content) for seq, (content, _) in zip(seqs, items, strict=True)],
            )
            for (content, _), message_id, uid, summary, seq in zip(
                items, ids, uids, summaries, seqs, strict=True
            ):
                size = len(content)
                stored.append(
                    Message.stored(
                        self,
                        seq,
                        message_id,
                        uid,
                        size,
                        now,
                        via,
                        name,
                        uidnext,
                        flagged,
                        date,
                        summary,
                        envelope,
                    )
                )
                uidnext += 1
                target.count += 1
                target.octets += size
            target.uidnext = uidnext
            target.changed()
            announce = db.announce
            if announce is not None:
                db.execute(*announce(self._tenant, self.user, name))
            db.after_commit(lambda: self._hub.arrived(self, name, stored, delivered=True))
        return stored

    def _listed(self, row: tuple[object, ...]) -> Message:
        seq, message_id, uid, size, created, via, folder, imap_uid, flags, date = row[:10]
        subject, sender, header_date, header_id, sealed = row[10:]
        envelope = _ENVELOPE.decode(cast(bytes, sealed)) if sealed is not None else None
        summary = HeaderSummary(
            subject=cast(str, subject),
            sender=cast(str, sender),
            date=cast(str, header_date),
            message_id=cast(str, header_id),
        )
        return Message.stored(
            self,
            cast(int, seq),
            cast(str, message_id),
            cast(str, uid),
            cast(int, size),
            cast(float, created),
            cast(Via, via),
            self._names.get(cast(int, folder), ""),
            cast(int, imap_uid),
            cast(str, flags),
            cast(float, date),
            summary,
            envelope,
        )

    def get(self, message_id: str) -> Message:
        row = self._db.execute(
            f"SELECT {_LISTED} FROM messages WHERE mailbox = ? AND id = ?", (self.key, message_id)
        ).fetchone()
        if row is None:
            raise MessageNotFound(f"no message {message_id!r} in mailbox {self.user!r}")
        return self._listed(row)

    def listing(self, folder: str = INBOX) -> list[Message]:
        found = self._inbox if folder == INBOX else self._find(folder)
        rows = self._db.execute(
            f"SELECT {_LISTED} FROM messages WHERE folder = ? ORDER BY imap_uid", (found.key,)
        )
        return [self._listed(row) for row in rows]

    def snapshot(self) -> tuple[Message, ...]:
        # POP3's view: the columns POP3 uses only (the rest is read if ever used), as fast as before folders.
        inbox = self._inbox
        if inbox.brief is None:
            rows = self._db.execute(
                "SELECT seq, id, uid, size, created, via FROM messages WHERE folder = ? ORDER BY imap_uid",
                (inbox.key,),
            )
            brief = Message.brief
            inbox.brief = tuple(brief(self, *row) for row in rows)
        return inbox.brief

    def remove(self, ids: Iterable[str]) -> int:
        wanted = list(ids)
        if not wanted:  # most QUITs delete nothing: no transaction for them
            return 0
        inbox = self._inbox
        gone: list[tuple[int, int]] = []
        db = self._db
        with db.write(self._tenant):
            db.on_rollback(self._reload)
            for message_id in wanted:
                row = db.execute(
                    "DELETE FROM messages WHERE mailbox = ? AND id = ? AND folder = ? RETURNING imap_uid, size",
                    (self.key, message_id, inbox.key),
                ).fetchone()
                if row is not None:
                    gone.append(row)
            if gone:
                self._leaving(inbox)
                self._expunged(inbox, gone)
        return len(gone)

    def purge(self) -> int:
        db = self._db
        count = 0
        with db.write(self._tenant):
            db.on_rollback(self._reload)
            for folder in self._folders.values():
                gone = db.execute(
                    "DELETE FROM messages WHERE folder = ? RETURNING imap_uid, size", (folder.key,)
                ).fetchall()
                if gone:
                    count += len(gone)
                    self._leaving(folder)
                    self._expunged(folder, gone)
        return count

    def __contains__(self, message: object) -> bool:
        if not isinstance(message, Message) or message._source is not self:
            return False
        row = self._db.execute("SELECT folder FROM messages WHERE seq = ?", (message.key,)).fetchone()
        return row is not None and row[0] == self._inbox.key

    # --- MessageSource: what a stored message reads on use ------------------------------------------

    def read_content(self, message: Message) -> bytes:
        row = self._db.execute("SELECT data FROM bodies WHERE seq = ?", (message.key,)).fetchone()
        if row is None:
            raise MessageNotFound(f"message {message.id!r} is no longer in mailbox {self.user!r}")
        return cast(bytes, row[0])

    def read_details(self, message: Message) -> tuple[HeaderSummary, Envelope | None]:
        try:
            found = self.get(message.id)
        except MessageNotFound:  # deleted since it was listed: nothing to say of it
            return HeaderSummary(subject="", sender="", date="", message_id=""), None
        return found.summary, found.envelope

    def read_place(self, message: Message) -> tuple[str, int, str, float]:
        row = self._db.execute(
            "SELECT folder, imap_uid, flags, internaldate FROM messages WHERE seq = ?", (message.key,)
        ).fetchone()
        if row is None:  # deleted since it was listed: in no folder
            return "", 0, "", message.created
        folder, imap_uid, flags, internaldate = row
        return self._names.get(folder, ""), imap_uid, flags, internaldate

    def stream(self, message: Message, chunk: int = CHUNK) -> Iterator[bytes]:
        """The content in pieces of at most `chunk` octets, read from the store one piece at a time.

        Raises:
            MessageNotFound: the message is gone (before the first piece).
        """
        pieces = self._db.stream_body(message.key, chunk)
        if pieces is None:
            raise MessageNotFound(f"message {message.id!r} is no longer in mailbox {self.user!r}")
        return pieces


class SqlStore(MailStore):
    """The mailboxes of one tenant, as rows of `mailboxes` with the tenant's name."""

    __slots__ = ("_db", "_hub", "_mailboxes", "tenant")

    def __init__(self, db: SqlDatabase, tenant: str) -> None:
        self._db = db
        self.tenant = tenant
        self._hub = Hub()
        mine = "SELECT id FROM mailboxes WHERE tenant = ?"
        folders = folders_of(db.execute(folders_query(db, mine), (tenant, tenant)))
        self._mailboxes: dict[str, SqlMailbox] = {
            user: SqlMailbox(db, tenant, key, user, password, folders.get(key, []), self._hub, token)
            for key, user, password, token in db.execute(
                'SELECT id, "user", password, bearer_token FROM mailboxes WHERE tenant = ? ORDER BY id',
                (tenant,),
            )
        }

    def watch(self, callback: ArrivalCallback) -> None:
        self._hub.watch(callback)

    def watch_changes(self, callback: ChangeCallback) -> Callable[[], None]:
        return self._hub.watch_changes(callback)

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return _unit(self._db, self.tenant)

    @property
    def unsettled(self) -> bool:
        return self._db.unsettled

    async def settled(self) -> None:
        await self._db.settled()

    def __len__(self) -> int:
        return len(self._mailboxes)

    def __iter__(self) -> Iterator[Mailbox]:
        return iter(list(self._mailboxes.values()))

    def put(self, user: str, password: str, bearer_token: str | None = None) -> tuple[SqlMailbox, bool]:
        mailbox = self._mailboxes.get(user)
        db = self._db
        if mailbox is None:
            with db.write(self.tenant):
                key = db.insert(
                    'INSERT INTO mailboxes (tenant, "user", password, bearer_token) VALUES (?, ?, ?, ?)',
                    (self.tenant, user, password, bearer_token),
                    "id",
                )
                mailbox = SqlMailbox(db, self.tenant, key, user, password, [], self._hub, bearer_token)
                mailbox._make_folder(INBOX, subscribed=True, tell=False)
                mailbox._inbox = mailbox._folders[INBOX]
                db.on_rollback(partial(self._forget, user))  # a failed group commit
                self._mailboxes[user] = mailbox
            return mailbox, True
        if (mailbox.password, mailbox.bearer_token) != (password, bearer_token):
            with db.write(self.tenant):
                db.execute(
                    "UPDATE mailboxes SET password = ?, bearer_token = ? WHERE id = ?",
                    (password, bearer_token, mailbox.key),
                )
                db.on_rollback(partial(_set_login, mailbox, mailbox.password, mailbox.bearer_token))
                _set_login(mailbox, password, bearer_token)
        return mailbox, False

    def find(self, user: str) -> SqlMailbox | None:
        return self._mailboxes.get(user)

    def delete(self, user: str) -> Mailbox:
        mailbox = self.get(user)
        assert isinstance(mailbox, SqlMailbox)
        db = self._db
        with db.write(self.tenant):
            db.execute("DELETE FROM mailboxes WHERE id = ?", (mailbox.key,))
            db.on_rollback(partial(self._restore, mailbox))
            del self._mailboxes[user]
            mailbox._reload()
            db.after_commit(lambda: self._hub.tell(MailboxDeleted(mailbox=mailbox)))
        return mailbox

    def _forget(self, user: str) -> None:
        """Forget a mailbox made in a write that was rolled back."""
        self._mailboxes.pop(user, None)

    def _restore(self, mailbox: SqlMailbox) -> None:
        """Bring a deleted mailbox back (its deletion was rolled back)."""
        self._mailboxes[mailbox.user] = mailbox
        mailbox._reload()


def _set_login(mailbox: SqlMailbox, password: str, bearer_token: str | None) -> None:
    mailbox.password, mailbox.bearer_token = password, bearer_token


@contextlib.contextmanager
def _unit(db: SqlDatabase, tenant: str) -> Iterator[None]:
    with db.write(tenant):
        yield
