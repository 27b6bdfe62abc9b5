"""`Message`, `Envelope` and the content rules every store keeps.

- Content is stored CRLF-normalized and ending in CRLF (`normalize_crlf`); a message's size is the exact
  octet count of that content, which is what POP3 reports before dot-stuffing (RFC 1939 section 5).
- A message object is immutable.  What can change of a stored message (its flags, its folder and IMAP UID
  when moved) changes in the store, which hands out a new object (`replaced`) with the same `key`.
  Protocol-specific forms of it (POP3's dot-stuffed wire text) are caches kept by that protocol's side,
  keyed by the message object, never fields of it.
- `uid` is the RFC 1939 section 7 unique-id (POP3 UIDL, the REST `uid`): 1 to 70 characters in 0x21..0x7E,
  unique in the mailbox.  `imap_uid` is the RFC 9051 section 2.3.1.1 UID: a number unique in its folder.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Literal, Protocol

import msgspec

from ..errors import InvalidInput
from ..message.headers import HeaderSummary
from .folders import INBOX, NO_FLAGS, parse_flags

__all__ = [
    "UID_PATTERN",
    "Envelope",
    "Message",
    "MessageSource",
    "Via",
    "check_uid",
    "normalize_crlf",
]

UID_PATTERN = r"^[\x21-\x7e]{1,70}(?!\n)$"
"""RFC 1939 section 7: a unique-id is 1 to 70 characters in the range 0x21 to 0x7E."""
_UID_RE = re.compile(UID_PATTERN)
_LINE_BREAKS = re.compile(rb"\r\n|\r|\n")

Via = Literal["api", "config", "smtp", "imap"]
"""How a message arrived: seeded over REST, from the TOML config, sent over SMTP, or appended over IMAP."""


def check_uid(uid: str, field: str) -> str:
    """`uid` itself, if it is a well-formed RFC 1939 unique-id.

    Raises:
        InvalidInput: it is not; `field` names where it came from.
    """
    if not _UID_RE.match(uid):
        raise InvalidInput(f"uid {uid!r} is not 1 to 70 printable ASCII characters", field=field)
    return uid


def normalize_crlf(data: bytes) -> bytes:
    """Turn every CR, LF or CRLF into CRLF and make sure a non-empty text ends with CRLF.

    Text that is already CRLF throughout comes back as it is, found by counting (no copy): a 10 MiB
    message costs 16 ms to check against 68 ms to rewrite.
    """
    crlf, lf, cr = data.count(b"\r\n"), data.count(b"\n"), data.count(b"\r")
    if not (crlf == lf == cr):
        # LF only, as on a Unix disk: a plain replace is several times faster than the regex.
        data = data.replace(b"\n", b"\r\n") if cr == 0 else _LINE_BREAKS.sub(b"\r\n", data)
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


class Envelope(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The SMTP envelope a message arrived with (RFC 5321 section 2.3.1), and the session it came in."""

    mail_from: str
    """The reverse-path of MAIL FROM, without angle brackets; empty for the null sender `<>`."""
    rcpt_to: list[str]
    """Every forward-path the transaction accepted, in order."""
    peer: str
    """The client's address, `host:port`."""
    helo: str
    """The name the client gave in EHLO or HELO."""
    tls: bool
    """Whether the session was encrypted (STARTTLS or the implicit-TLS port)."""
    auth: str | None
    """The user the session authenticated as, or null."""


class MessageSource(Protocol):
    """Where a message that is not held in memory reads what it does not carry (a persistent store)."""

    def read_content(self, message: Message) -> bytes:
        """The message's CRLF content, read afresh (the store holds it, not the message)."""

    def read_details(self, message: Message) -> tuple[HeaderSummary, Envelope | None]:
        """The message's header summary and envelope."""

    def read_place(self, message: Message) -> tuple[str, int, str, float]:
        """The message's folder, IMAP UID, flags (`flags_text`) and INTERNALDATE, as they are now."""


_UNREAD: Any = object()
_keys = itertools.count(1)


