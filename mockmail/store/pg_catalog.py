"""`PgCatalog`: the tenants of a server kept in a PostgreSQL database (`PgDatabase`), as `SqliteCatalog`
keeps them in the SQLite file: the `tenants` table holds each tenant's spec, token digest and fault state
(opaque bytes), and each tenant's mailboxes are a `PostgresStore` on the same database.
"""

from __future__ import annotations

from .catalog import Catalog, SavedTenant
from .pg_database import PgDatabase
from .postgres import PostgresStore

__all__ = ["PgCatalog"]


class PgCatalog(Catalog):
    """Tenants in the `tenants` table of a PostgreSQL database."""

    persistent = True

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def new_store(self, tenant: str) -> PostgresStore:
        return PostgresStore(self.db, tenant)

    def saved(self) -> list[SavedTenant]:
        rows = self.db.conn.execute(
            "SELECT name, spec, created, token, faults FROM tenants ORDER BY created, seq"
        )
        return [SavedTenant(*row) for row in rows]

    def save_tenant(self, name: str, spec: bytes, created: float) -> None:
        with self.db.write(name) as conn:
            conn.execute(
                "INSERT INTO tenants (name, spec, created) VALUES (%s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE SET spec = excluded.spec",
                (name, spec, created),
            )

    def save_token(self, name: str, token: bytes | None) -> None:
        with self.db.write(name) as conn:
            conn.execute("UPDATE tenants SET token = %s WHERE name = %s", (token, name))

    def save_faults(self, name: str, faults: bytes) -> None:
        with self.db.write(name) as conn:
            conn.execute("UPDATE tenants SET faults = %s WHERE name = %s", (faults, name))

    def drop_tenant(self, name: str) -> None:
        with self.db.write(name) as conn:
            conn.execute("DELETE FROM mailboxes WHERE tenant = %s", (name,))
            conn.execute("DELETE FROM tenants WHERE name = %s", (name,))

    def check(self) -> str | None:
        try:
            self.db.conn.execute("SELECT count(*) FROM tenants").fetchone()
        except Exception as exc:
            return f"the PostgreSQL store ({self.db!r}) cannot be read: {exc}"
        return None

    def close(self) -> None:
        self.db.close()
