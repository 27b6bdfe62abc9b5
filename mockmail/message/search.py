"""Finding messages by what they say: the filters of the long-poll and of search.

Every filter is a case-insensitive substring match (`str.casefold`, so `STRASSE` finds `Straße`) in which
a run of white space counts as one space (a subject folded over two lines, a text wrapped at 72 columns):
- `subject`: the Subject field, decoded (RFC 2047);
- `sender`: the From field, or the SMTP envelope's MAIL FROM;
- `to`: the To or Cc field, or one of the envelope's RCPT TO (a Bcc recipient is only there);
- `text`: the text/plain body, or the text the text/html body shows (tags gone, entities decoded);
- `q`: search terms, split on white space, each found in one of the above.
A message matches when every filter given matches; a filter given as only white space matches anything.

The bodies are decoded once per message object and kept as long as it lives (a weak cache, as POP3 keeps
its wire text in `mockmail.server.maildrop`): a long-poll looks at every message again on each arrival.
"""

from __future__ import annotations

import email.parser
import email.policy
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from ..store import INBOX, Mailbox, Message
from .headers import header_block, raw_fields
from .links import html_text
from .mime import bodies

__all__ = ["FILTER_NAMES", "MessageFilter"]

FILTER_NAMES = ("subject", "sender", "to", "text", "q")
"""The filters, by the names the API and the clients give them."""

_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.default)
_RECIPIENT_FIELDS = ("to", "cc")


def _folded(value: str) -> str:
    """`value` as the filters compare it: white space runs made one space, case folded."""
    return " ".join(value.split()).casefold()


@dataclass(slots=True)
class _Read:
    """What a message yields once decoded, kept with it (see the module doc)."""

    recipients: tuple[str, ...] | None = None
    texts: tuple[str, ...] | None = None


_READ: weakref.WeakKeyDictionary[Message, _Read] = weakref.WeakKeyDictionary()


def _read(message: Message) -> _Read:
    found = _READ.get(message)
    if found is None:
        found = _READ[message] = _Read()
    return found


def _recipient_fields(content: bytes) -> list[str]:
    block = header_block(content)
    try:
        parsed = _HEADERS.parsebytes(block)
        return [str(value) for name in _RECIPIENT_FIELDS for value in parsed.get_all(name, [])]
    except Exception:  # the email package fails on some malformed fields: read them raw
        return [value for name, value in raw_fields(block) if name.lower() in _RECIPIENT_FIELDS]


def _recipients(message: Message) -> tuple[str, ...]:
    read = _read(message)
    if read.recipients is None:
        envelope = message.envelope
        given = _recipient_fields(message.content) + (envelope.rcpt_to if envelope is not None else [])
        read.recipients = tuple(_folded(value) for value in given)
    return read.recipients


def _texts(message: Message) -> tuple[str, ...]:
    read = _read(message)
    if read.texts is None:
        text, html = bodies(message.content)
        shown = [text or "", html_text(html) if html else ""]
        read.texts = tuple(_folded(value) for value in shown if value)
    return read.texts


def _senders(message: Message) -> tuple[str, ...]:
    envelope = message.envelope
    sender = _folded(message.summary.sender)
    return (sender, _folded(envelope.mail_from)) if envelope is not None else (sender,)


def _in(needle: str, haystacks: Iterable[str]) -> bool:
    return any(needle in haystack for haystack in haystacks)


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Filters, each folded already (see the module doc); empty ones match anything.  Build with `of`."""

    subject: str = ""
    sender: str = ""
    to: str = ""
    text: str = ""
    terms: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        subject: str | None = None,
        sender: str | None = None,
        to: str | None = None,
        text: str | None = None,
        q: str | None = None,
    ) -> MessageFilter:
        return cls(
            subject=_folded(subject or ""),
            sender=_folded(sender or ""),
            to=_folded(to or ""),
            text=_folded(text or ""),
            terms=tuple(_folded(q or "").split()),
        )

    def __bool__(self) -> bool:
        """Whether any filter is set (an empty filter lets every message through)."""
        return bool(self.subject or self.sender or self.to or self.text or self.terms)

    def matches(self, message: Message) -> bool:
        """Whether `message` passes every filter; the headers are looked at before the bodies are decoded."""
        if self.subject and self.subject not in _folded(message.summary.subject):
            return False
        if self.sender and not _in(self.sender, _senders(message)):
            return False
        if self.to and not _in(self.to, _recipients(message)):
            return False
        if self.text and not _in(self.text, _texts(message)):
            return False
        return all(self._found(term, message) for term in self.terms)

    @staticmethod
    def _found(term: str, message: Message) -> bool:
        if term in _folded(message.summary.subject) or _in(term, _senders(message)):
            return True
        return _in(term, _recipients(message)) or _in(term, _texts(message))

    def select(self, messages: Iterable[Message], judged: dict[str, bool] | None = None) -> list[Message]:
        """The messages that match, in their order.

        `judged` keeps each verdict by message id, so a long-poll that looks at one mailbox again on every
        arrival decodes each message once, even from a persistent store, whose message objects are new
        on each listing (a mailbox never reuses an id).
        """
        if not self:
            return list(messages)
        if judged is None:
            return [message for message in messages if self.matches(message)]
        found = []
        for message in messages:
            verdict = judged.get(message.id)
            if verdict is None:
                verdict = judged[message.id] = self.matches(message)
            if verdict:
                found.append(message)
        return found

    def count(self, mailbox: Mailbox, folder: str = INBOX, judged: dict[str, bool] | None = None) -> int:
        """How many of the folder's messages match (without a filter, its count: no listing).

        Raises:
            FolderNotFound: the mailbox has no such folder.
        """
        return len(self.select(mailbox.listing(folder), judged)) if self else mailbox.folder(folder).messages