class Message:
    """One stored message; never mutate it (sessions share it by reference).

    A message of the memory store carries everything.  One of a persistent store carries its id, UIDs,
    size, folder, flags and dates, and reads its content (and, unless listed with them, its summary and
    envelope) from the store on each use: the store holds the octets, not Python objects (`resident` is
    False).
    """

    __slots__ = (
        "__weakref__",
        "_content",
        "_envelope",
        "_flags",
        "_folder",
        "_imap_uid",
        "_internaldate",
        "_source",
        "_summary",
        "created",
        "id",
        "key",
        "size",
        "uid",
        "via",
    )

    def __init__(
        self,
        id: str,
        uid: str,
        content: bytes,
        summary: HeaderSummary,
        created: float,
        via: Via = "api",
        envelope: Envelope | None = None,
        folder: str = INBOX,
        imap_uid: int = 0,
        flags: frozenset[str] = NO_FLAGS,
        internaldate: float | None = None,
    ) -> None:
        self.id = id
        self.uid = uid
        self._content: bytes | None = content
        self.size = len(content)
        """Octets of the CRLF-normalized content: what LIST, STAT and RETR report (and IMAP's RFC822.SIZE)."""
        self._summary: HeaderSummary = summary
        self.created = created
        """When the message arrived in the mailbox (seconds since the epoch)."""
        self.via: Via = via
        self._envelope: Envelope | None = envelope
        self._source: MessageSource | None = None
        self._folder = folder
        self._imap_uid = imap_uid
        self._flags: frozenset[str] | str = flags
        self._internaldate = created if internaldate is None else internaldate
        """IMAP's INTERNALDATE (RFC 9051 section 2.3.3): the arrival, unless set by an APPEND."""
        self.key: int = next(_keys)
        """Which stored message this is: kept by its `replaced` versions (the persistent store's row key)."""

    @classmethod
    def stored(
        cls,
        source: MessageSource,
        key: int,
        id: str,
        uid: str,
        size: int,
        created: float,
        via: Via,
        folder: str,
        imap_uid: int,
        flags: str | frozenset[str],
        internaldate: float,
        summary: HeaderSummary | None = None,
        envelope: Envelope | None = None,
    ) -> Message:
        """A message whose content stays in `source`; without `summary`, the details are read on use.
        `flags` is the store's text (`flags_text`), made a set on first use."""
        message = cls.__new__(cls)
        message.id, message.uid, message.size, message.created, message.via = id, uid, size, created, via
        message._folder, message._imap_uid, message._flags, message._internaldate = (
            folder,
            imap_uid,
            flags,
            internaldate,
        )
        message._content = None
        message._summary = summary if summary is not None else _UNREAD
        message._envelope = envelope if summary is not None else _UNREAD
        message._source, message.key = source, key
        return message

    @classmethod
    def brief(
        cls, source: MessageSource, key: int, id: str, uid: str, size: int, created: float, via: Via
    ) -> Message:
        """A message as POP3's snapshot lists it: what POP3 uses, and the rest read on use (its folder,
        IMAP UID, flags and INTERNALDATE as they are then, its summary and envelope)."""
        message = cls.__new__(cls)
        message.id, message.uid, message.size, message.created, message.via = id, uid, size, created, via
        message._content = None
        message._summary = message._envelope = _UNREAD
        message._source, message.key = source, key
        return message

    def replaced(self, *, folder: str, imap_uid: int, flags: frozenset[str]) -> Message:
        """This stored message after a change of flags or folder: a new object, the same `key`."""
        internaldate = self.internaldate
        message = Message.__new__(Message)
        for name in _COPIED:
            setattr(message, name, getattr(self, name))
        message._folder, message._imap_uid, message._flags = folder, imap_uid, flags
        message._internaldate = internaldate
        return message

    def _place(self) -> None:
        assert self._source is not None
        self._folder, self._imap_uid, self._flags, self._internaldate = self._source.read_place(self)

    @property
    def folder(self) -> str:
        """The folder it is in."""
        try:
            return self._folder
        except AttributeError:  # listed by POP3's snapshot
            self._place()
            return self._folder

    @property
    def imap_uid(self) -> int:
        """The IMAP UID: rises strictly within `folder`, never reused there."""
        try:
            return self._imap_uid
        except AttributeError:
            self._place()
            return self._imap_uid

    @property
    def internaldate(self) -> float:
        """IMAP's INTERNALDATE (RFC 9051 section 2.3.3): the arrival, unless set by an APPEND."""
        try:
            return self._internaldate
        except AttributeError:
            self._place()
            return self._internaldate

    @property
    def flags(self) -> frozenset[str]:
        """System flags (`\\Seen`, ...) and keywords; `\\Recent` is a session's, not stored."""
        try:
            flags = self._flags
        except AttributeError:
            self._place()
            flags = self._flags
        if isinstance(flags, str):
            flags = self._flags = parse_flags(flags)
        return flags

    @property
    def resident(self) -> bool:
        """Whether the content is held by this object (the memory store), not read from a store."""
        return self._content is not None

    @property
    def content(self) -> bytes:
        """CRLF-normalized, ending in CRLF (or empty)."""
        if self._content is not None:
            return self._content
        assert self._source is not None
        return self._source.read_content(self)

    def _details(self) -> None:
        assert self._source is not None
        self._summary, self._envelope = self._source.read_details(self)

    @property
    def summary(self) -> HeaderSummary:
        if self._summary is _UNREAD:
            self._details()
        return self._summary

    @property
    def envelope(self) -> Envelope | None:
        """Null unless the message came over SMTP."""
        if self._envelope is _UNREAD:
            self._details()
        return self._envelope

    def __repr__(self) -> str:  # reads nothing from the store
        return (
            f"Message(id={self.id!r}, uid={self.uid!r}, size={self.size:d}, via={self.via!r},"
            f" folder={getattr(self, '_folder', '?')!r}, imap_uid={getattr(self, '_imap_uid', '?')!r})"
        )


_COPIED = tuple(
    name
    for name in Message.__slots__
    if name not in ("__weakref__", "_folder", "_imap_uid", "_flags", "_internaldate")
)
