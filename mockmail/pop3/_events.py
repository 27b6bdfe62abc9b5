"""Events of the POP3 core: what a client sends (commands) and what the server answers (replies).

Commands are named for their RFC 1939/2449/2595/5034 verb in CapWords (`Retr`, `Uidl`, `Stls`).  They are
frozen and slotted; the parser builds them only from lines it has validated, so a `Retr` always holds a
positive message number.  A line the parser cannot accept becomes a `BadCommand`, which is an event, not an
exception: the adapter answers `-ERR` and the session goes on.

Replies are semantic (`ScanListing`, `DropStat`, ...) rather than pre-formatted text, so that the writer is
the one place that renders numbers, CRLF and dot-stuffing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ._body import StuffedBody

__all__ = [
    "NEED_DATA",
    "Apop",
    "Auth",
    "BadCommand",
    "Capa",
    "Command",
    "ConnectionClosed",
    "Continue",
    "Dele",
    "DropStat",
    "Err",
    "Event",
    "Goodbye",
    "Greeting",
    "List",
    "Listing",
    "LoggedIn",
    "MessageContent",
    "NeedData",
    "Noop",
    "Ok",
    "Pass",
    "Quit",
    "Reply",
    "Retr",
    "Rset",
    "SaslResponse",
    "ScanLine",
    "ScanListing",
    "Stat",
    "Stls",
    "TlsReady",
    "Top",
    "UidLine",
    "UidListing",
    "Uidl",
    "User",
]


# --- commands (client -> server) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """Base of every POP3 command; `verb` is the RFC spelling."""

    verb: ClassVar[str] = ""


@dataclass(frozen=True, slots=True)
class User(Command):
    """RFC 1939 section 7: `USER name`."""

    verb: ClassVar[str] = "USER"
    name: str


@dataclass(frozen=True, slots=True)
class Pass(Command):
    """RFC 1939 section 7: `PASS string`; the string is the rest of the line, spaces included."""

    verb: ClassVar[str] = "PASS"
    password: str


@dataclass(frozen=True, slots=True)
class Apop(Command):
    """RFC 1939 section 7: `APOP name digest`, digest = MD5(timestamp + secret) in lower-case hex."""

    verb: ClassVar[str] = "APOP"
    name: str
    digest: str


@dataclass(frozen=True, slots=True)
class Auth(Command):
    """RFC 5034: `AUTH mechanism [initial-response]`; a bare `AUTH` asks for the mechanism list."""

    verb: ClassVar[str] = "AUTH"
    mechanism: str | None
    initial_response: str | None = None


@dataclass(frozen=True, slots=True)
class Capa(Command):
    """RFC 2449 section 5: `CAPA`."""

    verb: ClassVar[str] = "CAPA"


@dataclass(frozen=True, slots=True)
class Stls(Command):
    """RFC 2595 section 4: `STLS`."""

    verb: ClassVar[str] = "STLS"


@dataclass(frozen=True, slots=True)
class Quit(Command):
    """RFC 1939 sections 4 and 6: `QUIT`."""

    verb: ClassVar[str] = "QUIT"


@dataclass(frozen=True, slots=True)
class Stat(Command):
    """RFC 1939 section 5: `STAT`."""

    verb: ClassVar[str] = "STAT"


@dataclass(frozen=True, slots=True)
class List(Command):
    """RFC 1939 section 5: `LIST [msg]`."""

    verb: ClassVar[str] = "LIST"
    msg: int | None = None


@dataclass(frozen=True, slots=True)
class Retr(Command):
    """RFC 1939 section 5: `RETR msg`."""

    verb: ClassVar[str] = "RETR"
    msg: int


@dataclass(frozen=True, slots=True)
class Dele(Command):
    """RFC 1939 section 5: `DELE msg`."""

    verb: ClassVar[str] = "DELE"
    msg: int


@dataclass(frozen=True, slots=True)
class Noop(Command):
    """RFC 1939 section 5: `NOOP`."""

    verb: ClassVar[str] = "NOOP"


@dataclass(frozen=True, slots=True)
class Rset(Command):
    """RFC 1939 section 5: `RSET`."""

    verb: ClassVar[str] = "RSET"


@dataclass(frozen=True, slots=True)
class Top(Command):
    """RFC 1939 section 7: `TOP msg n`."""

    verb: ClassVar[str] = "TOP"
    msg: int
    lines: int


@dataclass(frozen=True, slots=True)
class Uidl(Command):
    """RFC 1939 section 7: `UIDL [msg]`."""

    verb: ClassVar[str] = "UIDL"
    msg: int | None = None


# --- other client-side events --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SaslResponse:
    """One client line during an AUTH exchange (RFC 5034 section 4): base64 data, or `*` to cancel."""

    data: str

    @property
    def cancelled(self) -> bool:
        return self.data == "*"


@dataclass(frozen=True, slots=True)
class BadCommand:
    """A line that is not a command this state accepts; `reason` is the text for the `-ERR` reply."""

    reason: str
    verb: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed its sending side (end of file)."""


class NeedData:
    """Sentinel type: no complete line is buffered yet."""

    _instance: ClassVar[NeedData | None] = None

    def __new__(cls) -> NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = NeedData()

Event = Command | SaslResponse | BadCommand | ConnectionClosed


# --- replies (server -> client) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """Base of every reply."""


@dataclass(frozen=True, slots=True)
class Greeting(Reply):
    """The `+OK` line sent on connect; `timestamp` is the APOP `<...@host>` challenge."""

    text: str
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class Ok(Reply):
    """A single-line `+OK`."""

    text: str = ""


@dataclass(frozen=True, slots=True)
class Err(Reply):
    """A single-line `-ERR`, optionally with an RFC 2449 response code (`IN-USE`, `AUTH`, `SYS/TEMP`)."""

    text: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedIn(Ok):
    """`+OK` to a successful USER/PASS, APOP or AUTH: the session enters TRANSACTION."""


@dataclass(frozen=True, slots=True)
class Goodbye(Ok):
    """`+OK` to QUIT: the session ends after this line."""


@dataclass(frozen=True, slots=True)
class TlsReady(Ok):
    """`+OK` to STLS: the next bytes on the wire are a TLS handshake."""


@dataclass(frozen=True, slots=True)
class Continue(Reply):
    """`+ data`: a SASL server challenge (base64, possibly empty)."""

    data: str = ""


@dataclass(frozen=True, slots=True)
class Listing(Reply):
    """A multi-line `+OK` of text lines: CAPA, the AUTH mechanism list."""

    text: str
    lines: Sequence[str]


@dataclass(frozen=True, slots=True)
class DropStat(Reply):
    """`+OK count octets` (STAT)."""

    count: int
    octets: int


@dataclass(frozen=True, slots=True)
class ScanLine(Reply):
    """`+OK msg octets` (LIST msg)."""

    msg: int
    octets: int


@dataclass(frozen=True, slots=True)
class ScanListing(Reply):
    """Multi-line LIST: a header counting the messages and octets, then one `msg octets` line each."""

    entries: Sequence[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class UidLine(Reply):
    """`+OK msg uid` (UIDL msg)."""

    msg: int
    uid: str


@dataclass(frozen=True, slots=True)
class UidListing(Reply):
    """Multi-line UIDL: one `msg uid` line each."""

    entries: Sequence[tuple[int, str]]


@dataclass(frozen=True, slots=True)
class MessageContent(Reply):
    """Multi-line RETR/TOP: the status text and the message body, already in its stuffed wire form."""

    text: str
    body: StuffedBody
