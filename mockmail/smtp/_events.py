"""SMTP events: the commands a client sends (RFC 5321 section 4.1 and the extensions), and the replies.

Commands are frozen, slotted dataclasses named for their RFC verb in CapWords; each carries its verb as a
class attribute, as the transcripts and the fault plans name it.  The message content that DATA's final
dot ends is an event of its own, `MessageData` (verb `DATA-END`), as is each BDAT chunk (`Bdat`).

A reply is one `Reply(code, lines, enhanced)`: the writer renders it as RFC 5321 section 4.2 wants
(`250-` continuation lines, the last with a space) with the RFC 3463 enhanced code on every line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

__all__ = [
    "NEED_DATA",
    "Auth",
    "AuthResponse",
    "BadCommand",
    "Bdat",
    "Command",
    "ConnectionClosed",
    "Data",
    "Ehlo",
    "Event",
    "Helo",
    "Help",
    "Mail",
    "MessageData",
    "NeedData",
    "Noop",
    "Quit",
    "Rcpt",
    "Reply",
    "Rset",
    "StartTls",
    "TlsReady",
    "Vrfy",
]


@dataclass(frozen=True, slots=True)
class Command:
    """Base of every client command."""

    verb: ClassVar[str] = "?"


@dataclass(frozen=True, slots=True)
class Ehlo(Command):
    """RFC 5321 section 4.1.1.1: `EHLO domain`, asks for the extensions."""

    verb: ClassVar[str] = "EHLO"
    domain: str


@dataclass(frozen=True, slots=True)
class Helo(Command):
    """RFC 5321 section 4.1.1.1: `HELO domain`, no extensions."""

    verb: ClassVar[str] = "HELO"
    domain: str


@dataclass(frozen=True, slots=True)
class Mail(Command):
    """`MAIL FROM:<reverse-path> [params]`; the path without brackets, empty for the null sender."""

    verb: ClassVar[str] = "MAIL"
    address: str
    params: dict[str, str | None] = field(default_factory=dict)
    """ESMTP parameters by upper-case keyword (`SIZE`, `BODY`, `SMTPUTF8`, `AUTH`)."""


@dataclass(frozen=True, slots=True)
class Rcpt(Command):
    """`RCPT TO:<forward-path> [params]`."""

    verb: ClassVar[str] = "RCPT"
    address: str
    params: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Data(Command):
    """RFC 5321 section 4.1.1.4: `DATA`; the content follows a 354 reply."""

    verb: ClassVar[str] = "DATA"


@dataclass(frozen=True, slots=True)
class MessageData(Command):
    """The content DATA's final `CRLF.CRLF` ended, dot-unstuffed (RFC 5321 section 4.5.2).

    When the content broke a limit it is not kept (`content` is empty) and `problem` says which:
    `too-large` (over the size limit) or `line-too-long` (a text line over 1,000 octets).  `content` may
    be a memoryview of the core's buffer (a 1 MiB message is then copied once, into what is stored);
    it is never changed after the event is returned.
    """

    verb: ClassVar[str] = "DATA-END"
    content: bytes | memoryview
    size: int
    """Octets received, as sent on the wire before unstuffing (counted even when not kept)."""
    problem: str | None = None
    bare_line_ends: bool = False
    """The content holds a CR or LF that is not part of a CRLF (RFC 5321 section 2.3.8 forbids them;
    the store keeps content CRLF-normalized).  False means every line already ends in CRLF."""


@dataclass(frozen=True, slots=True)
class Bdat(Command):
    """RFC 3030: `BDAT size [LAST]` with its chunk, read whole (`data` is empty once over the limit)."""

    verb: ClassVar[str] = "BDAT"
    size: int
    last: bool
    data: bytes
    dropped: bool = False
    """The chunk was read but not kept: the message went over the size limit."""


@dataclass(frozen=True, slots=True)
class Rset(Command):
    verb: ClassVar[str] = "RSET"


@dataclass(frozen=True, slots=True)
class Noop(Command):
    verb: ClassVar[str] = "NOOP"


@dataclass(frozen=True, slots=True)
class Quit(Command):
    verb: ClassVar[str] = "QUIT"


@dataclass(frozen=True, slots=True)
class Vrfy(Command):
    """RFC 5321 section 4.1.1.6; answered 252 (section 3.5.3: we will not verify, but will accept)."""

    verb: ClassVar[str] = "VRFY"
    argument: str


@dataclass(frozen=True, slots=True)
class Help(Command):
    verb: ClassVar[str] = "HELP"
    argument: str = ""


@dataclass(frozen=True, slots=True)
class StartTls(Command):
    """RFC 3207: `STARTTLS`; after the 220 reply the TLS handshake begins."""

    verb: ClassVar[str] = "STARTTLS"


@dataclass(frozen=True, slots=True)
class Auth(Command):
    """RFC 4954: `AUTH mechanism [initial-response]`."""

    verb: ClassVar[str] = "AUTH"
    mechanism: str
    initial_response: str | None = None


@dataclass(frozen=True, slots=True)
class AuthResponse:
    """A client line during an AUTH exchange: base64 data, or `*` to cancel (RFC 4954 section 4)."""

    verb: ClassVar[str] = "AUTH"
    data: str
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class BadCommand:
    """A line that is not an acceptable command here: answered with `code enhanced reason`."""

    reason: str
    code: int = 500
    enhanced: str = "5.5.1"
    verb: str = "?"
    """The verb as typed, when one could be read (so a fault plan or transcript can name it)."""


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed its sending side (end of file)."""


class NeedData:
    """Sentinel type: more bytes are needed before the next event."""

    _instance: ClassVar[NeedData | None] = None

    def __new__(cls) -> NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = NeedData()

Event = Command | AuthResponse | BadCommand | ConnectionClosed
"""What `next_event` yields besides `NEED_DATA` (every command class derives from `Command`)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One SMTP reply: a three-digit code, its text lines, and the RFC 3463 enhanced code (or None)."""

    code: int
    lines: Sequence[str] = ("",)
    enhanced: str | None = None

    @classmethod
    def of(cls, code: int, enhanced: str | None, *lines: str) -> Reply:
        return cls(code, lines or ("",), enhanced)


@dataclass(frozen=True, slots=True)
class TlsReady(Reply):
    """The 220 reply to STARTTLS: once it is out, the TLS handshake begins (RFC 3207 section 4)."""

    code: int = 220
    lines: Sequence[str] = ("Ready to start TLS",)
    enhanced: str | None = "2.0.0"
