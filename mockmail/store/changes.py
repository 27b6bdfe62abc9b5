"""What watchers of a store hear: one event per change, delivered synchronously once it is stored.

- `Arrived`: messages new in a folder (`delivered`: new mail, stored by `add_many`; otherwise copied or
  moved in).  `Expunged`: messages gone from a folder (removed, expunged, moved out, purged) by their IMAP
  UID.  `FlagsChanged`: messages whose flags changed, as they are now.  `FolderCreated`, `FolderRenamed`
  (every folder renamed with its parent, in one event) and `FolderDeleted`; `MailboxDeleted`.
- A persistent store tells its watchers after the commit, and nothing of a rolled-back block.
- `Hub` keeps both kinds of watcher: the arrival callbacks of `MailStore.watch` (long-polls, metrics),
  called for delivered mail only, and the change callbacks of `MailStore.watch_changes` (IMAP sessions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._interface import Mailbox
    from ._message import Message

__all__ = [
    "Arrived",
    "Change",
    "Expunged",
    "FlagsChanged",
    "FolderCreated",
    "FolderDeleted",
    "FolderRenamed",
    "Hub",
    "MailboxDeleted",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrived:
    """Messages stored in `folder`, in UID order."""

    mailbox: Mailbox
    folder: str
    messages: tuple[Message, ...]
    delivered: bool
    """New mail (`add_many`: REST, SMTP, config, IMAP APPEND); False when copied or moved in."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Expunged:
    """Messages gone from `folder`, by their IMAP UIDs in ascending order."""

    mailbox: Mailbox
    folder: str
    uids: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagsChanged:
    """Messages of `folder` whose flags changed, as they are now."""

    mailbox: Mailbox
    folder: str
    messages: tuple[Message, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FolderCreated:
    mailbox: Mailbox
    folder: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FolderRenamed:
    """Every folder renamed, (old, new), the parent first.  Renaming INBOX makes a new folder that holds
    INBOX's messages instead (`FolderCreated`, `Expunged` from INBOX, `Arrived` in the new folder)."""

    mailbox: Mailbox
    renames: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FolderDeleted:
    """`folder` and its messages are gone (no `Expunged` is sent for them)."""

    mailbox: Mailbox
    folder: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxDeleted:
    """The mailbox, its folders and messages are gone; sessions on it should end."""

    mailbox: Mailbox


Change = Arrived | Expunged | FlagsChanged | FolderCreated | FolderRenamed | FolderDeleted | MailboxDeleted

ArrivalCallback = Callable[["Mailbox", Sequence["Message"]], None]
ChangeCallback = Callable[[Change], None]


class Hub:
    """The watchers of one store."""

    __slots__ = ("_arrivals", "_changes")

    def __init__(self) -> None:
        self._arrivals: list[ArrivalCallback] = []
        self._changes: list[ChangeCallback] = []

    def watch(self, callback: ArrivalCallback) -> None:
        self._arrivals.append(callback)

    def watch_changes(self, callback: ChangeCallback) -> Callable[[], None]:
        self._changes.append(callback)

        def stop() -> None:
            # By identity: the same bound method watched twice is two watchers.
            for index, watcher in enumerate(self._changes):
                if watcher is callback:
                    del self._changes[index]
                    return

        return stop

    @property
    def listening(self) -> bool:
        """Whether any change watcher would hear an event (skip building one when none would)."""
        return bool(self._changes)

    def arrived(self, mailbox: Mailbox, folder: str, stored: Sequence[Message], *, delivered: bool) -> None:
        if delivered:
            for arrival in self._arrivals:
                arrival(mailbox, stored)
        if self._changes and stored:
            self.tell(Arrived(mailbox=mailbox, folder=folder, messages=tuple(stored), delivered=delivered))

    def tell(self, change: Change) -> None:
        for callback in list(self._changes):  # a watcher may stop watching while it is told
            callback(change)
