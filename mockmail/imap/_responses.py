"""What the server sends: tagged completions, untagged data and status, continuations, response codes.

Responses are semantic (`StatusResponse(mailbox, items)`, `FetchResponse(number, items)`); the writer is
the one place that renders numbers, strings, mailbox names and CRLF.  Tagged completions (`Ok`, `No`,
`Bad`) carry no tag: the connection answers the command that is waiting, with its tag.

Values inside FETCH items, ESEARCH and response codes are plain Python data, rendered by type:
`None` is NIL, `int` a number, `str` and `bytes` a string (quoted when safe, else a literal), `Atom` an
atom, `Flags` a flag list, `Binary` a literal8 when it holds NUL, `datetime` a date-time, `SequenceSet`
a sequence set, and a tuple a parenthesised list.  ENVELOPE and BODYSTRUCTURE come from the message side
already written (`write_envelope`, `body_structure`) as `Rendered`: a multipart's bodies follow each other
with no space between them (`body-type-mpart = 1*body SP media-subtype`), which no tuple renders.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias, Union

from ._sequence import SequenceSet

__all__ = [
    "ALERT",
    "ALREADYEXISTS",
    "AUTHENTICATIONFAILED",
    "CANNOT",
    "CLIENTBUG",
    "CLOSED",
    "EXPUNGEISSUED",
    "INUSE",
    "LIMIT",
    "NONEXISTENT",
    "PRIVACYREQUIRED",
    "READ_ONLY",
    "READ_WRITE",
    "SERVERBUG",
    "TOOBIG",
    "TRYCREATE",
    "UNAVAILABLE",
    "Atom",
    "Bad",
    "Binary",
    "Bye",
    "CapabilityResponse",
    "Code",
    "Continuation",
    "EnabledResponse",
    "EsearchResponse",
    "ExistsResponse",
    "ExpungeResponse",
    "FetchResponse",
    "FetchRows",
    "Flags",
    "FlagsResponse",
    "Greeting",
    "IdResponse",
    "ListResponse",
    "LsubResponse",
    "NamespaceResponse",
    "No",
    "Ok",
    "RecentResponse",
    "Rendered",
    "Response",
    "SaslChallenge",
    "SearchResponse",
    "SortResponse",
    "StatusResponse",
    "Untagged",
    "Value",
    "append_uid",
    "bad_charset",
    "capability_code",
    "copy_uid",
    "permanent_flags",
    "uid_next",
    "uid_validity",
]


@dataclass(frozen=True, slots=True)
class Atom:
    """Text sent as an atom (validated by the writer): `NIL`-free keywords such as `UID` or `7BIT`."""

    text: str


@dataclass(frozen=True, slots=True)
class Flags:
    """A parenthesised flag list, `(\\Seen $Label)`; `\\*` is allowed (PERMANENTFLAGS)."""

    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Binary:
    """Content of a BINARY[...] item: a literal8 `~{n}` when it holds NUL, a literal otherwise."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Rendered:
    """A value already in IMAP syntax (ENVELOPE, BODYSTRUCTURE from the message side), written as it is."""

    data: bytes


Value: TypeAlias = Union[  # noqa: UP007 - a recursive alias needs the string form
    int, str, bytes, Atom, Flags, Binary, Rendered, datetime.datetime, SequenceSet, tuple["Value", ...], None
]


@dataclass(frozen=True, slots=True)
class Code:
    """A response code, `[NAME args]`: ints are numbers, sets are sequence sets, str atoms, tuples lists."""

    name: str
    args: tuple[int | str | SequenceSet | Flags | tuple[str, ...], ...] = ()


TOOBIG = Code("TOOBIG")
AUTHENTICATIONFAILED = Code("AUTHENTICATIONFAILED")
ALREADYEXISTS = Code("ALREADYEXISTS")
NONEXISTENT = Code("NONEXISTENT")
TRYCREATE = Code("TRYCREATE")
READ_WRITE = Code("READ-WRITE")
READ_ONLY = Code("READ-ONLY")
CLOSED = Code("CLOSED")
CANNOT = Code("CANNOT")
LIMIT = Code("LIMIT")
UNAVAILABLE = Code("UNAVAILABLE")
INUSE = Code("INUSE")
SERVERBUG = Code("SERVERBUG")
PRIVACYREQUIRED = Code("PRIVACYREQUIRED")
ALERT = Code("ALERT")
CLIENTBUG = Code("CLIENTBUG")
EXPUNGEISSUED = Code("EXPUNGEISSUED")


def uid_validity(value: int) -> Code:
    return Code("UIDVALIDITY", (value,))


def uid_next(value: int) -> Code:
    return Code("UIDNEXT", (value,))


def permanent_flags(flags: Sequence[str]) -> Code:
    return Code("PERMANENTFLAGS", (Flags(tuple(flags)),))


def append_uid(validity: int, uid: int) -> Code:
    """RFC 4315 section 3: `[APPENDUID uidvalidity uid]`."""
    return Code("APPENDUID", (validity, uid))


