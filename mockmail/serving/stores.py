"""Opening the store `mockmail serve` keeps its tenants in, and a replica's lease keeper on it.

- `--store postgresql://...`: the PostgreSQL catalog (psycopg is an optional extra, imported only then),
  and the `Claimer` that leases its tenants among the replicas on that database.
- `--data-dir D`: the SQLite catalog in D.
- neither: a catalog that keeps nothing.
An error names the store without its password (`_store_name`), and is a `ConfigError`, so the process
says why and exits 2 instead of tracing back.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
from typing import TYPE_CHECKING

from ..config.settings import Settings
from ..config.tenants_file import ConfigError
from ..store import Catalog, Database, MemoryCatalog, SqlCatalog

if TYPE_CHECKING:
    from ..replicas.claimer import Claimer

__all__ = ["open_catalog", "open_replicas"]

log = logging.getLogger("mockmail")


def open_catalog(settings: Settings) -> Catalog:
    """The PostgreSQL catalog of `--store`, the SQLite catalog in `--data-dir`, or one that keeps nothing.

    Raises:
        ConfigError: the data dir or database cannot be made or opened, or holds a store of another schema;
            both were given.
    """
    if settings.store is not None:
        return _open_postgresql(settings)
    if settings.data_dir is None:
        return MemoryCatalog()
    try:
        db = Database(settings.data_dir, fsync=settings.fsync)
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        raise ConfigError(f"--data-dir {settings.data_dir}: cannot open the store: {exc}") from None
    log.info("mockmail: store in %s%s", db.path, " (fsync at every commit)" if settings.fsync else "")
    return SqlCatalog(db)


def _open_postgresql(settings: Settings) -> Catalog:
    """The PostgreSQL catalog of `--store` (psycopg is imported only then: it is an optional extra)."""
    if settings.data_dir is not None:
        raise ConfigError("--store and --data-dir both name a store: give one")
    assert settings.store is not None
    try:
        import psycopg

        from ..store.pg_database import PgDatabase
    except ImportError as exc:
        raise ConfigError(f"--store needs psycopg: pip install 'mockmail[postgresql]' ({exc})") from None
    try:
        db = PgDatabase(settings.store)
    except (psycopg.Error, RuntimeError) as exc:
        raise ConfigError(
            f"--store {_store_name(settings.store)}: cannot open the PostgreSQL store: {exc}"
        ) from None
    log.info("mockmail: store in PostgreSQL database %r", db.dbname)
    return SqlCatalog(db)


def _store_name(url: str) -> str:
    """The `--store` URL as an error may show it: its database, user and host, never a password."""
    import psycopg.conninfo

    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "(an unreadable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    where = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{where}{port}/{parts.get('dbname') or ''}"


def open_replicas(settings: Settings, catalog: Catalog) -> Claimer | None:
    """The lease keeper of a replica on the PostgreSQL store of `--store`; None for any other store."""
    if settings.store is None:
        return None
    from ..replicas.claimer import Claimer
    from ..replicas.leases import LeaseTable
    from ..store.pg_database import PgDatabase

    assert isinstance(catalog, SqlCatalog) and isinstance(catalog.db, PgDatabase)
    replica = settings.replica_id or f"{socket.gethostname()}-{os.getpid():d}"
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return Claimer(
        catalog.db,
        LeaseTable(settings.store, replica, settings.lease_seconds),
        advertise_url=settings.advertise_url or f"http://{host}:{settings.api_port:d}",
        public_host=settings.advertised_host,
    )
