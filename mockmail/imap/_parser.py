"""Parsing one framed command (`tag SP verb [SP args]`) into a command event (RFC 9051 section 9).

The framer hands over the command's text (CRLFs removed) and its literals; `parse_command` returns a
`Command`, or a `BadCommand` naming the broken rule with the tag (or `*` if no tag could be read).  It
never raises for anything a client sends.  Rules kept here beyond the grammar:
- Mailbox names follow the session's encoding (`_arguments.py`); the commands on messages of the selected
  mailbox are parsed in `_message_commands.py`, the rest here.
- Verbs are case-insensitive; `UID` prefixes COPY, MOVE, FETCH, SEARCH, SORT, STORE and EXPUNGE only.
- A bare CR or LF inside a line never ends it (the framer ends lines at CRLF only): a line carrying one is
  refused here whole, so `a NOOP\\nb DELETE x` can never smuggle a second command.
"""

from __future__ import annotations

from collections.abc import Callable

from ._arguments import Context, decode_name, read_list_mailbox, read_mailbox
from ._events import (
    Append,
    Authenticate,
    BadCommand,
    Capability,
    Check,
    Close,
    Command,
    Create,
    Delete,
    Enable,
    Examine,
    Id,
    Idle,
    List,
    Login,
    Logout,
    Lsub,
    Namespace,
    Noop,
    Rename,
    Select,
    StartTls,
    Status,
    Subscribe,
    Unselect,
    Unsubscribe,
)
from ._message_commands import UID_COMMANDS
from ._reader import Literal, ParseError, Reader

__all__ = ["MAX_PARAMETER_DEPTH", "PARSERS", "UID_COMMANDS", "parse_command", "read_tag_and_verb"]

MAX_PARAMETER_DEPTH = 8
"""Deepest nesting of a parameter list (SELECT/EXAMINE parameters); QRESYNC needs two."""

_MAX_ID_PAIRS = 30
"""RFC 2971 section 3.3: at most 30 field-value pairs."""

