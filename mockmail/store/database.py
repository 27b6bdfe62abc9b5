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
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["SCHEMA_VERSION", "Database"]

SCHEMA_VERSION = 1
FILE_NAME = "mockmail.sqlite3"

_SCHEMA = """
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
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise RuntimeError(
                f"{target}: schema version {version}, this mockmail knows {SCHEMA_VERSION}; "
                "use the mockmail that wrote it, or a new --data-dir"
            )
        self.conn.executescript(_SCHEMA)
        self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION:d}")
        self._depth = 0
        self._rollback: list[list[Callable[[], None]]] = []
        self._after: list[Callable[[], None]] = []

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction (outermost) or savepoint (nested): all of the block's writes, or none."""
        conn = self.conn
        depth = self._depth
        conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT s{depth:d}")
        self._depth = depth + 1
        self._rollback.append([])
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
