"""Events of the IMAP core: the commands a client sends, and the events that frame them.

Commands are named for their RFC verb in CapWords (`Fetch`, `Uid`-prefixed ones are the same class with
`uid=True`), frozen and slotted, keyword-only, and every one carries the client's `tag`.  The parser
builds them only from input it has validated: a `Fetch` always holds a parsed sequence set, a mailbox name
is always Unicode (decoded from modified UTF-7 for rev1 clients; `INBOX` in any case is `INBOX`).

A command the parser cannot accept becomes a `BadCommand` (with the tag, or `*` when none could be read),
an event, not an exception: the adapter answers `tag BAD reason` and the session goes on.  The other
events frame a command: `ContinuationNeeded` (send `+` before a synchronizing literal),
`LiteralTooLarge` (answer `NO [TOOBIG]`), `AuthenticateResponse` (a line of an AUTHENTICATE exchange),
`IdleDone`, and `ConnectionClosed`.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import ClassVar

from ._fetch import FetchAttribute
from ._search import SearchKey
from ._sequence import SequenceSet

__all__ = [
    "NEED_DATA",
    "Append",
    "Authenticate",
    "AuthenticateResponse",
    "BadCommand",
    "Capability",
    "Check",
    "Close",
    "Command",
    "ConnectionClosed",
    "ContinuationNeeded",
    "Copy",
    "Create",
    "Delete",
    "Enable",
    "Event",
    "Examine",
    "Expunge",
    "Fetch",
    "Id",
    "Idle",
    "IdleDone",
    "List",
    "LiteralTooLarge",
    "Login",
    "Logout",
    "Lsub",
    "Move",
    "Namespace",
    "NeedData",
    "Noop",
    "Rename",
    "Search",
    "Select",
    "Sort",
    "SortKey",
    "StartTls",
    "Status",
    "Store",
    "StoreMode",
    "Subscribe",
    "Unselect",
    "Unsubscribe",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """Base of every IMAP command; `verb` is the RFC spelling (without the UID prefix)."""

    verb: ClassVar[str] = ""
    tag: str


# --- any state ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Capability(Command):
    verb: ClassVar[str] = "CAPABILITY"


@dataclass(frozen=True, slots=True, kw_only=True)
class Noop(Command):
    verb: ClassVar[str] = "NOOP"


@dataclass(frozen=True, slots=True, kw_only=True)
class Logout(Command):
    verb: ClassVar[str] = "LOGOUT"


@dataclass(frozen=True, slots=True, kw_only=True)
class Id(Command):
    """RFC 2971: `ID ("name" "value" ...)` or `ID NIL`; field names as sent (they are case-insensitive)."""

    verb: ClassVar[str] = "ID"
    parameters: tuple[tuple[str, str | None], ...] | None


# --- not authenticated -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTls(Command):
    verb: ClassVar[str] = "STARTTLS"


@dataclass(frozen=True, slots=True, kw_only=True)
class Authenticate(Command):
    """`AUTHENTICATE mechanism [initial-response]` (RFC 4959 SASL-IR); `=` stands for an empty response."""

    verb: ClassVar[str] = "AUTHENTICATE"
    mechanism: str
    initial_response: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Login(Command):
    verb: ClassVar[str] = "LOGIN"
    user: str
    password: str


# --- authenticated -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Enable(Command):
    """RFC 5161: capability names, upper-cased."""

    verb: ClassVar[str] = "ENABLE"
    capabilities: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Select(Command):
    """`SELECT mailbox [(parameters)]`; parameter names upper-cased (`CONDSTORE`), values as sent."""

    verb: ClassVar[str] = "SELECT"
    mailbox: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Examine(Command):
    verb: ClassVar[str] = "EXAMINE"
    mailbox: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Create(Command):
    """`CREATE mailbox [(USE (\\Sent ...))]` (RFC 6154 section 3)."""

    verb: ClassVar[str] = "CREATE"
    mailbox: str
    special_use: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Delete(Command):
    verb: ClassVar[str] = "DELETE"
    mailbox: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rename(Command):
    verb: ClassVar[str] = "RENAME"
    mailbox: str
    new_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe(Command):
    verb: ClassVar[str] = "SUBSCRIBE"
    mailbox: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe(Command):
    verb: ClassVar[str] = "UNSUBSCRIBE"
    mailbox: str


@dataclass(frozen=True, slots=True, kw_only=True)
class List(Command):
    """LIST, basic and extended (RFC 5258, RFC 6154, RFC 5819).

    `selection` holds the selection options (SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE),
    `return_options` the return options (SUBSCRIBED, CHILDREN, SPECIAL-USE, STATUS) and
    `status_items` the items of RETURN (STATUS (...)), all upper-cased.  `extended` is True when the
    client used any extended syntax (then the server answers in the extended form).
    """

    verb: ClassVar[str] = "LIST"
    reference: str
    patterns: tuple[str, ...]
    selection: tuple[str, ...] = ()
    return_options: tuple[str, ...] = ()
    status_items: tuple[str, ...] = ()
    extended: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Lsub(Command):
    verb: ClassVar[str] = "LSUB"
    reference: str
    pattern: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Namespace(Command):
    verb: ClassVar[str] = "NAMESPACE"


@dataclass(frozen=True, slots=True, kw_only=True)
class Status(Command):
    """`STATUS mailbox (items)`: MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT ..., upper-cased."""

    verb: ClassVar[str] = "STATUS"
    mailbox: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Append(Command):
    """`APPEND mailbox [(flags)] ["date-time"] literal`; `binary` when the message came as `~{n}`."""

    verb: ClassVar[str] = "APPEND"
    mailbox: str
    flags: tuple[str, ...] = ()
    internal_date: datetime.datetime | None = None
    message: bytes
    binary: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Idle(Command):
    """RFC 2177: answer with a continuation, then the client's `DONE` line arrives as `IdleDone`."""

    verb: ClassVar[str] = "IDLE"


