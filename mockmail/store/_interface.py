"""The `MailStore` interface: what every backend (memory, SQLite) offers the rest of mockmail.

Rules every backend keeps:
- UIDs are unique within a mailbox, stable for the message's life, and never reused after deletion
  (RFC 1939 section 7, UIDL): the mailbox remembers every UID it ever handed out.
- A mailbox has folders (`mockmail.store.folders`): `INBOX` always, and any created.  The mailbox-level
  calls (`count`, `octets`, `snapshot`, `listing`, `remove`, `in`) are about INBOX, which is what POP3
  sees; `get` finds a message in any folder; the folder calls name their folder.  A message's IMAP UID
  rises strictly within its folder and is never reused there; a message copied or moved gets a new one in
  its new folder (RFC 4315 COPYUID, RFC 6851 MOVEUID: those calls return the (old, new) pairs).
- `add_many` stores all or nothing: every UID is checked before the first message is stored.
- Every change is one synchronous call with no `await` inside, so a session cancelled mid-command (client
  gone, tenant deleted, server stopping) can never leave a mailbox half-changed, and no lock is needed.
  A persistent store has committed the change when the call returns: what the caller acknowledges next
  (a 2xx, a 250, a QUIT +OK) survives a crash of the process.
- Watchers hear of every arrival (`watch`) and of every change (`watch_changes`, `mockmail.store.changes`),
  synchronously, after the change is stored.
- `snapshot()` and `folder_snapshot()` are immutable tuples of messages in UID order, shared by every
  reader until the folder next changes.
- Callers go through these methods only; no one outside a backend reaches into its containers.
Protocol state (POP3's maildrop locks, its dot-stuffed wire cache) lives with the protocol, not here.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence

from ..errors import MailboxNotFound, UidTaken
from ._message import Envelope, Message, Via, check_uid, normalize_crlf
from .changes import ChangeCallback
from .folders import INBOX, FlagMode, FolderInfo, SpecialUse

__all__ = ["CommitFailed", "FencedOut", "MailStore", "Mailbox", "check_new_uids"]


def check_new_uids(mailbox: Mailbox, uids: Sequence[str | None], field: str) -> None:
    """Check the UIDs asked for a batch against each other and everything `mailbox` ever used.

    Raises:
        InvalidInput: a UID is malformed (`field`, or `$[i].uid` in a batch).
        UidTaken: a UID was used before, or is given twice.
    """
    wanted: set[str] = set()
    for index, uid in enumerate(uids):
        if uid is None:
            continue
        where = field if len(uids) == 1 else f"$[{index}].uid"
        check_uid(uid, where)
        if mailbox.used(uid) or uid in wanted:
            raise UidTaken(f"uid {uid!r} was already used in mailbox {mailbox.user!r}", field=where)
        wanted.add(uid)


class CommitFailed(RuntimeError):
    """The commit that was to make changes durable failed: none of them were kept.  What was about to be
    acknowledged must be answered with a temporary failure instead."""


class FencedOut(RuntimeError):
    """A write on behalf of `tenant` was refused by the database's fence (`SqlDatabase.fence`): this
    process no longer holds the tenant (another replica took it over).  Nothing of the write was kept."""

    def __init__(self, tenant: str) -> None:
        super().__init__(f"tenant {tenant!r} is fenced out: this process no longer holds it")
        self.tenant = tenant


class Mailbox(abc.ABC):
    """A maildrop: its owner, password, bearer token (None: none) and messages in order (message 1 first)."""

    __slots__ = ()
    user: str
    password: str
    bearer_token: str | None

    @property
    @abc.abstractmethod
    def count(self) -> int:
        """Messages in INBOX."""

    @property
    @abc.abstractmethod
    def octets(self) -> int:
        """Octets of the messages in INBOX."""

    @property
    @abc.abstractmethod
    def totals(self) -> tuple[int, int]:
        """Messages and octets in every folder (what counts against a tenant's storage limits)."""

    @abc.abstractmethod
    def used(self, uid: str) -> bool:
        """Whether `uid` names, or ever named, a message (or message id) of this mailbox."""

    def add(
        self, raw: bytes, *, uid: str | None = None, folder: str = INBOX, flags: Iterable[str] = ()
    ) -> Message:
        """Store `raw` (any line endings) as a new last message and return it (tests, benchmarks;
        the ways in for clients go through `mockmail.message.ingest.deliver`)."""
        return self.add_many([(normalize_crlf(raw), uid)], folder=folder, flags=flags)[0]

    @abc.abstractmethod
    def add_many(
        self,
        items: Sequence[tuple[bytes, str | None]],
        *,
        field: str = "uid",
        via: Via = "api",
        envelope: Envelope | None = None,
        folder: str = INBOX,
        flags: Iterable[str] = (),
        internaldate: float | None = None,
    ) -> list[Message]:
        """Store (CRLF-normalized content, UID or None) pairs as new last messages of `folder`, all or
        none, each with `flags` and `internaldate` (the arrival time when None).

        Raises:
            InvalidInput: a UID or a flag is malformed; nothing was stored.
            UidTaken: a UID was used before, or is given twice; nothing was stored.
            FolderNotFound: there is no such folder; nothing was stored.
        """

    @abc.abstractmethod
    def get(self, message_id: str) -> Message:
        """The message with this id, in whichever folder it is.

        Raises:
            MessageNotFound: there is none.
        """

    @abc.abstractmethod
    def listing(self, folder: str = INBOX) -> list[Message]:
        """The messages of INBOX (or `folder`) in order, with their summaries, as a new list.

        Raises:
            FolderNotFound: there is no such folder.
        """

    @abc.abstractmethod
    def snapshot(self) -> tuple[Message, ...]:
        """The messages of INBOX in order, as one immutable tuple shared until INBOX changes."""

    @abc.abstractmethod
    def remove(self, ids: Iterable[str]) -> int:
        """Delete the messages with these ids that are still in INBOX; return how many went."""

    @abc.abstractmethod
    def purge(self) -> int:
        """Delete every message of every folder (the folders stay); return how many went."""

    # --- Folders --------------------------------------------------------------------------------------

    @abc.abstractmethod
    def folders(self) -> list[FolderInfo]:
        """Every folder: INBOX first, then the others by name."""

    @abc.abstractmethod
    def folder(self, name: str) -> FolderInfo:
        """The folder called `name` (`INBOX` in any case).

        Raises:
            FolderNotFound: there is none.
        """

    @abc.abstractmethod
    def create_folder(
        self, name: str, *, special_use: SpecialUse | None = None, subscribed: bool = False
    ) -> FolderInfo:
        """Make an empty folder with a fresh UIDVALIDITY.

        Raises:
            InvalidInput: `name` cannot name a folder (`check_folder_name`).
            FolderExists: it exists (INBOX always does).
        """

    @abc.abstractmethod
    def rename_folder(self, old: str, new: str) -> FolderInfo:
        """Rename `old` and its children (`old/...` becomes `new/...`), keeping their UIDVALIDITY and
        messages; return the folder now called `new`.

        Renaming INBOX follows RFC 9051 section 6.3.6: a new folder `new` (fresh UIDVALIDITY) takes every
        message of INBOX, which stays, empty, with its own UIDVALIDITY and UIDNEXT; its children stay.

        Raises:
            FolderNotFound: there is no `old`.
            InvalidInput: `new` cannot name a folder, or is `old` itself or one of its children.
            FolderExists: `new` (or what a child would become) exists.
        """

    @abc.abstractmethod
    def delete_folder(self, name: str) -> int:
        """Delete the folder and its messages (not its children); return how many messages went.

        Raises:
            FolderNotFound: there is none.
            InvalidInput: it is INBOX, which cannot be deleted.
        """

    @abc.abstractmethod
    def subscribe(self, name: str, subscribed: bool = True) -> FolderInfo:
        """Set the folder's `subscribed` mark (IMAP SUBSCRIBE, UNSUBSCRIBE).

        Raises:
            FolderNotFound: there is none.
        """

    @abc.abstractmethod
    def folder_snapshot(self, name: str) -> tuple[Message, ...]:
        """The messages of the folder in UID order, one immutable tuple shared until the folder changes.

        Raises:
            FolderNotFound: there is none.
        """

    @abc.abstractmethod
    def set_flags(
        self, folder: str, uids: Iterable[int], flags: Iterable[str], mode: FlagMode = "replace"
    ) -> list[Message]:
        """Replace, add or remove flags of the messages of `folder` with these IMAP UIDs; return those
        messages (UIDs not in the folder are left out) as they are now, in UID order.  Watchers hear of
        those whose flags changed.

        Raises:
            FolderNotFound: there is no such folder.
            InvalidInput: a flag is malformed (`check_flags`); nothing changed.
        """

    @abc.abstractmethod
    def copy(self, folder: str, uids: Iterable[int], target: str) -> list[tuple[int, int]]:
        """Copy the messages of `folder` with these UIDs to the end of `target`, in UID order, with
        their flags and INTERNALDATE; each copy is a new message (new id and POP3 UID).  Return the
        (old UID, new UID) pairs (RFC 4315 COPYUID).

        Raises:
            FolderNotFound: either folder is missing (`field` says which: `folder` or `target`).
        """

    @abc.abstractmethod
    def move(self, folder: str, uids: Iterable[int], target: str) -> list[tuple[int, int]]:
        """Move the messages of `folder` with these UIDs to the end of `target`, in UID order: the same
        messages (id, POP3 UID, flags, INTERNALDATE kept) with new IMAP UIDs.  Return the (old UID, new
        UID) pairs (RFC 6851 MOVEUID).

        Raises:
            FolderNotFound: either folder is missing (`field` says which: `folder` or `target`).
        """

    @abc.abstractmethod
    def expunge(self, folder: str, uids: Iterable[int]) -> list[int]:
        """Delete the messages of `folder` with these UIDs; return the UIDs that went, ascending.

        Raises:
            FolderNotFound: there is no such folder.
        """

    def stream(self, message: Message, chunk: int = 256 * 1024) -> Iterator[bytes]:
        """The content in pieces of at most `chunk` octets (a persistent store reads one piece at a time).

        Raises:
            MessageNotFound: the message is no longer stored (a persistent store: before the first piece).
        """
        content = message.content
        return (content[start : start + chunk] for start in range(0, len(content), chunk))

    @abc.abstractmethod
    def __contains__(self, message: object) -> bool:
        """Whether `message` (that very message) is still stored here."""


class MailStore(abc.ABC):
    """The mailboxes of one tenant, by user name."""

    __slots__ = ()

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __iter__(self) -> Iterator[Mailbox]:
        """The mailboxes, as they are when iteration starts."""

    @abc.abstractmethod
    def put(self, user: str, password: str, bearer_token: str | None = None) -> tuple[Mailbox, bool]:
        """Create the mailbox, or replace its password and bearer token (None: it has none); return it and
        whether it was created."""

    @abc.abstractmethod
    def find(self, user: str) -> Mailbox | None:
        """The mailbox of `user`, or None."""

    def get(self, user: str) -> Mailbox:
        """The mailbox of `user`.

        Raises:
            MailboxNotFound: there is none (`field` is `user`).
        """
        mailbox = self.find(user)
        if mailbox is None:
            raise MailboxNotFound(f"no mailbox {user!r} in this tenant", field="user")
        return mailbox

    @property
    def unsettled(self) -> bool:
        """Changes were made that are not durable yet: a reply must `settled()` first (group commit)."""
        return False

    async def settled(self) -> None:  # noqa: B027 - durable as made: nothing to wait for
        """Return once every change made so far (in any store of the server) is durable; at once for a
        store that makes each change durable as it is made.

        Raises:
            CommitFailed: the changes were not kept.
        """

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Make the changes inside one unit: all of them stay, or (when the block raises) none.

        The memory store changes nothing until a change cannot fail any more, so it needs no unit; a
        persistent store commits the block once (one SMTP message to several mailboxes is one commit).
        """
        return contextlib.nullcontext()

    @abc.abstractmethod
    def watch(self, callback: Callable[[Mailbox, Sequence[Message]], None]) -> None:
        """Call `callback(mailbox, stored)` after every change that stores new mail, in any folder
        (long-polls wait on this; metrics count `stored` by how it arrived).  Copies and moves are not
        new mail."""

    @abc.abstractmethod
    def watch_changes(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call `callback(change)` after every change (`mockmail.store.changes.Change`) to any mailbox of
        the store; return the function that stops it."""

    @abc.abstractmethod
    def delete(self, user: str) -> Mailbox:
        """Remove the mailbox, its folders and messages; sessions still open on it see every message gone.

        Raises:
            MailboxNotFound: there is none.
        """
