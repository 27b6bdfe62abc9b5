"""The SQLite `MailStore`: one tenant's mailboxes in the server's `Database`.

Memory holds, per mailbox, its row id, password and two running figures (messages, octets); per message
nothing, except while a session's snapshot lists it (id, UID, size: no content).  Content is read from the
`bodies` table when a client asks for it (`read_content`), or streamed in chunks (`stream`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import cast

import msgspec

from ..errors import MessageNotFound
from ..message.headers import HeaderSummary, summarize
from ..message.ids import random_hex
from ._interface import Mailbox, MailStore, check_new_uids
from ._message import Envelope, Message, Via
from .database import Database

__all__ = ["SqliteMailbox", "SqliteStore"]

_ENVELOPE = msgspec.json.Decoder(Envelope)
_encode = msgspec.json.encode
_LISTED = "seq, id, uid, size, created, via, subject, sender, date, message_id, envelope"
CHUNK = 256 * 1024
"""Octets read from the store at a time when content is streamed."""


class SqliteMailbox(Mailbox):
    """A mailbox whose messages are rows of the `messages` and `bodies` tables."""

    __slots__ = ("_count", "_db", "_octets", "_on_add", "_snapshot", "key", "password", "user")

    def __init__(
        self,
        db: Database,
        key: int,
        user: str,
        password: str,
        figures: tuple[int, int],
        on_add: Callable[[Mailbox, Sequence[Message]], None],
    ) -> None:
        self._db = db
        self.key = key
        self.user = user
        self.password = password
        self._count, self._octets = figures
        self._on_add = on_add
        self._snapshot: tuple[Message, ...] | None = None

    @property
    def count(self) -> int:
        return self._count

    @property
    def octets(self) -> int:
        return self._octets

    def _reload(self) -> None:
        """Figures from the rows again (after a rollback, or when the mailbox was deleted)."""
        self._count, self._octets = self._db.conn.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM messages WHERE mailbox = ?", (self.key,)
        ).fetchone()
        self._snapshot = None

    def used(self, uid: str) -> bool:
        return (
            self._db.conn.execute(
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
    ) -> list[Message]:
        check_new_uids(self, [uid for _, uid in items], field)
        summaries = [summarize(content) for content, _ in items]
        sealed = _encode(envelope) if envelope is not None else None
        now = time.time()
        stored: list[Message] = []
        db = self._db
        with db.write() as conn:
            db.on_rollback(self._reload)
            for (content, uid), summary in zip(items, summaries, strict=True):
                message_id = random_hex(8)
                while True:
                    try:
                        conn.execute("INSERT INTO used_uids VALUES (?, ?)", (self.key, message_id))
                        break
                    except sqlite3.IntegrityError:  # pragma: no cover - 64 random bits
                        message_id = random_hex(8)
                if uid is None:
                    uid = message_id
                else:
                    conn.execute("INSERT INTO used_uids VALUES (?, ?)", (self.key, uid))
                size = len(content)
                seq = conn.execute(
                    "INSERT INTO messages (mailbox, id, uid, size, created, via, subject, sender, date,"
                    " message_id, envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        self.key,
                        message_id,
                        uid,
                        size,
                        now,
                        via,
                        summary.subject,
                        summary.sender,
                        summary.date,
                        summary.message_id,
                        sealed,
                    ),
                ).lastrowid
                assert seq is not None
                conn.execute("INSERT INTO bodies VALUES (?, ?)", (seq, content))
                stored.append(Message.stored(self, seq, message_id, uid, size, now, via, summary, envelope))
                self._count += 1
                self._octets += size
            self._snapshot = None
            db.after_commit(lambda: self._on_add(self, stored))
        return stored

    def _listed(self, row: tuple[object, ...]) -> Message:
        seq, message_id, uid, size, created, via, subject, sender, date, header_id, sealed = row
        envelope = _ENVELOPE.decode(cast(bytes, sealed)) if sealed is not None else None
        summary = HeaderSummary(
            subject=cast(str, subject),
            sender=cast(str, sender),
            date=cast(str, date),
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
            summary,
            envelope,
        )

    def get(self, message_id: str) -> Message:
        row = self._db.conn.execute(
            f"SELECT {_LISTED} FROM messages WHERE mailbox = ? AND id = ?", (self.key, message_id)
        ).fetchone()
        if row is None:
            raise MessageNotFound(f"no message {message_id!r} in mailbox {self.user!r}")
        return self._listed(row)

    def listing(self) -> list[Message]:
        rows = self._db.conn.execute(
            f"SELECT {_LISTED} FROM messages WHERE mailbox = ? ORDER BY seq", (self.key,)
        )
        return [self._listed(row) for row in rows]

    def snapshot(self) -> tuple[Message, ...]:
        if self._snapshot is None:
            rows = self._db.conn.execute(
                "SELECT seq, id, uid, size, created, via FROM messages WHERE mailbox = ? ORDER BY seq",
                (self.key,),
            )
            stored = Message.stored
            self._snapshot = tuple(stored(self, *row) for row in rows)
        return self._snapshot

    def remove(self, ids: Iterable[str]) -> int:
        wanted = list(ids)
        if not wanted:  # most QUITs delete nothing: no transaction for them
            return 0
        removed = octets = 0
        db = self._db
        with db.write() as conn:
            db.on_rollback(self._reload)
            for message_id in wanted:
                row = conn.execute(
                    "DELETE FROM messages WHERE mailbox = ? AND id = ? RETURNING size", (self.key, message_id)
                ).fetchone()
                if row is not None:
                    removed += 1
                    octets += row[0]
        if removed:
            self._count -= removed
            self._octets -= octets
            self._snapshot = None
        return removed

    def purge(self) -> int:
        db = self._db
        with db.write() as conn:
            db.on_rollback(self._reload)
            count = conn.execute("DELETE FROM messages WHERE mailbox = ?", (self.key,)).rowcount
        self._count = self._octets = 0
        self._snapshot = None
        return count

    def __contains__(self, message: object) -> bool:
        return (
            isinstance(message, Message)
            and message._source is self
            and self._db.conn.execute("SELECT 1 FROM messages WHERE seq = ?", (message.key,)).fetchone()
            is not None
        )

    # --- MessageSource: what a stored message reads on use ------------------------------------------

    def read_content(self, message: Message) -> bytes:
        row = self._db.conn.execute("SELECT data FROM bodies WHERE seq = ?", (message.key,)).fetchone()
        if row is None:
            raise MessageNotFound(f"message {message.id!r} is no longer in mailbox {self.user!r}")
        return cast(bytes, row[0])

    def read_details(self, message: Message) -> tuple[HeaderSummary, Envelope | None]:
        try:
            found = self.get(message.id)
        except MessageNotFound:  # deleted since it was listed: nothing to say of it
            return HeaderSummary(subject="", sender="", date="", message_id=""), None
        return found.summary, found.envelope

    def stream(self, message: Message, chunk: int = CHUNK) -> Iterator[bytes]:
        """The content in pieces of at most `chunk` octets, read from the store one piece at a time.

        Raises:
            MessageNotFound: the message is gone (before the first piece).
        """
        try:
            blob = self._db.conn.blobopen("bodies", "data", cast(int, message.key), readonly=True)
        except sqlite3.OperationalError:
            raise MessageNotFound(f"message {message.id!r} is no longer in mailbox {self.user!r}") from None

        def pieces() -> Iterator[bytes]:
            with blob:
                while piece := blob.read(chunk):
                    yield piece

        return pieces()


class SqliteStore(MailStore):
    """The mailboxes of one tenant, as rows of `mailboxes` with the tenant's name."""

    __slots__ = ("_db", "_mailboxes", "_watchers", "tenant")

    def __init__(self, db: Database, tenant: str) -> None:
        self._db = db
        self.tenant = tenant
        self._watchers: list[Callable[[Mailbox, Sequence[Message]], None]] = []
        figures = {
            key: (count, octets)
            for key, count, octets in db.conn.execute(
                "SELECT mailbox, count(*), sum(size) FROM messages WHERE mailbox IN"
                " (SELECT id FROM mailboxes WHERE tenant = ?) GROUP BY mailbox",
                (tenant,),
            )
        }
        self._mailboxes: dict[str, SqliteMailbox] = {
            user: SqliteMailbox(db, key, user, password, figures.get(key, (0, 0)), self._arrived)
            for key, user, password in db.conn.execute(
                "SELECT id, user, password FROM mailboxes WHERE tenant = ? ORDER BY id", (tenant,)
            )
        }

    def watch(self, callback: Callable[[Mailbox, Sequence[Message]], None]) -> None:
        self._watchers.append(callback)

    def _arrived(self, mailbox: Mailbox, stored: Sequence[Message]) -> None:
        for callback in self._watchers:
            callback(mailbox, stored)

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return _unit(self._db)

    def __len__(self) -> int:
        return len(self._mailboxes)

    def __iter__(self) -> Iterator[Mailbox]:
        return iter(list(self._mailboxes.values()))

    def put(self, user: str, password: str) -> tuple[SqliteMailbox, bool]:
        mailbox = self._mailboxes.get(user)
        db = self._db
        if mailbox is None:
            with db.write() as conn:
                key = conn.execute(
                    "INSERT INTO mailboxes (tenant, user, password) VALUES (?, ?, ?)",
                    (self.tenant, user, password),
                ).lastrowid
            assert key is not None
            mailbox = self._mailboxes[user] = SqliteMailbox(db, key, user, password, (0, 0), self._arrived)
            return mailbox, True
        if mailbox.password != password:
            with db.write() as conn:
                conn.execute("UPDATE mailboxes SET password = ? WHERE id = ?", (password, mailbox.key))
            mailbox.password = password
        return mailbox, False

    def find(self, user: str) -> SqliteMailbox | None:
        return self._mailboxes.get(user)

    def delete(self, user: str) -> Mailbox:
        mailbox = self.get(user)
        assert isinstance(mailbox, SqliteMailbox)
        with self._db.write() as conn:
            conn.execute("DELETE FROM mailboxes WHERE id = ?", (mailbox.key,))
        del self._mailboxes[user]
        mailbox._reload()
        return mailbox


@contextlib.contextmanager
def _unit(db: Database) -> Iterator[None]:
    with db.write():
        yield
