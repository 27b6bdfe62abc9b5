"""The in-memory `MailStore`: dicts in insertion order, and the snapshot tuple shared between changes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence

from ..errors import MessageNotFound
from ..message.headers import summarize
from ..message.ids import random_hex
from ._interface import Mailbox, MailStore, check_new_uids
from ._message import Envelope, Message, Via

__all__ = ["MemoryMailbox", "MemoryStore"]


class MemoryMailbox(Mailbox):
    """A mailbox held in a dict by message id, in arrival order."""

    __slots__ = ("_messages", "_octets", "_on_add", "_snapshot", "_uids", "password", "user")

    def __init__(
        self, user: str, password: str, on_add: Callable[[Mailbox, Sequence[Message]], None] | None = None
    ) -> None:
        self.user = user
        self._on_add = on_add
        self.password = password
        self._messages: dict[str, Message] = {}
        self._uids: set[str] = set()
        self._octets = 0
        self._snapshot: tuple[Message, ...] | None = None
        """Shared by every session that logs in before the next change (one tuple, not one per session)."""

    @property
    def count(self) -> int:
        return len(self._messages)

    @property
    def octets(self) -> int:
        return self._octets

    def used(self, uid: str) -> bool:
        return uid in self._uids

    def add_many(
        self,
        items: Sequence[tuple[bytes, str | None]],
        *,
        field: str = "uid",
        via: Via = "api",
        envelope: Envelope | None = None,
    ) -> list[Message]:
        # The content is CRLF-normalized already (`mockmail.message.ingest.prepare` leaves it so): normalizing
        # here again would scan every message twice.
        check_new_uids(self, [uid for _, uid in items], field)
        summaries = [summarize(content) for content, _ in items]
        taken = {uid for _, uid in items if uid is not None}
        stored = []
        now = time.time()
        for (content, uid), summary in zip(items, summaries, strict=True):
            message_id = random_hex(8)
            while message_id in self._uids or message_id in taken:  # pragma: no cover - 64 random bits
                message_id = random_hex(8)
            message = Message(message_id, uid or message_id, content, summary, now, via, envelope)
            self._uids.add(message.uid)
            self._uids.add(message_id)
            self._messages[message_id] = message
            self._octets += len(content)
            stored.append(message)
        self._snapshot = None
        if self._on_add is not None:
            self._on_add(self, stored)
        return stored

    def get(self, message_id: str) -> Message:
        try:
            return self._messages[message_id]
        except KeyError:
            raise MessageNotFound(f"no message {message_id!r} in mailbox {self.user!r}") from None

    def listing(self) -> list[Message]:
        return list(self._messages.values())

    def snapshot(self) -> tuple[Message, ...]:
        if self._snapshot is None:
            self._snapshot = tuple(self._messages.values())
        return self._snapshot

    def remove(self, ids: Iterable[str]) -> int:
        removed = 0
        for message_id in ids:
            message = self._messages.pop(message_id, None)
            if message is not None:
                self._octets -= message.size
                removed += 1
        if removed:
            self._snapshot = None
        return removed

    def purge(self) -> int:
        count = len(self._messages)
        self._messages.clear()
        self._octets = 0
        self._snapshot = None
        return count

    def __contains__(self, message: object) -> bool:
        return isinstance(message, Message) and self._messages.get(message.id) is message


class MemoryStore(MailStore):
    """The mailboxes of one tenant, in a dict by user name."""

    __slots__ = ("_mailboxes", "_watchers")

    def __init__(self) -> None:
        self._mailboxes: dict[str, MemoryMailbox] = {}
        self._watchers: list[Callable[[Mailbox, Sequence[Message]], None]] = []

    def watch(self, callback: Callable[[Mailbox, Sequence[Message]], None]) -> None:
        self._watchers.append(callback)

    def _arrived(self, mailbox: Mailbox, stored: Sequence[Message]) -> None:
        for callback in self._watchers:
            callback(mailbox, stored)

    def __len__(self) -> int:
        return len(self._mailboxes)

    def __iter__(self) -> Iterator[Mailbox]:
        return iter(list(self._mailboxes.values()))

    def put(self, user: str, password: str) -> tuple[MemoryMailbox, bool]:
        mailbox = self._mailboxes.get(user)
        if mailbox is None:
            mailbox = self._mailboxes[user] = MemoryMailbox(user, password, self._arrived)
            return mailbox, True
        mailbox.password = password
        return mailbox, False

    def find(self, user: str) -> MemoryMailbox | None:
        return self._mailboxes.get(user)

    def delete(self, user: str) -> Mailbox:
        mailbox = self.get(user)
        del self._mailboxes[user]
        mailbox.purge()
        return mailbox