def copy_uid(validity: int, source: SequenceSet, destination: SequenceSet) -> Code:
    """RFC 4315 section 3: `[COPYUID uidvalidity source-uids destination-uids]`."""
    return Code("COPYUID", (validity, source, destination))


def capability_code(capabilities: Sequence[str]) -> Code:
    return Code("CAPABILITY", tuple(capabilities))


def bad_charset(charsets: Sequence[str]) -> Code:
    return Code("BADCHARSET", (tuple(charsets),))


# --- tagged completions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ok:
    """`tag OK [code] text`: the waiting command succeeded."""

    text: str = "completed"
    code: Code | None = None


@dataclass(frozen=True, slots=True)
class No:
    """`tag NO [code] text`: the waiting command failed."""

    text: str = "failed"
    code: Code | None = None


@dataclass(frozen=True, slots=True)
class Bad:
    """`tag BAD [code] text`: the waiting command (or BadCommand) was a protocol error."""

    text: str = "bad command"
    code: Code | None = None


# --- untagged status ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Greeting:
    """`* OK`, `* PREAUTH` (session starts authenticated) or `* BYE` (refused); sent once, first."""

    text: str = "ready"
    code: Code | None = None
    status: str = "OK"


@dataclass(frozen=True, slots=True)
class Untagged:
    """`* OK|NO|BAD [code] text`: status that completes no command (alerts, UIDVALIDITY, ...)."""

    status: str
    text: str
    code: Code | None = None


@dataclass(frozen=True, slots=True)
class Bye:
    """`* BYE [code] text`: the server is closing the connection."""

    text: str = "logging out"
    code: Code | None = None


@dataclass(frozen=True, slots=True)
class Continuation:
    """`+ text`: send the literal, or IDLE has started (RFC 9051 section 7.5)."""

    text: str = "Ready"


@dataclass(frozen=True, slots=True)
class SaslChallenge:
    """`+ base64`: a challenge of an AUTHENTICATE exchange (empty data sends `+ `)."""

    data: bytes = b""


# --- untagged data -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CapabilityResponse:
    capabilities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExistsResponse:
    count: int


@dataclass(frozen=True, slots=True)
class RecentResponse:
    count: int


@dataclass(frozen=True, slots=True)
class ExpungeResponse:
    number: int


@dataclass(frozen=True, slots=True)
class FlagsResponse:
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ListResponse:
    """`* LIST (attributes) "delimiter" mailbox [extended items]`; the name is encoded per session."""

    attributes: tuple[str, ...]
    delimiter: str | None
    mailbox: str
    extended: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True, slots=True)
class LsubResponse:
    attributes: tuple[str, ...]
    delimiter: str | None
    mailbox: str


@dataclass(frozen=True, slots=True)
class StatusResponse:
    mailbox: str
    items: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class SearchResponse:
    numbers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EsearchResponse:
    """RFC 4731 / RFC 9051 `* ESEARCH (TAG "t") [UID] MIN n MAX n ALL set COUNT n`; the tag defaults to the
    waiting command's."""

    uid: bool = False
    min: int | None = None
    max: int | None = None
    all: SequenceSet | None = None
    count: int | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class SortResponse:
    numbers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class NamespaceResponse:
    """RFC 2342: each of personal / other users' / shared is None (NIL) or (prefix, delimiter) pairs."""

    personal: tuple[tuple[str, str | None], ...] | None
    other: tuple[tuple[str, str | None], ...] | None = None
    shared: tuple[tuple[str, str | None], ...] | None = None


@dataclass(frozen=True, slots=True)
class EnabledResponse:
    """RFC 5161 `* ENABLED caps`: sending it turns the capabilities on for the session."""

    capabilities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IdResponse:
    parameters: tuple[tuple[str, str | None], ...] | None


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """`* n FETCH (name value ...)`, items in order, named as `FetchAttribute.response_name` gives."""

    number: int
    items: tuple[tuple[str, Value], ...]


@dataclass(frozen=True, slots=True)
class FetchRows:
    """Many `* n FETCH (name value ...)` lines with the same item names, one row of values per message:
    a FETCH 1:* of FLAGS, UID, RFC822.SIZE or INTERNALDATE without an object per message and item.  The
    bytes are those of a `FetchResponse` per row; no value may be a literal (`str`, `bytes`, `Binary`)."""

    names: tuple[str, ...]
    rows: Sequence[tuple[int, tuple[Value, ...]]]


Response = (
    Ok
    | No
    | Bad
    | Greeting
    | Untagged
    | Bye
    | Continuation
    | SaslChallenge
    | CapabilityResponse
    | ExistsResponse
    | RecentResponse
    | ExpungeResponse
    | FlagsResponse
    | ListResponse
    | LsubResponse
    | StatusResponse
    | SearchResponse
    | EsearchResponse
    | SortResponse
    | NamespaceResponse
    | EnabledResponse
    | IdResponse
    | FetchResponse
    | FetchRows
)
