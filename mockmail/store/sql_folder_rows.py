"""What the SQL mailbox keeps in memory of each folder row (`FolderRow`), and the query that loads the rows
with their figures (`folders_query`, `folders_of`).

A folder's UIDNEXT is `max(folders.uidnext, its highest message UID + 1)`: see sql_folders.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from ._message import Message
from .folders import FolderInfo, SpecialUse
from .sql_database import SqlDatabase

__all__ = ["FolderRow", "folders_of", "folders_query"]


def folders_query(db: SqlDatabase, mailboxes: str) -> str:
    """Every folder row of the `mailboxes` (a subquery or `?`, given twice) with its figures, by id."""
    return (
        f"SELECT f.id, f.mailbox, f.name, f.uidvalidity, {db.dialect.greatest}(f.uidnext, coalesce(a.top, 0) + 1),"
        " f.uidnext, f.subscribed, f.special_use, coalesce(a.count, 0), coalesce(a.octets, 0) FROM folders AS f"
        " LEFT JOIN (SELECT folder, max(imap_uid) AS top, count(*) AS count, sum(size) AS octets FROM messages"
        f" WHERE mailbox IN ({mailboxes}) GROUP BY folder) AS a ON a.folder = f.id"
        f" WHERE f.mailbox IN ({mailboxes}) ORDER BY f.id"
    )


class FolderRow:
    """What memory holds of one folder row."""

    __slots__ = (
        "brief",
        "count",
        "key",
        "name",
        "octets",
        "saved_uidnext",
        "snapshot",
        "special_use",
        "subscribed",
        "uidnext",
        "uidvalidity",
    )

    def __init__(
        self,
        key: int,
        name: str,
        uidvalidity: int,
        uidnext: int,
        saved_uidnext: int,
        subscribed: bool,
        special_use: SpecialUse | None,
        count: int = 0,
        octets: int = 0,
    ) -> None:
        self.key, self.name, self.uidvalidity = key, name, uidvalidity
        self.uidnext = uidnext
        self.saved_uidnext = saved_uidnext
        """The value in the row; below `uidnext` while the messages that took the UIDs between are there."""
        self.subscribed, self.special_use = subscribed, special_use
        self.count, self.octets = count, octets
        self.snapshot: tuple[Message, ...] | None = None
        """`folder_snapshot`: every message with its IMAP fields."""
        self.brief: tuple[Message, ...] | None = None
        """`snapshot` (INBOX, for POP3): the columns POP3 uses."""

    def changed(self) -> None:
        """Forget the snapshots: the folder's messages changed."""
        self.snapshot = self.brief = None

    def info(self) -> FolderInfo:
        return FolderInfo(
            name=self.name,
            uidvalidity=self.uidvalidity,
            uidnext=self.uidnext,
            subscribed=self.subscribed,
            special_use=self.special_use,
            messages=self.count,
            octets=self.octets,
        )


def folders_of(rows: Iterable[tuple[object, ...]]) -> dict[int, list[FolderRow]]:
    """Folder states by mailbox key, from rows of `folders_query`."""
    found: dict[int, list[FolderRow]] = {}
    for key, mailbox, name, validity, uidnext, saved, subscribed, special, count, octets in rows:
        found.setdefault(cast(int, mailbox), []).append(
            FolderRow(
                cast(int, key),
                cast(str, name),
                cast(int, validity),
                cast(int, uidnext),
                cast(int, saved),
                bool(subscribed),
                cast("SpecialUse | None", special),
                cast(int, count),
                cast(int, octets),
            )
        )
    return found
