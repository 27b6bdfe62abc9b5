"""`Database`: the one SQLite file under `--data-dir` (stdlib `sqlite3`, WAL), its schema and its transactions.

- One connection, used from the trio thread only.  Every write is a synchronous call with no `await` inside,
  so the commit has happened when the call returns, before any reply goes out.
- WAL with `synchronous=NORMAL` (the default) survives a crash of the process (`kill -9`): a commit is in
  the operating system's hands when it returns.  `fsync=True` (`--fsync`, `synchronous=FULL`) also syncs
  the log at every commit, which survives a power loss, at the cost measured in bench/.
- `write()` nests: the outermost block is one transaction, an inner one a savepoint.  Code that keeps
  figures in memory beside the rows registers `on_rollback` (to forget them) and `after_commit` (to tell
  watchers) inside the block; both run at the right level.
- The schema keeps message metadata and content in separate tables, so listing, counting and restarting
  read the compact metadata only; content is read (or streamed) by key when a client asks for it.
- `PRAGMA user_version` is the schema version.  A file of an older version is upgraded in place when it is
  opened, in one transaction (`_UPGRADES`); a newer one is refused.  A new file gets version 1's tables
  and the same upgrades, so every file ends up with the one schema.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .folders import UidValidities

__all__ = ["SCHEMA_VERSION", "Database"]

SCHEMA_VERSION = 3
FILE_NAME = "mockmail.sqlite3"

_SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS tenants (
    name TEXT PRIMARY KEY,
    spec BLOB NOT NULL,
    created REAL NOT NULL,
    token BLOB,
    faults BLOB
);
CREATE TABLE IF NOT EXISTS mailboxes (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    user TEXT NOT NULL,
    password TEXT NOT NULL,
    UNIQUE (tenant, user)
);
CREATE TABLE IF NOT EXISTS used_uids (
    mailbox INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    PRIMARY KEY (mailbox, uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    uid TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    via TEXT NOT NULL,
    subject TEXT NOT NULL,
    sender TEXT NOT NULL,
    date TEXT NOT NULL,
    message_id TEXT NOT NULL,
    envelope BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_id ON messages (mailbox, id);
CREATE INDEX IF NOT EXISTS messages_in_order ON messages (mailbox);
CREATE TABLE IF NOT EXISTS bodies (
    seq INTEGER PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
    data BLOB NOT NULL
);
"""

_TO_2 = (
    # Folders (IMAP): every mailbox gets INBOX, which takes its messages, numbered in their order.
    "CREATE TABLE folders ("
    " id INTEGER PRIMARY KEY,"
    " mailbox INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " uidvalidity INTEGER NOT NULL,"
    " uidnext INTEGER NOT NULL,"  # at least this; a folder's messages may have taken more since
    " subscribed INTEGER NOT NULL,"
    " special_use TEXT,"
    " UNIQUE (mailbox, name))",
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    # Columns added with a default (SQLite's ALTER TABLE wants one); every insert gives them a value.
    "ALTER TABLE messages ADD COLUMN folder INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE messages ADD COLUMN imap_uid INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE messages ADD COLUMN flags TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE messages ADD COLUMN internaldate REAL NOT NULL DEFAULT 0",
    "INSERT INTO folders (mailbox, name, uidvalidity, uidnext, subscribed)"
    " SELECT id, 'INBOX', :now + row_number() OVER (ORDER BY id) - 1,"
    " 1 + (SELECT count(*) FROM messages WHERE messages.mailbox = mailboxes.id), 1 FROM mailboxes",
    "UPDATE messages SET folder = f.id, imap_uid = r.n, internaldate = messages.created"
    " FROM (SELECT seq, row_number() OVER (PARTITION BY mailbox ORDER BY seq) AS n FROM messages) AS r,"
    " folders AS f WHERE r.seq = messages.seq AND f.mailbox = messages.mailbox AND f.name = 'INBOX'",
    "INSERT INTO counters VALUES ('uidvalidity', (SELECT coalesce(max(uidvalidity), 0) FROM folders))",
    # Messages are read by folder in UID order; (mailbox, id) serves what went by mailbox.
    "CREATE INDEX messages_in_folder ON messages (folder, imap_uid)",
    "DROP INDEX messages_in_order",
)

