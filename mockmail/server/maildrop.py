"""One session's view of a mailbox (RFC 1939 section 5): message numbers, deletion marks, running totals.

The view is a snapshot taken at login.  DELE only marks; `commit` (called by QUIT in UPDATE) removes the
marked messages from the mailbox in one synchronous step.  Messages that left the mailbox since the snapshot
(another session's QUIT, a REST delete) keep their numbers but answer "no longer in the maildrop".
"""

from __future__ import annotations

from ..mailbox import Mailbox, Message

__all__ = ["SessionMaildrop"]


class SessionMaildrop:
    __slots__ = ("_count", "_deleted", "_octets", "mailbox", "messages")

    def __init__(self, mailbox: Mailbox, *, newest_first: bool = False) -> None:
        self.mailbox = mailbox
        self.messages = mailbox.snapshot()
        if newest_first:  # a fault plan's order: message 1 is the newest
            self.messages = self.messages[::-1]
        self._deleted: set[int] | None = None  # made at the first DELE: most sessions never delete
        self._count = len(self.messages)
        self._octets = sum(m.size for m in self.messages)

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
