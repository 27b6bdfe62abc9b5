"""`Message`, `Envelope` and the content rules every store keeps.

- Content is stored CRLF-normalized and ending in CRLF (`normalize_crlf`); a message's size is the exact
  octet count of that content, which is what POP3 reports before dot-stuffing (RFC 1939 section 5).
- A message is immutable once stored.  Protocol-specific forms of it (POP3's dot-stuffed wire text) are
  caches kept by that protocol's side, keyed by the message object, never fields of it.
- UIDs are RFC 1939 section 7 unique-ids: 1 to 70 characters in 0x21..0x7E.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Protocol

import msgspec

from ..errors import InvalidInput
from ..message.headers import HeaderSummary

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

Via = Literal["api", "config", "smtp"]
"""How a message arrived: seeded over REST, from the TOML config, or sent over SMTP."""


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


_UNREAD: Any = object()


class Message:
    """One stored message; never mutate it (sessions share it by reference).

    A message of the memory store carries everything.  One of a persistent store carries its id, UID, size
    and arrival, and reads its content (and, unless listed with them, its summary and envelope) from the
    store on each use: the store holds the octets, not Python objects (`resident` is False).
    """

    __slots__ = (
        "__weakref__",
        "_content",
        "_envelope",
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
    ) -> None:
        self.id = id
        self.uid = uid
        self._content: bytes | None = content
        self.size = len(content)
        """Octets of the CRLF-normalized content: what LIST, STAT and RETR report."""
        self._summary: HeaderSummary = summary
        self.created = created
        self.via: Via = via
        self._envelope: Envelope | None = envelope
        self._source: MessageSource | None = None
        self.key: int | None = None
        """The persistent store's own key for the message (None in memory)."""

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
        summary: HeaderSummary | None = None,
        envelope: Envelope | None = None,
    ) -> Message:
        """A message whose content stays in `source`; without `summary`, the details are read on use."""
        message = cls.__new__(cls)
        message.id, message.uid, message.size, message.created, message.via = id, uid, size, created, via
        message._content = None
        message._summary = summary if summary is not None else _UNREAD
        message._envelope = envelope if summary is not None else _UNREAD
        message._source, message.key = source, key
        return message

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

    def __repr__(self) -> str:
        return f"Message(id={self.id!r}, uid={self.uid!r}, size={self.size:d}, via={self.via!r})"
