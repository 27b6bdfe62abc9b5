"""POP3's side of a mailbox: the maildrop locks of a tenant, one session's view of a mailbox, and the
dot-stuffed wire form of messages.

`MaildropLocks` keeps the RFC 1939 section 8 exclusive lock and the count of logged-in sessions per
mailbox, beside the store and not in it: locking is POP3's business (SMTP delivers into a locked maildrop).
Locks are keyed by the mailbox object, so a mailbox deleted and created again under the same name starts
unlocked even while a session of the old one is still open.

`SessionMaildrop` is one session's view (RFC 1939 section 5): message numbers, deletion marks, running totals.

The view is a snapshot taken at login.  DELE only marks; `commit` (called by QUIT in UPDATE) removes the
marked messages from the mailbox in one synchronous step.  Messages that left the mailbox since the snapshot
(another session's QUIT, a REST delete) keep their numbers but answer "no longer in the maildrop".

`wire_body` gives a message's dot-stuffed POP3 form (RFC 1939 section 3), made at its first RETR or TOP and
kept as long as the message object lives (a weak cache: it goes with the message); a message of a persistent
store is read and stuffed at each use instead.  Most messages have no
line that starts with `.`; their wire form is the stored content itself, not a copy.
"""

from __future__ import annotations

import weakref

from ..pop3 import StuffedBody
from ..store import Mailbox, Message

__all__ = ["MaildropLocks", "SessionMaildrop", "wire_body"]

_WIRE: weakref.WeakKeyDictionary[Message, StuffedBody] = weakref.WeakKeyDictionary()


def wire_body(message: Message) -> StuffedBody:
    """`message` dot-stuffed for RETR: made once per message held in memory (a pure function of immutable
    content); made afresh, from the store, on each use of a message a persistent store holds (so memory
    holds a message once per reader, for as long as it is read, and not once per message stored)."""
    if not message.resident:
        return StuffedBody.stuff(message.content)
    body = _WIRE.get(message)
    if body is None:
        body = _WIRE[message] = StuffedBody.stuff(message.content)
    return body


class MaildropLocks:
    """The maildrop locks of one tenant, and how many sessions are logged in to each mailbox."""

    __slots__ = ("_holders", "_sessions")

    def __init__(self) -> None:
        self._holders: dict[Mailbox, object] = {}
        self._sessions: dict[Mailbox, int] = {}

    def holder(self, mailbox: Mailbox) -> object | None:
        """The session holding the exclusive lock, or None."""
        return self._holders.get(mailbox)

    def sessions(self, mailbox: Mailbox) -> int:
        """Sessions logged in to `mailbox` right now."""
        return self._sessions.get(mailbox, 0)

    def acquire(self, mailbox: Mailbox, session: object, *, exclusive: bool) -> bool:
        """Log `session` in to `mailbox`; False (and nothing changed) when another session holds the lock."""
        if exclusive:
            if mailbox in self._holders:
                return False
            self._holders[mailbox] = session
        self._sessions[mailbox] = self._sessions.get(mailbox, 0) + 1
        return True

    def release(self, mailbox: Mailbox, session: object) -> None:
        """The end of `session`'s login to `mailbox`, however it ended."""
        left = self._sessions.get(mailbox, 0) - 1
        if left > 0:
            self._sessions[mailbox] = left
        else:
            self._sessions.pop(mailbox, None)
        if self._holders.get(mailbox) is session:
            del self._holders[mailbox]


class SessionMaildrop:
    __slots__ = ("_count", "_deleted", "_octets", "mailbox", "messages")

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.messages = mailbox.snapshot()
        self._deleted: set[int] | None = None  # made at the first DELE: most sessions never delete
        self._count = len(self.messages)
        self._octets = sum(m.size for m in self.messages)

    def reverse(self) -> None:
        """Number the messages newest first (a fault plan's order); only before any is marked."""
        assert self._deleted is None
        self.messages = self.messages[::-1]

    @property
    def count(self) -> int:
        """Messages not marked as deleted."""
        return self._count

    @property
    def octets(self) -> int:
        """Octets of the messages not marked as deleted."""
        return self._octets

    def lookup(self, msg: int) -> Message | str:
        """The message numbered `msg`, or the reason it cannot be used (the `-ERR` text)."""
        if not 1 <= msg <= len(self.messages):
            return f"no such message {msg:d} (maildrop has {len(self.messages):d})"
        if self._deleted is not None and msg - 1 in self._deleted:
            return f"message {msg:d} already deleted"
        return self.messages[msg - 1]

    def lookup_present(self, msg: int) -> Message | str:
        """Like `lookup`, but also refuses a message that has left the mailbox since login."""
        found = self.lookup(msg)
        if isinstance(found, Message) and found not in self.mailbox:
            return f"message {msg:d} is no longer in the maildrop"
        return found

    def live(self) -> list[tuple[int, Message]]:
        """(number, message) for every message not marked as deleted."""
        deleted = self._deleted
        if not deleted:
            return list(enumerate(self.messages, 1))
        return [(i + 1, m) for i, m in enumerate(self.messages) if i not in deleted]

    def mark(self, msg: int) -> None:
        message = self.messages[msg - 1]
        if self._deleted is None:
            self._deleted = set()
        self._deleted.add(msg - 1)
        self._count -= 1
        self._octets -= message.size

    def reset(self) -> None:
        self._deleted = None
        self._count = len(self.messages)
        self._octets = sum(m.size for m in self.messages)

    def commit(self) -> int:
        """Remove the marked messages from the mailbox (QUIT in UPDATE); return how many went."""
        return self.mailbox.remove(self.messages[i].id for i in self._deleted or ())
