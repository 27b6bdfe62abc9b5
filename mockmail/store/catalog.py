"""`Catalog`: what a server keeps of its tenants besides their mail (spec with ports, token digest, fault
state, the transcripts of finished sessions), and where each tenant's `MailStore` comes from.

The catalog stores what it is given as opaque bytes (the tenant registry encodes specs and fault state): the
store package knows no protocol and no API.  `MemoryCatalog` keeps nothing (a server without `--data-dir`
or `--store`); `SqlCatalog` keeps it all in the server's SQL database (SQLite or PostgreSQL) and brings it
back at start.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import trio

from ._interface import MailStore
from .memory import MemoryStore
from .sql_database import SqlDatabase
from .sql_store import SqlStore

__all__ = ["Catalog", "MemoryCatalog", "SavedTenant", "SqlCatalog"]


@dataclass(frozen=True, slots=True)
class SavedTenant:
    """One tenant as the catalog kept it."""

    name: str
    spec: bytes
    created: float
    token: bytes | None
    faults: bytes | None


class Catalog(abc.ABC):
    """Where tenants are kept between runs of the server."""

    persistent: bool = False

    @abc.abstractmethod
    def new_store(self, tenant: str) -> MailStore:
        """The mailboxes of `tenant`: what is kept of them, or an empty store."""

    def saved(self) -> list[SavedTenant]:
        """Every tenant kept, in the order they were created."""
        return []

    def save_tenant(self, name: str, spec: bytes, created: float) -> None:  # noqa: B027 - keeps nothing
        """Keep (or replace) the tenant's spec."""

    def save_token(self, name: str, token: bytes | None) -> None:  # noqa: B027 - keeps nothing
        """Keep the digest of the tenant's token."""

    def save_faults(self, name: str, faults: bytes) -> None:  # noqa: B027 - keeps nothing
        """Keep the tenant's fault state (plans and what is left of each knob's `times`)."""

    def keep_transcript(self, name: str, number: int, data: bytes, limit: int) -> None:  # noqa: B027
        """Keep the transcript of the tenant's `number`th finished session, and forget those numbered
        `limit` or more before it (the oldest go first)."""

    def kept_transcripts(self, name: str) -> list[tuple[int, bytes]]:
        """The tenant's kept transcripts with their numbers, oldest first."""
        return []

    def drop_transcripts(self, name: str) -> None:  # noqa: B027 - keeps nothing
        """Forget every transcript kept of the tenant."""

    def drop_tenant(self, name: str) -> None:  # noqa: B027 - keeps nothing
        """Forget the tenant, its mailboxes and their messages, and its transcripts."""

    def check(self) -> str | None:
        """Why the catalog cannot be used right now, or None when it can (`/api/v1/ready`)."""
        return None

    async def commit_units(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run group commit until cancelled (see `SqlDatabase.commit_units`); nothing to do when every
        change is durable as it is made."""
        task_status.started()

    async def settled(self) -> None:  # noqa: B027 - durable as made: nothing to wait for
        """Return once every change made so far is durable.

        Raises:
            CommitFailed: they were not kept.
        """

    def close(self) -> None:  # noqa: B027 - holds nothing open
        """Release the files behind the catalog."""


class MemoryCatalog(Catalog):
    """A catalog that keeps nothing: tenants live as long as the process."""

    def new_store(self, tenant: str) -> MailStore:
        return MemoryStore()


class SqlCatalog(Catalog):
    """Tenants in the `tenants` table of the server's SQL database; each tenant's mailboxes are a
    `SqlStore` on the same database."""

    persistent = True

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def new_store(self, tenant: str) -> SqlStore:
        return SqlStore(self.db, tenant)

    def saved(self) -> list[SavedTenant]:
        rows = self.db.execute(
            "SELECT name, spec, created, token, faults FROM tenants"
            f" ORDER BY {self.db.dialect.tenants_in_order}"
        )
        return [SavedTenant(*row) for row in rows]

    def save_tenant(self, name: str, spec: bytes, created: float) -> None:
        db = self.db
        with db.write(name):
            db.execute(
                "INSERT INTO tenants (name, spec, created) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET spec = excluded.spec",
                (name, spec, created),
            )

    def save_token(self, name: str, token: bytes | None) -> None:
        db = self.db
        with db.write(name):
            db.execute("UPDATE tenants SET token = ? WHERE name = ?", (token, name))

    def save_faults(self, name: str, faults: bytes) -> None:
        db = self.db
        with db.write(name):
            db.execute("UPDATE tenants SET faults = ? WHERE name = ?", (faults, name))

    def keep_transcript(self, name: str, number: int, data: bytes, limit: int) -> None:
        db = self.db
        with db.write(name):  # fenced: a replica that lost the tenant keeps nothing more of it
            db.execute(
                "INSERT INTO transcripts (tenant, number, data) VALUES (?, ?, ?)"
                " ON CONFLICT (tenant, number) DO UPDATE SET data = excluded.data",
                (name, number, data),
            )
            # Numbers follow each other, so this is the one row pushed out (more after a lower limit).
            db.execute("DELETE FROM transcripts WHERE tenant = ? AND number <= ?", (name, number - limit))

    def kept_transcripts(self, name: str) -> list[tuple[int, bytes]]:
        rows = self.db.execute("SELECT number, data FROM transcripts WHERE tenant = ? ORDER BY number", (name,))
        return [(int(number), bytes(data)) for number, data in rows]

    def drop_transcripts(self, name: str) -> None:
        db = self.db
        with db.write(name):
            db.execute("DELETE FROM transcripts WHERE tenant = ?", (name,))

    def drop_tenant(self, name: str) -> None:
        db = self.db
        with db.write(name):
            db.execute("DELETE FROM transcripts WHERE tenant = ?", (name,))
            db.execute("DELETE FROM mailboxes WHERE tenant = ?", (name,))
            db.execute("DELETE FROM tenants WHERE name = ?", (name,))

    def check(self) -> str | None:
        try:
            self.db.execute("SELECT count(*) FROM tenants").fetchone()
        except Exception as exc:
            return f"{self.db.describe()} cannot be read: {exc}"
        return None

    async def commit_units(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await self.db.commit_units(task_status=task_status)

    async def settled(self) -> None:
        await self.db.settled()

    def close(self) -> None:
        self.db.close()
