"""`Dialect`: the few phrases SQLite and PostgreSQL spell differently, for the statements the SQL store
writes once (sql_store.py, sql_folders.py, catalog.py).

Everything else is common SQL both engines take as is: `?` placeholders (translated for psycopg by
`PgDatabase.execute`), `"user"` quoted, `RETURNING`, `ON CONFLICT ... DO NOTHING / DO UPDATE`, savepoints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["POSTGRES", "SQLITE", "Dialect"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one engine spells what the SQL store needs."""

    name: str
    begin: str
    """The statement that opens a write transaction."""
    greatest: str
    """The scalar function that picks the larger of two values."""
    uid_in: str
    """A condition on `imap_uid` with one parameter, a set of UIDs made by `uid_set`."""
    uid_set: Callable[[Iterable[int]], object]
    """The parameter `uid_in` takes: the UIDs, sorted and without repeats."""
    tenants_in_order: str
    """The `ORDER BY` list of `tenants` that gives the order the tenants were created in."""


def _sorted(uids: Iterable[int]) -> list[int]:
    return sorted({int(uid) for uid in uids})


def _json(uids: Iterable[int]) -> str:
    return json.dumps(_sorted(uids))


SQLITE = Dialect(
    name="sqlite",
    begin="BEGIN IMMEDIATE",  # take the write lock now: no deadlock upgrading a read lock later
    greatest="max",
    # One statement whatever the number of UIDs: a JSON array.
    uid_in="imap_uid IN (SELECT value FROM json_each(?))",
    uid_set=_json,
    tenants_in_order="created, rowid",
)

POSTGRES = Dialect(
    name="postgresql",
    begin="BEGIN",
    greatest="greatest",
    uid_in="imap_uid = ANY(?)",
    uid_set=_sorted,
    tenants_in_order="created, seq",
)
