"""Mailboxes (RFC 1939 "maildrops") and the per-tenant store that holds them, in memory.

Rules kept here:
- A message's content is stored CRLF-normalized and ending in CRLF; its size is the exact octet count of
  that content, which is what RETR sends before dot-stuffing (RFC 1939 section 5, LIST/STAT sizes).
- UIDs are unique within a mailbox, stable for the message's life, and never reused after deletion
  (RFC 1939 section 7, UIDL): the mailbox remembers every UID it ever handed out.
- Every change is one synchronous block with no `await`, so a session cancelled mid-command (client gone,
  tenant deleted, server stopping) can never leave a mailbox half-changed.  No locks are needed.
- Sessions work on a snapshot (a tuple of `Message` references, not copies) taken at login and shared
  by every session until the mailbox next changes; `remove` is what a QUIT commits and skips messages
  already gone.  Change `messages` only through the methods here, which drop the shared snapshot.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .errors import InvalidInput, MailboxNotFound, MessageNotFound, UidTaken
from .headers import HeaderSummary, summarize
from .pop3 import StuffedBody, normalize_crlf

__all__ = ["UID_PATTERN", "Mailbox", "Message", "Store", "check_uid"]

UID_PATTERN = r"^[\x21-\x7e]{1,70}(?!\n)$"
"""RFC 1939 section 7: a unique-id is 1 to 70 characters in the range 0x21 to 0x7E."""
_UID_RE = re.compile(UID_PATTERN)


def check_uid(uid: str, field: str) -> str:
    """`uid` itself, if it is a well-formed RFC 1939 unique-id.

    Raises:
        InvalidInput: it is not; `field` names where it came from.
    """
    if not _UID_RE.match(uid):
        raise InvalidInput(f"uid {uid!r} is not 1 to 70 printable ASCII characters", field=field)
    return uid


@dataclass(slots=True, eq=False)
class Message:
    """One stored message, kept only in its stuffed wire form (`body`); never mutate it."""

    id: str
    uid: str
    body: StuffedBody
    summary: HeaderSummary
    created: float

    @property
    def size(self) -> int:
        """Octets of the CRLF-normalized message before stuffing: what LIST, STAT and RETR report."""
        return self.body.size

    @property
    def content(self) -> bytes:
        """The CRLF-normalized message (un-stuffed on each call: for the API, not for POP3)."""
        return self.body.content()

    def top(self, lines: int) -> StuffedBody:
        """RFC 1939 TOP: the header, the blank line, then at most `lines` lines of the body."""
        return self.body.top(lines)


@dataclass(slots=True, eq=False)
class Mailbox:
    """A maildrop: its password and its messages in order (POP3 keeps its locks in server/maildrop.py)."""

    user: str
    password: str
    messages: dict[str, Message] = field(default_factory=dict)
    _uids: set[str] = field(default_factory=set)
    _snapshot: tuple[Message, ...] | None = None
    """Shared by every session that logs in before the next change (one tuple, not one per session)."""

    @property
    def octets(self) -> int:
        return sum(m.size for m in self.messages.values())

    @property
    def count(self) -> int:
        return len(self.messages)

    def listing(self) -> list[Message]:
        """The messages in order (POP3 message 1 first), as a new list."""
        return list(self.messages.values())

    def add(self, raw: bytes, *, uid: str | None = None) -> Message:
        """Store `raw` (any line endings) as a new last message and return it (tests, benchmarks;
        the ways in for clients go through `mockmail.ingest.deliver`).

        Raises:
            InvalidInput: `uid` is malformed.
            UidTaken: `uid` was already used in this mailbox, now or in the past.
        """
        return self.add_many([(normalize_crlf(raw), uid)])[0]

    def add_many(self, items: Sequence[tuple[bytes, str | None]], *, field: str = "uid") -> list[Message]:
        """Store several messages, all or none: every UID is checked before the first one is stored.

        `items` are (content, uid) pairs whose content is already CRLF-normalized, as
        `mockmail.ingest.prepare` leaves it: normalizing here again would scan every message twice.

        Raises:
            InvalidInput: a UID is malformed; nothing was stored.
            UidTaken: a UID was used before, or is given twice; nothing was stored.
        """
        wanted: set[str] = set()
        for index, (_, uid) in enumerate(items):
            if uid is None:
                continue
            where = field if len(items) == 1 else f"$[{index}].uid"
            check_uid(uid, where)
            if uid in self._uids or uid in wanted:
                raise UidTaken(f"uid {uid!r} was already used in mailbox {self.user!r}", field=where)
            wanted.add(uid)
        prepared = []
        for content, uid in items:
            prepared.append((content, uid, summarize(content)))
        stored = []
        now = time.time()
        for content, uid, summary in prepared:
            message_id = secrets.token_hex(8)
            while message_id in self._uids or message_id in wanted:  # pragma: no cover - 64 random bits
                message_id = secrets.token_hex(8)
            message = Message(message_id, uid or message_id, StuffedBody.stuff(content), summary, now)
            self._uids.add(message.uid)
            self._uids.add(message_id)
            self.messages[message_id] = message
            stored.append(message)
        self._snapshot = None
        return stored

    def get(self, message_id: str) -> Message:
        try:
            return self.messages[message_id]
        except KeyError:
            raise MessageNotFound(f"no message {message_id!r} in mailbox {self.user!r}") from None

    def remove(self, ids: Iterable[str]) -> int:
        """Delete the messages with these ids that are still here; return how many went."""
        removed = 0
        for message_id in ids:
            if self.messages.pop(message_id, None) is not None:
                removed += 1
        if removed:
            self._snapshot = None
        return removed

    def purge(self) -> int:
        count = len(self.messages)
        self.messages.clear()
        self._snapshot = None
        return count

    def snapshot(self) -> tuple[Message, ...]:
        """The messages in order, as one immutable tuple shared until the mailbox changes."""
        if self._snapshot is None:
            self._snapshot = tuple(self.messages.values())
        return self._snapshot

    def __contains__(self, message: Message) -> bool:
        return self.messages.get(message.id) is message


class Store:
    """The mailboxes of one tenant, by user name."""

    def __init__(self) -> None:
        self._mailboxes: dict[str, Mailbox] = {}

    def __len__(self) -> int:
        return len(self._mailboxes)

    def __iter__(self) -> Iterator[Mailbox]:
        return iter(list(self._mailboxes.values()))

    def put(self, user: str, password: str) -> tuple[Mailbox, bool]:
        """Create the mailbox, or change its password; return it and whether it was created."""
        mailbox = self._mailboxes.get(user)
        if mailbox is None:
            mailbox = self._mailboxes[user] = Mailbox(user, password)
            return mailbox, True
        mailbox.password = password
        return mailbox, False

    def find(self, user: str) -> Mailbox | None:
        return self._mailboxes.get(user)

    def get(self, user: str) -> Mailbox:
        mailbox = self._mailboxes.get(user)
        if mailbox is None:
            raise MailboxNotFound(f"no mailbox {user!r} in this tenant", field="user")
        return mailbox

    def delete(self, user: str) -> Mailbox:
        mailbox = self.get(user)
        del self._mailboxes[user]
        # Sessions still open on it see every message as gone, and their QUIT changes nothing.
        mailbox.purge()
        return mailbox