# --- selected ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Check(Command):
    verb: ClassVar[str] = "CHECK"


@dataclass(frozen=True, slots=True, kw_only=True)
class Close(Command):
    verb: ClassVar[str] = "CLOSE"


@dataclass(frozen=True, slots=True, kw_only=True)
class Unselect(Command):
    verb: ClassVar[str] = "UNSELECT"


@dataclass(frozen=True, slots=True, kw_only=True)
class Expunge(Command):
    """EXPUNGE, or `UID EXPUNGE uid-set` (RFC 4315) with `uids` set."""

    verb: ClassVar[str] = "EXPUNGE"
    uids: SequenceSet | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Search(Command):
    """[UID] SEARCH [RETURN (...)] [CHARSET x] keys.

    `return_options` is None for a plain SEARCH (answered with `* SEARCH`); a tuple (maybe empty, which
    means ALL) asks for an ESEARCH answer (RFC 4731 / RFC 9051): MIN MAX ALL COUNT SAVE.
    """

    verb: ClassVar[str] = "SEARCH"
    criteria: SearchKey
    charset: str | None = None
    return_options: tuple[str, ...] | None = None
    uid: bool = False


class SortKey(enum.Enum):
    """RFC 5256 sort keys (and RFC 5957 DISPLAYFROM / DISPLAYTO)."""

    ARRIVAL = "ARRIVAL"
    CC = "CC"
    DATE = "DATE"
    FROM = "FROM"
    SIZE = "SIZE"
    SUBJECT = "SUBJECT"
    TO = "TO"
    DISPLAYFROM = "DISPLAYFROM"
    DISPLAYTO = "DISPLAYTO"


@dataclass(frozen=True, slots=True, kw_only=True)
class Sort(Command):
    """[UID] SORT (criteria) charset keys (RFC 5256); each criterion is (key, reverse)."""

    verb: ClassVar[str] = "SORT"
    criteria: tuple[tuple[SortKey, bool], ...]
    charset: str
    search: SearchKey
    uid: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetch(Command):
    """[UID] FETCH set items [(CHANGEDSINCE n)]."""

    verb: ClassVar[str] = "FETCH"
    sequence_set: SequenceSet
    items: tuple[FetchAttribute, ...]
    uid: bool = False
    changed_since: int | None = None


class StoreMode(enum.Enum):
    REPLACE = "FLAGS"
    ADD = "+FLAGS"
    REMOVE = "-FLAGS"


@dataclass(frozen=True, slots=True, kw_only=True)
class Store(Command):
    """[UID] STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags."""

    verb: ClassVar[str] = "STORE"
    sequence_set: SequenceSet
    mode: StoreMode
    flags: tuple[str, ...]
    silent: bool = False
    uid: bool = False
    unchanged_since: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Copy(Command):
    verb: ClassVar[str] = "COPY"
    sequence_set: SequenceSet
    mailbox: str
    uid: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Move(Command):
    """RFC 6851 / RFC 9051 section 6.4.8."""

    verb: ClassVar[str] = "MOVE"
    sequence_set: SequenceSet
    mailbox: str
    uid: bool = False


# --- framing events ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadCommand:
    """Input that is not an acceptable command here; answer `tag BAD reason` (`*` when no tag was read)."""

    tag: str
    reason: str
    verb: str | None = None
    """The verb as typed (upper-cased), when one could be read."""


@dataclass(frozen=True, slots=True)
class ContinuationNeeded:
    """A synchronizing literal `{size}` was announced: send a continuation (`+ Ready`), or refuse the
    command with a tagged NO/BAD (then the client sends no octets and the command is over)."""

    tag: str
    verb: str | None
    size: int


@dataclass(frozen=True, slots=True)
class LiteralTooLarge:
    """A literal over the limit (APPENDLIMIT for APPEND): answer `tag NO [TOOBIG]`.

    For a synchronizing literal this comes before any of it is read (the client waits and sends
    nothing).  For a non-synchronizing one (`{n+}`) the client sent the octets anyway: they and the rest
    of the command were skipped, unstored, before this event.
    """

    tag: str
    verb: str | None
    size: int
    limit: int
    synchronizing: bool


@dataclass(frozen=True, slots=True)
class AuthenticateResponse:
    """One client line of an AUTHENTICATE exchange (base64, or `*` to cancel: RFC 9051 section 6.2.2)."""

    data: str

    @property
    def cancelled(self) -> bool:
        return self.data == "*"


@dataclass(frozen=True, slots=True)
class IdleDone:
    """The client's `DONE` line ending IDLE; answer with the tagged OK for the IDLE command."""


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed its sending side (end of file)."""


class NeedData:
    """Sentinel type: no complete event is buffered yet."""

    _instance: ClassVar[NeedData | None] = None

    def __new__(cls) -> NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = NeedData()

Event = (
    Command
    | BadCommand
    | ContinuationNeeded
    | LiteralTooLarge
    | AuthenticateResponse
    | IdleDone
    | ConnectionClosed
)