_TO_3 = (
    # A mailbox's OAuth bearer token (XOAUTH2, OAUTHBEARER); NULL: none, which every older mailbox has.
    "ALTER TABLE mailboxes ADD COLUMN bearer_token TEXT",
)

_UPGRADES: dict[int, tuple[str, ...]] = {1: _TO_2, 2: _TO_3}
"""The statements that take a file from version N to N + 1."""


class Database:
    """The SQLite file of one server.

    Args:
        path: the data directory (made if missing), or `:memory:` (tests).
        fsync: sync the write-ahead log at every commit (power-loss safe) instead of leaving it to the OS.
    """

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        if str(path) == ":memory:":
            target = ":memory:"
        else:
            folder = Path(path)
            folder.mkdir(parents=True, exist_ok=True)
            target = str(folder / FILE_NAME)
        self.path = target
        self.fsync = fsync
        self.conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        try:
            self._upgrade(target)
        except BaseException:
            self.conn.close()
            raise
        (last,) = self.conn.execute("SELECT value FROM counters WHERE name = 'uidvalidity'").fetchone()
        self._uidvalidities = UidValidities(last)
        self._depth = 0
        self._rollback: list[list[Callable[[], None]]] = []
        self._after: list[Callable[[], None]] = []

    def _upgrade(self, target: str) -> None:
        """Bring the file to `SCHEMA_VERSION`, all in one transaction, or refuse it.

        Raises:
            RuntimeError: the file is of a newer version than this mockmail knows.
        """
        conn = self.conn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION or version < 0:
            raise RuntimeError(
                f"{target}: schema version {version}, this mockmail knows {SCHEMA_VERSION} and older; "
                "use the mockmail that wrote it, or a new --data-dir"
            )
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if version == 0:
                for statement in _SCHEMA_1.split(";"):
                    conn.execute(statement)
                version = 1
            now = int(time.time())
            while version < SCHEMA_VERSION:
                for statement in _UPGRADES[version]:
                    conn.execute(statement, {"now": now} if ":now" in statement else ())
                version += 1
            conn.execute(f"PRAGMA user_version={version:d}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def next_uidvalidity(self, conn: sqlite3.Connection) -> int:
        """A fresh UIDVALIDITY, kept in the file (inside `write` only): above every one handed out before."""
        value = self._uidvalidities.next()
        conn.execute("UPDATE counters SET value = ? WHERE name = 'uidvalidity'", (value,))
        return value

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction (outermost) or savepoint (nested): all of the block's writes, or none."""
        conn = self.conn
        depth = self._depth
        conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT s{depth:d}")
        self._depth = depth + 1
        self._rollback.append([])
        told = len(self._after)
        try:
            yield conn
        except BaseException:
            undo = self._rollback.pop()
            self._depth = depth
            if depth == 0:
                conn.execute("ROLLBACK")
                self._after.clear()
            else:
                conn.execute(f"ROLLBACK TO s{depth:d}")
                conn.execute(f"RELEASE s{depth:d}")
                del self._after[told:]  # nobody hears of what the savepoint took back
            for forget in undo:
                forget()
            raise
        undo = self._rollback.pop()
        self._depth = depth
        if depth:
            conn.execute(f"RELEASE s{depth:d}")
            self._rollback[-1].extend(undo)
            return
        try:
            conn.execute("COMMIT")
        except BaseException:  # pragma: no cover - a failing disk
            conn.execute("ROLLBACK")
            self._after.clear()
            for forget in undo:
                forget()
            raise
        after, self._after = self._after, []
        for callback in after:
            callback()

    def on_rollback(self, forget: Callable[[], None]) -> None:
        """Call `forget` if the current block is rolled back (inside `write` only)."""
        self._rollback[-1].append(forget)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the outermost block has committed (inside `write` only)."""
        self._after.append(callback)

    def close(self) -> None:
        self.conn.close()

    def __repr__(self) -> str:
        return f"Database({self.path!r}, fsync={self.fsync})"
