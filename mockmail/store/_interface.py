"""The `MailStore` interface: what every backend (memory, SQLite) offers the rest of mockmail.

Rules every backend keeps:
- UIDs are unique within a mailbox, stable for the message's life, and never reused after deletion
  (RFC 1939 section 7, UIDL): the mailbox remembers every UID it ever handed out.
- `add_many` stores all or nothing: every UID is checked before the first message is stored.
- Every change is one synchronous call with no `await` inside, so a session cancelled mid-command (client
  gone, tenant deleted, server stopping) can never leave a mailbox half-changed, and no lock is needed.
  A persistent backend has committed the change when the call returns: what the caller acknowledges next
  (a 2xx, a 250, a QUIT +OK) survives a crash of the process.
- Watchers hear of every arrival, synchronously, after the messages are stored (`watch`).
- `snapshot()` is an immutable tuple of messages in order, shared by every reader until the next change.
- Callers go through these methods only; no one outside a backend reaches into its containers.
Protocol state (POP3's maildrop locks, its dot-stuffed wire cache) lives with the protocol, not here.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence

from ..errors import MailboxNotFound, UidTaken
from ._message import Envelope, Message, Via, check_uid, normalize_crlf

__all__ = ["MailStore", "Mailbox", "check_new_uids"]


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


class Mailbox(abc.ABC):
    """A maildrop: its owner, password and messages in order (message 1 first)."""

    __slots__ = ()
    user: str
    password: str

    @property
    @abc.abstractmethod
    def count(self) -> int:
        """Messages stored."""

    @property
    @abc.abstractmethod
    def octets(self) -> int:
        """Octets of all messages stored."""

    @abc.abstractmethod
    def used(self, uid: str) -> bool:
        """Whether `uid` names, or ever named, a message (or message id) of this mailbox."""

    def add(self, raw: bytes, *, uid: str | None = None) -> Message:
        """Store `raw` (any line endings) as a new last message and return it (tests, benchmarks;
        the ways in for clients go through `mockmail.message.ingest.deliver`)."""
        return self.add_many([(normalize_crlf(raw), uid)])[0]

    @abc.abstractmethod
    def add_many(
        self,
        items: Sequence[tuple[bytes, str | None]],
        *,
        field: str = "uid",
        via: Via = "api",
        envelope: Envelope | None = None,
    ) -> list[Message]:
        """Store (CRLF-normalized content, UID or None) pairs as new last messages, all or none.

        Raises:
            InvalidInput: a UID is malformed; nothing was stored.
            UidTaken: a UID was used before, or is given twice; nothing was stored.
        """

    @abc.abstractmethod
    def get(self, message_id: str) -> Message:
        """The message with this id.

        Raises:
            MessageNotFound: there is none.
        """

    @abc.abstractmethod
    def listing(self) -> list[Message]:
        """The messages in order, as a new list."""

    @abc.abstractmethod
    def snapshot(self) -> tuple[Message, ...]:
        """The messages in order, as one immutable tuple shared until the mailbox changes."""

    @abc.abstractmethod
    def remove(self, ids: Iterable[str]) -> int:
        """Delete the messages with these ids that are still here; return how many went."""

    @abc.abstractmethod
    def purge(self) -> int:
        """Delete every message; return how many went."""

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
    def put(self, user: str, password: str) -> tuple[Mailbox, bool]:
        """Create the mailbox, or change its password; return it and whether it was created."""

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

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Make the changes inside one unit: all of them stay, or (when the block raises) none.

        The memory store changes nothing until a change cannot fail any more, so it needs no unit; a
        persistent store commits the block once (one SMTP message to several mailboxes is one commit).
        """
        return contextlib.nullcontext()

    @abc.abstractmethod
    def watch(self, callback: Callable[[Mailbox, Sequence[Message]], None]) -> None:
        """Call `callback(mailbox, stored)` after every change that stores messages (long-polls wait on
        this; metrics count `stored` by how it arrived)."""

    @abc.abstractmethod
    def delete(self, user: str) -> Mailbox:
        """Remove the mailbox and its messages; sessions still open on it see every message gone.

        Raises:
            MailboxNotFound: there is none.
        """
