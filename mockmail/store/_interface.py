"""The `MailStore` interface: what every backend (memory today, SQLite next) offers the rest of mockmail.

Rules every backend keeps:
- UIDs are unique within a mailbox, stable for the message's life, and never reused after deletion
  (RFC 1939 section 7, UIDL): the mailbox remembers every UID it ever handed out.
- `add_many` stores all or nothing: every UID is checked before the first message is stored.
- Every change is one synchronous call with no `await` inside, so a session cancelled mid-command (client
  gone, tenant deleted, server stopping) can never leave a mailbox half-changed, and no lock is needed.
- Watchers hear of every arrival, synchronously, after the messages are stored (`watch`).
- `snapshot()` is an immutable tuple of messages in order, shared by every reader until the next change.
- Callers go through these methods only; no one outside a backend reaches into its containers.
Protocol state (POP3's maildrop locks, its dot-stuffed wire cache) lives with the protocol, not here.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Sequence

from ..errors import MailboxNotFound, UidTaken
from ._message import Envelope, Message, Via, check_uid

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
