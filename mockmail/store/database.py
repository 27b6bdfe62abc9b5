"""`Database`: the one SQLite file under `--data-dir` (stdlib `sqlite3`, WAL) and its schema; the
transactions and the statements are the SQL store's (`SqlDatabase`, sql_database.py).

- One connection, used from the trio thread only.
- WAL with `synchronous=NORMAL` (the default) survives a crash of the process (`kill -9`): a commit is in
  the operating system's hands when it returns.  `fsync=True` (`--fsync`, `synchronous=FULL`) also syncs
  the log at every commit, which survives a power loss, at the cost measured in bench/.
- The schema keeps message metadata and content in separate tables, so listing, counting and restarting
  read the compact metadata only; content is read (or streamed) by key when a client asks for it.
- `PRAGMA user_version` is the schema version.  A file of an older version is upgraded in place when it is
  opened, in one transaction (`_UPGRADES`); a newer one is refused.  A new file gets version 1's tables
  and the same upgrades, so every file ends up with the one schema.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .sql_database import SqlDatabase
from .sql_dialect import SQLITE

__all__ = ["SCHEMA_VERSION", "Database"]

SCHEMA_VERSION = 4
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

_TO_4 = (
    # Finished session transcripts (mockmail/observe/transcripts.py), kept across restarts: `number` counts
    # a tenant's finished sessions, `data` is opaque to the store.
    "CREATE TABLE transcripts ("
    " tenant TEXT NOT NULL, number INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (tenant, number))",
)

_UPGRADES: dict[int, tuple[str, ...]] = {1: _TO_2, 2: _TO_3, 3: _TO_4}
"""The statements that take a file from version N to N + 1."""


class Database(SqlDatabase):
    """The SQLite file of one server.

    Args:
        path: the data directory (made if missing), or `:memory:` (tests).
        fsync: sync the write-ahead log at every commit (power-loss safe) instead of leaving it to the OS.
    """

    dialect = SQLITE

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        super().__init__()
        if str(path) == ":memory:":
            target = ":memory:"
        else:
            folder = Path(path)
            folder.mkdir(parents=True, exist_ok=True)
            target = str(folder / FILE_NAME)
        self.path = target
        self.fsync = fsync
        self.conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self.execute = self.conn.execute  # `?` is sqlite3's own placeholder: nothing to translate
        self._cursor = self.conn.cursor()
        """For statements whose result is read at once or not at all (transaction control, inserts):
        `conn.execute` makes a cursor each time, which costs about what a short statement does."""
        self._run = self._cursor.execute
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        try:
            self._upgrade(target)
        except BaseException:
            self.conn.close()
            raise

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

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        self.conn.executemany(sql, rows)

    def change(self, sql: str, params: Sequence[object]) -> int:
        return self._cursor.execute(sql, params).rowcount

    def insert(self, sql: str, params: Sequence[object], key: str) -> int:
        rowid = self._cursor.execute(sql, params).lastrowid  # every keyed table's key is its rowid
        assert rowid is not None
        return rowid

    def stream_body(self, seq: int, chunk: int) -> Iterator[bytes] | None:
        try:
            blob = self.conn.blobopen("bodies", "data", seq, readonly=True)
        except sqlite3.OperationalError:
            return None

        def pieces() -> Iterator[bytes]:
            with blob:
                while piece := blob.read(chunk):
                    yield piece

        return pieces()

    def describe(self) -> str:
        return f"the store at {self.path}"

    def close(self) -> None:
        self.conn.close()

    def __repr__(self) -> str:
        return f"Database({self.path!r}, fsync={self.fsync})"
