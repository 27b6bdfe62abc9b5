"""Parsers of the commands that act on the messages of the selected mailbox (RFC 9051 section 6.4):
SEARCH, SORT (RFC 5256), FETCH, STORE, COPY, MOVE (RFC 6851) and EXPUNGE, each also under UID.

Each parser gets the reader after the verb and the `uid` flag, and returns the command or raises
`ParseError`; `UID_COMMANDS` is the table the dispatcher in `_parser.py` uses for both forms.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

from ._arguments import Context, read_mailbox
from ._events import Command, Copy, Expunge, Fetch, Move, Search, Sort, SortKey, Store, StoreMode
from ._fetch import parse_fetch_attributes
from ._reader import MAX_NUMBER64, ParseError, Reader
from ._search import parse_search_keys, read_sequence_set

__all__ = ["SEARCH_RETURN_OPTIONS", "UID_COMMANDS"]

SEARCH_RETURN_OPTIONS = frozenset({"MIN", "MAX", "ALL", "COUNT", "SAVE"})
"""RFC 4731 / RFC 9051 section 6.4.4 search return options (SAVE is RFC 5182 SEARCHRES)."""


def _charset_decoder(charset: str) -> Callable[[bytes], str]:
    try:
        codec = codecs.lookup(charset)
    except LookupError:
        # Unknown to us: keep the text readable; the server answers NO [BADCHARSET] on `charset`.
        return lambda raw: raw.decode("utf-8", "replace")

    def decode(raw: bytes) -> str:
        try:
            return codec.decode(raw)[0]
        except UnicodeDecodeError:
            raise ParseError(f"a search string is not valid {charset[:20]}") from None

    return decode


def _search(r: Reader, ctx: Context, uid: bool) -> Command:
    r.sp()
    return_options: tuple[str, ...] | None = None
    if r.peek_keyword("RETURN"):
        r.pos += 6
        r.sp()
        return_options = r.paren_atoms("a SEARCH return option")
        for option in return_options:
            if option not in SEARCH_RETURN_OPTIONS:
                raise ParseError(f"unknown SEARCH return option '{option[:20]}'")
        r.sp()
    charset = None
    if r.peek_keyword("CHARSET"):
        r.pos += 7
        r.sp()
        charset = r.astring("a charset").upper()
        r.sp()
    criteria = parse_search_keys(r, _charset_decoder(charset or "UTF-8"))
    return Search(tag=ctx.tag, criteria=criteria, charset=charset, return_options=return_options, uid=uid)


def _sort(r: Reader, ctx: Context, uid: bool) -> Command:
    r.sp()
    r.expect("(", "to open the sort criteria")
    criteria: list[tuple[SortKey, bool]] = []
    while not r.maybe(")"):
        if criteria:
            r.sp()
        name = r.atom("a sort key").upper()
        reverse = name == "REVERSE"
        if reverse:
            r.sp()
            name = r.atom("a sort key").upper()
        try:
            criteria.append((SortKey(name), reverse))
        except ValueError:
            raise ParseError(f"unknown sort key '{name[:20]}' (RFC 5256)") from None
    if not criteria:
        raise ParseError("SORT needs at least one sort key")
    r.sp()
    charset = r.astring("a charset").upper()
    r.sp()
    search = parse_search_keys(r, _charset_decoder(charset))
    return Sort(tag=ctx.tag, criteria=tuple(criteria), charset=charset, search=search, uid=uid)


def _fetch(r: Reader, ctx: Context, uid: bool) -> Command:
    r.sp()
    sequence_set = read_sequence_set(r)
    r.sp()
    items = parse_fetch_attributes(r)
    changed_since = None
    if not r.at_end():
        r.sp()
        r.expect("(", "to open the FETCH modifiers")
        if not r.peek_keyword("CHANGEDSINCE"):
            raise ParseError("unknown FETCH modifier (RFC 7162: CHANGEDSINCE)")
        r.pos += 12
        r.sp()
        changed_since = r.number("a mod-sequence", limit=MAX_NUMBER64)
        r.expect(")", "to close the FETCH modifiers")
    r.end()
    return Fetch(tag=ctx.tag, sequence_set=sequence_set, items=items, uid=uid, changed_since=changed_since)


def _store(r: Reader, ctx: Context, uid: bool) -> Command:
    r.sp()
    sequence_set = read_sequence_set(r)
    r.sp()
    unchanged_since = None
    if r.maybe("("):
        if not r.peek_keyword("UNCHANGEDSINCE"):
            raise ParseError("unknown STORE modifier (RFC 7162: UNCHANGEDSINCE)")
        r.pos += 14
        r.sp()
        unchanged_since = r.number("a mod-sequence", limit=MAX_NUMBER64)
        r.expect(")", "to close the STORE modifiers")
        r.sp()
    name = r.atom("+FLAGS, -FLAGS or FLAGS").upper()
    silent = name.endswith(".SILENT")
    if silent:
        name = name[: -len(".SILENT")]
    try:
        mode = StoreMode(name)
    except ValueError:
        raise ParseError(f"expected [+|-]FLAGS[.SILENT], not '{name[:20]}'") from None
    r.sp()
    if r.peek_is("("):
        flags = r.flag_list()
    else:
        listed = [r.flag()]
        while not r.at_end():
            r.sp()
            listed.append(r.flag())
        flags = tuple(listed)
    r.end()
    return Store(
        tag=ctx.tag,
        sequence_set=sequence_set,
        mode=mode,
        flags=flags,
        silent=silent,
        uid=uid,
        unchanged_since=unchanged_since,
    )


def _copy_or_move(cls: type[Copy] | type[Move]) -> Callable[[Reader, Context, bool], Command]:
    def parse(r: Reader, ctx: Context, uid: bool) -> Command:
        r.sp()
        sequence_set = read_sequence_set(r)
        r.sp()
        mailbox = read_mailbox(r, ctx)
        r.end()
        return cls(tag=ctx.tag, sequence_set=sequence_set, mailbox=mailbox, uid=uid)

    return parse


def _expunge(r: Reader, ctx: Context, uid: bool) -> Command:
    if not uid:
        r.end()
        return Expunge(tag=ctx.tag)
    r.sp()
    uids = read_sequence_set(r)
    r.end()
    return Expunge(tag=ctx.tag, uids=uids)


UID_COMMANDS: dict[str, Callable[[Reader, Context, bool], Command]] = {
    "COPY": _copy_or_move(Copy),
    "MOVE": _copy_or_move(Move),
    "FETCH": _fetch,
    "SEARCH": _search,
    "SORT": _sort,
    "STORE": _store,
    "EXPUNGE": _expunge,
}
