"""Folders and flags: the rules every store keeps for IMAP's view of a mailbox (RFC 9051).

- A mailbox always has `INBOX` (what POP3 sees); other folders are created, renamed and deleted.  Names are
  Unicode strings kept as given, except that `INBOX` is case-insensitive (RFC 9051 section 5.1).  The
  store knows no hierarchy beyond one rule: renaming `a` renames `a/...` too (`/` is the delimiter IMAP
  shows).
- Every folder has a UIDVALIDITY (RFC 9051 section 2.3.1.1), fresh at each creation and kept across
  restarts and renames, and a UIDNEXT: message UIDs rise strictly within a folder and are never reused.
- Flags are RFC 9051 section 2.3.2 flags: the system flags `\\Seen \\Answered \\Flagged \\Deleted \\Draft`
  (case-insensitive, kept in this spelling) and keywords (atoms, kept as given).  `\\Recent` is not
  stored: it belongs to a session.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Literal

import msgspec

from ..errors import InvalidInput

__all__ = [
    "FLAGS_PATTERN",
    "FLAG_PATTERN",
    "FOLDER_NAME_PATTERN",
    "INBOX",
    "NO_FLAGS",
    "SYSTEM_FLAGS",
    "FlagMode",
    "FolderInfo",
    "SpecialUse",
    "UidValidities",
    "check_flags",
    "check_folder_name",
    "flags_text",
    "parse_flags",
    "renamed",
]

INBOX = "INBOX"
SEPARATOR = "/"
"""The hierarchy delimiter IMAP shows; the store only uses it to rename children with their parent."""
MAX_FOLDER_NAME = 255
"""Characters in a folder name: more than any client shows, and a bound on what one request can make."""

SpecialUse = Literal["\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged"]
"""RFC 6154 section 2: what a folder is used for."""

FlagMode = Literal["replace", "add", "remove"]
"""How `set_flags` applies the flags it is given (IMAP STORE `FLAGS`, `+FLAGS`, `-FLAGS`)."""

SYSTEM_FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft")
_SYSTEM = {flag.lower(): flag for flag in SYSTEM_FLAGS}
NO_FLAGS: frozenset[str] = frozenset()

_SYSTEM_FLAG = r"\\(?:[Ss][Ee][Ee][Nn]|[Aa][Nn][Ss][Ww][Ee][Rr][Ee][Dd]|[Ff][Ll][Aa][Gg][Gg][Ee][Dd]|[Dd][Ee][Ll][Ee][Tt][Ee][Dd]|[Dd][Rr][Aa][Ff][Tt])"
_KEYWORD = r"[!#$&'+-9:-Z\[^-z|}~]+"
"""An RFC 9051 atom: ASCII 0x21 to 0x7E but `( ) { % * " \\ ]`."""
FLAG_PATTERN = rf"^(?:{_SYSTEM_FLAG}|{_KEYWORD})(?!\n)$"
"""A system flag (any case) or a keyword; `\\Recent` is not one (it is not stored)."""
FLAGS_PATTERN = rf"^ *(?:(?:{_SYSTEM_FLAG}|{_KEYWORD})(?: +(?:{_SYSTEM_FLAG}|{_KEYWORD}))*)? *(?!\n)$"
"""Flags separated by spaces (the `?flags=` query parameter)."""
_FLAG_RE = re.compile(FLAG_PATTERN)
FOLDER_NAME_PATTERN = r"^(?!/)(?!.*//)(?!.*/$)[^\x00-\x1f\x7f*%]{1,255}(?!\n)$"
"""What `check_folder_name` accepts: 1 to 255 characters, no control character or wildcard, no empty level."""
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f*%]")


class FolderInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A folder of a mailbox: its IMAP identity (UIDVALIDITY, UIDNEXT), attributes and figures."""

    name: str
    uidvalidity: int
    """RFC 9051 section 2.3.1.1: fresh whenever a folder of this name is created; kept across renames."""
    uidnext: int
    """The UID the next message stored in this folder gets; never goes down."""
    subscribed: bool
    special_use: SpecialUse | None
    """RFC 6154: what the folder is for, or null."""
    messages: int
    octets: int


def check_folder_name(name: str, field: str = "folder") -> str:
    """`name` as the store keeps it (`INBOX` in any case is `INBOX`), if it can name a folder.

    Raises:
        InvalidInput: it is empty, too long, has an empty level (`a//b`, `/a`, `a/`), a control character,
            or an IMAP wildcard (`*`, `%`).
    """
    if not name or len(name) > MAX_FOLDER_NAME:
        raise InvalidInput(f"a folder name is 1 to {MAX_FOLDER_NAME:d} characters", field=field)
    if _BAD_NAME.search(name):
        raise InvalidInput(f"folder name {name!r} holds a control character or a wildcard", field=field)
    if "" in name.split(SEPARATOR):
        raise InvalidInput(f"folder name {name!r} has an empty level between {SEPARATOR!r}", field=field)
    if name.upper() == INBOX:
        return INBOX
    return name


def renamed(name: str, old: str, new: str) -> str | None:
    """What `name` becomes when `old` is renamed to `new`: `old` itself or one of its children."""
    if name == old:
        return new
    if name.startswith(old + SEPARATOR):
        return new + name[len(old) :]
    return None


def check_flags(flags: Iterable[str], field: str = "flags") -> frozenset[str]:
    """The flags as the store keeps them (system flags in their RFC spelling).

    Raises:
        InvalidInput: one is not a system flag or a keyword atom (`\\Recent` included: it is not stored).
    """
    kept = set()
    for index, flag in enumerate(flags):
        if not _FLAG_RE.match(flag):
            raise InvalidInput(
                f"flag {flag!r} is neither a system flag ({' '.join(SYSTEM_FLAGS)}) nor a keyword atom",
                field=f"{field}[{index:d}]",
            )
        kept.add(_SYSTEM.get(flag.lower(), flag) if flag.startswith("\\") else flag)
    return frozenset(kept) if kept else NO_FLAGS


def flags_text(flags: frozenset[str]) -> str:
    """Flags as one space-separated string (how a persistent store keeps them), sorted."""
    return " ".join(sorted(flags))


def parse_flags(text: str) -> frozenset[str]:
    """The flags of `flags_text`."""
    return frozenset(text.split(" ")) if text else NO_FLAGS


class UidValidities:
    """Hands out UIDVALIDITY values: the clock's seconds, and always above the last one handed out, so
    a folder deleted and made again within a second (or a mailbox or tenant made again) never gets the
    value its predecessor had.  A persistent store keeps `last` in its database."""

    __slots__ = ("last",)

    def __init__(self, last: int = 0) -> None:
        self.last = last

    def next(self) -> int:
        value = max(int(time.time()), self.last + 1)
        if value > 0xFFFFFFFF:  # pragma: no cover - in the year 2106, or after four billion folders
            raise OverflowError("UIDVALIDITY is a 32-bit number")
        self.last = value
        return value