STATUS_ITEMS = frozenset(
    {"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "HIGHESTMODSEQ", "APPENDLIMIT"}
)
"""RFC 9051 section 6.3.11 (with rev1's RECENT, RFC 7162 HIGHESTMODSEQ, RFC 7889 APPENDLIMIT)."""

LIST_SELECTION = frozenset({"SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"})
LIST_RETURN = frozenset({"SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS", "MYRIGHTS"})


# --- commands without arguments ----------------------------------------------------------------


def _bare(cls: type[Command]) -> Callable[[Reader, Context], Command]:
    def parse(r: Reader, ctx: Context) -> Command:
        if not r.at_end():
            raise ParseError(f"{cls.verb} takes no arguments")
        return cls(tag=ctx.tag)

    return parse


# --- not authenticated -------------------------------------------------------------------------


def _authenticate(r: Reader, ctx: Context) -> Command:
    r.sp()
    mechanism = r.atom("a SASL mechanism name").upper()
    initial = None
    if not r.at_end():
        r.sp()
        start = r.pos
        while not r.at_end() and r.text[r.pos] != 0x20:
            r.pos += 1
        initial = r.text[start : r.pos].decode("ascii", "replace")
        if not initial or not all(ch.isalnum() or ch in "+/=" for ch in initial) or not initial.isascii():
            raise ParseError("the initial response is not base64 or '=' (RFC 4959)")
    r.end()
    return Authenticate(tag=ctx.tag, mechanism=mechanism, initial_response=initial)


def _login(r: Reader, ctx: Context) -> Command:
    r.sp()
    user = r.astring("the user name")
    r.sp()
    password = r.astring("the password")
    r.end()
    return Login(tag=ctx.tag, user=user, password=password)


# --- any state ---------------------------------------------------------------------------------


def _id(r: Reader, ctx: Context) -> Command:
    r.sp()
    if r.peek_keyword("NIL"):
        r.pos += 3
        r.end()
        return Id(tag=ctx.tag, parameters=None)
    r.expect("(", "to open the ID parameter list")
    pairs: list[tuple[str, str | None]] = []
    while not r.maybe(")"):
        if pairs:
            r.sp()
        field = r.string("an ID field name")
        r.sp()
        pairs.append((field, r.nstring("an ID value")))
        if len(pairs) > _MAX_ID_PAIRS:
            raise ParseError(f"more than {_MAX_ID_PAIRS:d} ID field-value pairs (RFC 2971 section 3.3)")
    r.end()
    return Id(tag=ctx.tag, parameters=tuple(pairs))


# --- authenticated -----------------------------------------------------------------------------


def _enable(r: Reader, ctx: Context) -> Command:
    caps: list[str] = []
    while not r.at_end():
        r.sp()
        caps.append(r.atom("a capability name").upper())
    if not caps:
        raise ParseError("ENABLE needs at least one capability")
    return Enable(tag=ctx.tag, capabilities=tuple(caps))


def _parameter_value(r: Reader, depth: int) -> str:
    """One parameter value as text: an atom or number, a string, or a (nested) list, kept as sent."""
    if depth > MAX_PARAMETER_DEPTH:
        raise ParseError(f"parameter lists nested deeper than {MAX_PARAMETER_DEPTH:d}")
    if r.maybe("("):
        items: list[str] = []
        while not r.maybe(")"):
            if items:
                r.sp()
            items.append(_parameter_value(r, depth + 1))
        return "(" + " ".join(items) + ")"
    if r.peek_is('"') or r.at_literal():
        return r.string("a parameter value")
    start = r.pos
    while not r.at_end() and r.text[r.pos] not in b" ()":
        r.pos += 1
    if r.pos == start:
        raise ParseError(f"expected a parameter value at octet {start:d}")
    return r.text[start : r.pos].decode("ascii", "replace")


def _select(cls: type[Select] | type[Examine]) -> Callable[[Reader, Context], Command]:
    def parse(r: Reader, ctx: Context) -> Command:
        r.sp()
        mailbox = read_mailbox(r, ctx)
        params: list[str] = []
        if not r.at_end():
            r.sp()
            r.expect("(", "to open the SELECT parameters")
            while not r.maybe(")"):
                if params:
                    r.sp()
                name = r.atom("a SELECT parameter name").upper()
                if r.peek_is(" ") and r.text[r.pos + 1 : r.pos + 2] not in (b")", b""):
                    r.sp()
                    name += " " + _parameter_value(r, 1)
                params.append(name)
        r.end()
        return cls(tag=ctx.tag, mailbox=mailbox, parameters=tuple(params))

    return parse


def _create(r: Reader, ctx: Context) -> Command:
    r.sp()
    mailbox = read_mailbox(r, ctx)
    uses: tuple[str, ...] = ()
    if not r.at_end():
        r.sp()
        r.expect("(", "to open the CREATE parameters")
        while not r.maybe(")"):
            name = r.atom("a CREATE parameter").upper()
            if name != "USE":
                raise ParseError(f"unknown CREATE parameter '{name[:20]}' (RFC 6154: USE)")
            r.sp()
            uses = r.flag_list()
            if not r.peek_is(")"):
                r.sp()
    r.end()
    return Create(tag=ctx.tag, mailbox=mailbox, special_use=uses)


def _one_mailbox(cls: type[Delete] | type[Subscribe] | type[Unsubscribe]) -> Callable[[Reader, Context], Command]:
    def parse(r: Reader, ctx: Context) -> Command:
        r.sp()
        mailbox = read_mailbox(r, ctx)
        r.end()
        return cls(tag=ctx.tag, mailbox=mailbox)

    return parse


def _rename(r: Reader, ctx: Context) -> Command:
    r.sp()
    old = read_mailbox(r, ctx)
    r.sp()
    new = read_mailbox(r, ctx)
    r.end()
    return Rename(tag=ctx.tag, mailbox=old, new_name=new)


def _list(r: Reader, ctx: Context) -> Command:
    r.sp()
    extended = False
    selection: tuple[str, ...] = ()
    if r.peek_is("("):
        extended = True
        selection = r.paren_atoms("a LIST selection option")
        unknown = set(selection) - LIST_SELECTION
        if unknown:
            raise ParseError(f"unknown LIST selection option '{sorted(unknown)[0][:20]}'")
        r.sp()
    reference = decode_name(r.astring_bytes(), ctx.utf8)
    r.sp()
    patterns: list[str] = []
    if r.maybe("("):
        extended = True
        while not r.maybe(")"):
            if patterns:
                r.sp()
            patterns.append(read_list_mailbox(r, ctx))
        if not patterns:
            raise ParseError("LIST needs at least one pattern")
    else:
        patterns.append(read_list_mailbox(r, ctx))
    return_options: list[str] = []
    status_items: tuple[str, ...] = ()
    if not r.at_end():
        r.sp()
        if not r.peek_keyword("RETURN"):
            raise ParseError("expected RETURN (...) after the LIST patterns")
        extended = True
        r.pos += 6
        r.sp()
        r.expect("(", "to open the LIST return options")
        while not r.maybe(")"):
            if return_options:
                r.sp()
            option = r.atom("a LIST return option").upper()
            if option not in LIST_RETURN:
                raise ParseError(f"unknown LIST return option '{option[:20]}'")
            if option == "STATUS":
                r.sp()
                status_items = _status_items(r)
            return_options.append(option)
    r.end()
    return List(
        tag=ctx.tag,
        reference=reference,
        patterns=tuple(patterns),
        selection=selection,
        return_options=tuple(return_options),
        status_items=status_items,
        extended=extended,
    )


def _lsub(r: Reader, ctx: Context) -> Command:
    r.sp()
    reference = decode_name(r.astring_bytes(), ctx.utf8)
    r.sp()
    pattern = read_list_mailbox(r, ctx)
    r.end()
    return Lsub(tag=ctx.tag, reference=reference, pattern=pattern)


def _status_items(r: Reader) -> tuple[str, ...]:
    items = r.paren_atoms("a STATUS item")
    if not items:
        raise ParseError("STATUS needs at least one item")
    for item in items:
        if item not in STATUS_ITEMS:
            raise ParseError(f"unknown STATUS item '{item[:20]}'")
    return items


def _status(r: Reader, ctx: Context) -> Command:
    r.sp()
    mailbox = read_mailbox(r, ctx)
    r.sp()
    items = _status_items(r)
    r.end()
    return Status(tag=ctx.tag, mailbox=mailbox, items=items)


def _append(r: Reader, ctx: Context) -> Command:
    r.sp()
    mailbox = read_mailbox(r, ctx)
    r.sp()
    flags: tuple[str, ...] = ()
    if r.peek_is("("):
        flags = r.flag_list()
        r.sp()
    internal_date = None
    if r.peek_is('"'):
        internal_date = r.date_time()
        r.sp()
    if not r.at_literal():
        raise ParseError("APPEND needs the message as a literal {n} or literal8 ~{n}")
    found: Literal = r.literals[r.pos]
    r.pos = found.end
    r.end()
    return Append(
        tag=ctx.tag,
        mailbox=mailbox,
        flags=flags,
        internal_date=internal_date,
        message=found.data,
        binary=found.binary,
    )


def _plain(parse: Callable[[Reader, Context, bool], Command]) -> Callable[[Reader, Context], Command]:
    return lambda r, ctx: parse(r, ctx, False)


PARSERS: dict[str, Callable[[Reader, Context], Command]] = {
    "CAPABILITY": _bare(Capability),
    "NOOP": _bare(Noop),
    "LOGOUT": _bare(Logout),
    "ID": _id,
    "STARTTLS": _bare(StartTls),
    "AUTHENTICATE": _authenticate,
    "LOGIN": _login,
    "ENABLE": _enable,
    "SELECT": _select(Select),
    "EXAMINE": _select(Examine),
    "CREATE": _create,
    "DELETE": _one_mailbox(Delete),
    "RENAME": _rename,
    "SUBSCRIBE": _one_mailbox(Subscribe),
    "UNSUBSCRIBE": _one_mailbox(Unsubscribe),
    "LIST": _list,
    "LSUB": _lsub,
    "NAMESPACE": _bare(Namespace),
    "STATUS": _status,
    "APPEND": _append,
    "IDLE": _bare(Idle),
    "CHECK": _bare(Check),
    "CLOSE": _bare(Close),
    "UNSELECT": _bare(Unselect),
    **{verb: _plain(parse) for verb, parse in UID_COMMANDS.items()},
}


_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_MAX_VERB = 20


def _verb_at(r: Reader, whole: bool) -> str | None:
    start = r.pos
    while not r.at_end() and r.text[r.pos] in _LETTERS and r.pos - start <= _MAX_VERB:
        r.pos += 1
    ended = r.peek_is(" ") or (whole and r.at_end())
    if r.pos == start or r.pos - start > _MAX_VERB or not ended:
        return None
    return r.text[start : r.pos].decode("ascii").upper()


def read_tag_and_verb(text: bytes, *, whole: bool = True) -> tuple[str, str | None]:
    """The tag (`*` if none can be read) and the upper-cased verb, from the start of a command.

    The verb counts only when it is followed by a space or ends the text, so that a command read whole
    and one read in pieces name the same verb (`UID FETCH` for UID commands).  With `whole=False` the
    text is only the start of a line: a tag or verb that runs to its end is not known yet.
    """
    r = Reader(text)
    try:
        tag = r.tag()
    except ParseError:
        return "*", None
    if not r.maybe(" "):
        return ("*" if not whole and r.at_end() else tag), None
    verb = _verb_at(r, whole)
    if verb == "UID" and r.maybe(" "):
        second = _verb_at(r, whole)
        return tag, None if second is None else "UID " + second
    return tag, verb


def parse_command(text: bytes, literals: dict[int, Literal] | None = None, *, utf8: bool = False) -> Command | BadCommand:
    """Parse one command: its text without CRLFs, and its literals keyed by marker position.

    Returns a command event, or a `BadCommand` naming the rule the input broke.
    """
    r = Reader(text, literals)
    try:
        tag = r.tag()
    except ParseError:
        return BadCommand("*", "missing or invalid tag (RFC 9051 section 2.2.1)")
    if b"\r" in text or b"\n" in text:
        return BadCommand(tag, "bare CR or LF in a command line (lines end with CRLF, RFC 9051 section 2.2)")
    if b"\x00" in text:
        return BadCommand(tag, "NUL in a command line")
    verb: str | None = None
    try:
        r.sp()
        verb = r.atom("a command name").upper()
        uid = verb == "UID"
        if uid:
            r.sp()
            verb = r.atom("a command after UID").upper()
            uid_parser = UID_COMMANDS.get(verb)
            if uid_parser is None:
                return BadCommand(tag, f"UID {verb[:20]} is not a UID command", "UID " + verb[:20])
            return uid_parser(r, Context(tag, utf8), True)
        parser = PARSERS.get(verb)
        if parser is None:
            return BadCommand(tag, f"unknown command '{_printable(verb)}'", verb[:20])
        return parser(r, Context(tag, utf8))
    except ParseError as exc:
        shown = verb[:20] if verb else None
        prefix = f"{shown}: " if shown else ""
        return BadCommand(tag, prefix + str(exc), shown)


def _printable(text: str) -> str:
    return "".join(ch if " " < ch <= "~" else "?" for ch in text[:20])
