"""Properties of the whole IMAP reader: random bytes never raise out of it, and every command a client can
write (generated, rendered as a client would, literals of both kinds, fed in random pieces) comes back as
the command that was generated."""

from __future__ import annotations

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockmail.imap import (
    NEED_DATA,
    TOOBIG,
    Append,
    Authenticate,
    AuthenticateResponse,
    Bad,
    BadCommand,
    Capability,
    Command,
    ConnectionClosed,
    Continuation,
    ContinuationNeeded,
    Copy,
    Create,
    Delete,
    Examine,
    Expunge,
    Fetch,
    FetchAttribute,
    FetchKind,
    Greeting,
    Id,
    Idle,
    IdleDone,
    ImapConnection,
    LiteralTooLarge,
    Login,
    Logout,
    Move,
    No,
    Noop,
    Ok,
    SaslChallenge,
    Search,
    Section,
    Select,
    SeqRange,
    SequenceSet,
    StartTls,
    State,
    Status,
    Store,
    StoreMode,
    encode_mutf7,
)
from mockmail.imap._parser import parse_command
from mockmail.imap._reader import ASTRING_CHARS, TAG_CHARS
from mockmail.imap.search_keys import (
    All,
    And,
    Body,
    DateOp,
    Flag,
    Header,
    InternalDate,
    Larger,
    Not,
    Or,
    SearchKey,
    SentDate,
    Sequence,
    Smaller,
    Text,
    Uid,
)

from .helpers import greeted, selected

# --- random bytes -------------------------------------------------------------------------------


def _answer(conn: ImapConnection, event: object) -> None:
    if isinstance(event, ContinuationNeeded):
        conn.send(Continuation())
    elif isinstance(event, LiteralTooLarge):
        conn.send(No("too large", TOOBIG))
    elif isinstance(event, BadCommand | AuthenticateResponse):
        conn.send(Bad("bad"))
    elif isinstance(event, Authenticate):
        conn.send(SaslChallenge())
    elif isinstance(event, Idle):
        conn.send(Continuation("idling"))
    elif isinstance(event, IdleDone | Command):
        conn.send(Ok())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from(
                [b"\r\n", b"{3}\r\n", b"{2+}\r\n", b"~{1+}\r\n", b"{99}\r\n", b" ", b'"', b"(", b")", b"a ",
                 b"LOGIN ", b"APPEND INBOX ", b"AUTHENTICATE PLAIN", b"IDLE", b"DONE", b"SEARCH ", b"FETCH 1 ",
                 b"UID ", b"\n", b"\r", b"*", b"\\", b"STARTTLS", b"LOGOUT", b"[", b"]<0.1>", b"NOT ", b"\x00"]
            ),
        ),
        max_size=30,
    ),
    state=st.sampled_from(["greeted", "selected"]),
)
def test_random_bytes_never_raise(data: list[bytes], state: str) -> None:
    conn = ImapConnection(max_command_text=64, max_literal=16, append_limit=16)
    conn.send(Greeting())
    if state == "selected":
        conn.receive_data(b"a LOGIN u p\r\nb SELECT INBOX\r\n")
        for _ in range(2):
            conn.next_event()
            conn.send(Ok())
    for chunk in data:
        conn.receive_data(chunk)
        while not conn.closed:
            event = conn.next_event()
            if event is NEED_DATA or isinstance(event, ConnectionClosed):
                break
            _answer(conn, event)
    if not conn.closed:
        conn.receive_data(b"")
        while not conn.closed:
            event = conn.next_event()
            if event is NEED_DATA or isinstance(event, ConnectionClosed):
                break
            _answer(conn, event)


@settings(max_examples=300)
@given(st.binary(max_size=200), st.booleans())
def test_parse_command_never_raises(text: bytes, utf8: bool) -> None:
    result = parse_command(text, utf8=utf8)
    assert isinstance(result, Command | BadCommand)


# --- round trips --------------------------------------------------------------------------------

TAGS = st.text(alphabet="".join(chr(c) for c in sorted(TAG_CHARS)), min_size=1, max_size=8)
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20)  # NUL: never in a string
NUMBERS = st.integers(min_value=1, max_value=4_294_967_295)


@st.composite
def wire_string(draw: st.DrawFn, raw: bytes, *, astring: bool = True) -> bytes:
    """How a client might send `raw`: an atom, a quoted string, or a literal of either kind."""
    choices = ["sync", "nonsync"]
    if raw and astring and all(b in ASTRING_CHARS for b in raw) and raw.upper() != b"NIL":
        choices.append("atom")
    if all(0x01 <= b < 0x80 and b not in (0x0A, 0x0D) for b in raw):
        choices.append("quoted")
    how = draw(st.sampled_from(choices))
    if how == "atom":
        return raw
    if how == "quoted":
        return b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    return b"{%d%s}\r\n" % (len(raw), b"+" if how == "nonsync" else b"") + raw


def mailbox_names() -> st.SearchStrategy[str]:
    return TEXT.filter(
        lambda name: name.upper() != "INBOX" and not any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in name)
    )


@st.composite
def sequence_sets(draw: st.DrawFn) -> SequenceSet:
    ranges = draw(
        st.lists(
            st.tuples(st.one_of(st.none(), NUMBERS), st.one_of(st.none(), NUMBERS)).map(lambda t: SeqRange(*t)),
            min_size=1,
            max_size=4,
        )
    )
    return SequenceSet(tuple(ranges))


def render_set(s: SequenceSet) -> bytes:
    return str(s).encode()


DATES = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31))
FLAG_KEYS = st.sampled_from(
    [Flag(f, p) for f in ("\\Answered", "\\Deleted", "\\Draft", "\\Flagged", "\\Seen") for p in (True, False)]
    + [All()]
)
KEYWORDS = st.text(alphabet="abcXYZ$_-", min_size=1, max_size=8)


def search_keys() -> st.SearchStrategy[SearchKey]:
    leaves = st.one_of(
        FLAG_KEYS,
        st.builds(Flag, KEYWORDS, st.booleans()),
        st.builds(Header, st.sampled_from(["FROM", "TO", "CC", "BCC", "SUBJECT", "X-MAILER"]), TEXT),
        st.builds(Body, TEXT),
        st.builds(Text, TEXT),
        st.builds(InternalDate, st.sampled_from(list(DateOp)), DATES),
        st.builds(SentDate, st.sampled_from(list(DateOp)), DATES),
        st.builds(Larger, st.integers(0, 2**40)),
        st.builds(Smaller, st.integers(0, 2**40)),
        st.builds(Sequence, sequence_sets()),
        st.builds(Uid, sequence_sets()),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(Not, inner),
            st.builds(Or, inner, inner),
            st.lists(inner, min_size=2, max_size=3).map(lambda keys: And(tuple(keys))),
        ),
        max_leaves=8,
    )


_FLAG_NAMES = {"\\Answered": b"ANSWERED", "\\Deleted": b"DELETED", "\\Draft": b"DRAFT", "\\Flagged": b"FLAGGED", "\\Seen": b"SEEN"}
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@st.composite
def render_key(draw: st.DrawFn, key: SearchKey, top: bool = False) -> bytes:
    match key:
        case All():
            return b"ALL"
        case Flag(flag, present) if flag in _FLAG_NAMES:
            return (b"" if present else b"UN") + _FLAG_NAMES[flag]
        case Flag(flag, present):
            return (b"KEYWORD " if present else b"UNKEYWORD ") + flag.encode()
        case Header(field, value) if field == "X-MAILER":
            return b"HEADER X-Mailer " + draw(wire_string(value.encode()))
        case Header(field, value):
            return field.encode() + b" " + draw(wire_string(value.encode()))
        case Body(value):
            return b"BODY " + draw(wire_string(value.encode()))
        case Text(value):
            return b"TEXT " + draw(wire_string(value.encode()))
        case InternalDate(op, date) | SentDate(op, date):
            prefix = b"SENT" if isinstance(key, SentDate) else b""
            day = f"{date.day}-{_MONTHS[date.month - 1]}-{date.year:04d}".encode()
            return prefix + op.value.encode() + b" " + (b'"' + day + b'"' if draw(st.booleans()) else day)
        case Larger(n):
            return b"LARGER %d" % n
        case Smaller(n):
            return b"SMALLER %d" % n
        case Sequence(numbers):
            return render_set(numbers)
        case Uid(uids):
            return b"UID " + render_set(uids)
        case Not(inner):
            return b"NOT " + draw(render_key(inner))
        case Or(left, right):
            return b"OR " + draw(render_key(left)) + b" " + draw(render_key(right))
        case And(keys):
            inner = b" ".join(draw(render_key(k)) for k in keys)
            return inner if top else b"(" + inner + b")"
    raise AssertionError(key)


FETCH_ITEMS = st.sampled_from(
    [
        (b"FLAGS", FetchAttribute(FetchKind.FLAGS)),
        (b"UID", FetchAttribute(FetchKind.UID)),
        (b"RFC822.SIZE", FetchAttribute(FetchKind.RFC822_SIZE)),
        (b"ENVELOPE", FetchAttribute(FetchKind.ENVELOPE)),
        (b"BODYSTRUCTURE", FetchAttribute(FetchKind.BODYSTRUCTURE)),
        (b"BODY.PEEK[]", FetchAttribute(FetchKind.BODY_SECTION, Section(), peek=True)),
        (b"BODY[1.2]<5.10>", FetchAttribute(FetchKind.BODY_SECTION, Section((1, 2), partial=(5, 10)))),
        (b"BINARY[3]", FetchAttribute(FetchKind.BINARY, Section((3,)))),
    ]
)


@st.composite
def commands(draw: st.DrawFn) -> tuple[bytes, Command]:
    tag = draw(TAGS)
    t = tag.encode()
    kind = draw(st.sampled_from(["login", "select", "examine", "create", "delete", "status", "fetch", "store",
                                 "copy", "move", "search", "expunge", "noop", "capability", "id", "append",
                                 "logout"]))
    if kind == "login":
        user, password = draw(TEXT), draw(TEXT)
        wire = t + b" LOGIN " + draw(wire_string(user.encode())) + b" " + draw(wire_string(password.encode()))
        return wire, Login(tag=tag, user=user, password=password)
    if kind in ("select", "examine", "create", "delete"):
        name = draw(mailbox_names())
        verb = kind.upper().encode()
        cls = {"select": Select, "examine": Examine, "create": Create, "delete": Delete}[kind]
        return t + b" " + verb + b" " + draw(wire_string(encode_mutf7(name).encode())), cls(tag=tag, mailbox=name)
    if kind == "status":
        name = draw(mailbox_names())
        items = tuple(draw(st.lists(st.sampled_from(["MESSAGES", "UIDNEXT", "UNSEEN", "SIZE"]), min_size=1, max_size=4)))
        wire = t + b" STATUS " + draw(wire_string(encode_mutf7(name).encode())) + b" (" + " ".join(items).encode() + b")"
        return wire, Status(tag=tag, mailbox=name, items=items)
    uid = draw(st.booleans())
    prefix = t + (b" UID " if uid else b" ")
    if kind == "fetch":
        seq = draw(sequence_sets())
        chosen = draw(st.lists(FETCH_ITEMS, min_size=1, max_size=4))
        spec = b"(" + b" ".join(w for w, _ in chosen) + b")"
        return prefix + b"FETCH " + render_set(seq) + b" " + spec, Fetch(
            tag=tag, sequence_set=seq, items=tuple(a for _, a in chosen), uid=uid
        )
    if kind == "store":
        seq = draw(sequence_sets())
        mode = draw(st.sampled_from(list(StoreMode)))
        silent = draw(st.booleans())
        flags = tuple(draw(st.lists(st.one_of(KEYWORDS, st.sampled_from(["\\Seen", "\\Deleted"])), max_size=3)))
        wire = prefix + b"STORE " + render_set(seq) + b" " + mode.value.encode() + (b".SILENT" if silent else b"")
        wire += b" (" + " ".join(flags).encode() + b")"
        return wire, Store(tag=tag, sequence_set=seq, mode=mode, flags=flags, silent=silent, uid=uid)
    if kind in ("copy", "move"):
        seq = draw(sequence_sets())
        name = draw(mailbox_names())
        cls2 = Copy if kind == "copy" else Move
        wire = prefix + kind.upper().encode() + b" " + render_set(seq) + b" " + draw(wire_string(encode_mutf7(name).encode()))
        return wire, cls2(tag=tag, sequence_set=seq, mailbox=name, uid=uid)
    if kind == "search":
        key = draw(search_keys())
        charset = draw(st.sampled_from([None, "UTF-8"]))
        wire = prefix + b"SEARCH " + (b"CHARSET UTF-8 " if charset else b"") + draw(render_key(key, top=True))
        return wire, Search(tag=tag, criteria=key, charset=charset, uid=uid)
    if kind == "expunge":
        if uid:
            seq = draw(sequence_sets())
            return prefix + b"EXPUNGE " + render_set(seq), Expunge(tag=tag, uids=seq)
        return t + b" EXPUNGE", Expunge(tag=tag)
    if kind == "id":
        pairs = tuple(draw(st.lists(st.tuples(TEXT, st.one_of(st.none(), TEXT)), max_size=3)))
        body = b" ".join(
            draw(wire_string(k.encode(), astring=False)) + b" " + (b"NIL" if v is None else draw(wire_string(v.encode(), astring=False)))
            for k, v in pairs
        )
        return t + b" ID (" + body + b")", Id(tag=tag, parameters=pairs)
    if kind == "append":
        name = draw(mailbox_names())
        message = draw(st.binary(max_size=60).filter(lambda m: b"\x00" not in m))
        flags = tuple(draw(st.lists(st.sampled_from(["\\Seen", "\\Draft", "$Label1"]), max_size=2)))
        wire = t + b" APPEND " + draw(wire_string(encode_mutf7(name).encode()))
        if flags or draw(st.booleans()):
            wire += b" (" + " ".join(flags).encode() + b")"
        plus = draw(st.booleans())
        wire += b" {%d%s}\r\n" % (len(message), b"+" if plus else b"") + message
        return wire, Append(tag=tag, mailbox=name, flags=flags, message=message)
    simple = {"noop": Noop, "capability": Capability, "logout": Logout}[kind]
    return t + b" " + kind.upper().encode(), simple(tag=tag)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(commands(), st.data())
def test_generated_commands_round_trip(generated: tuple[bytes, Command], data: st.DataObject) -> None:
    wire, expected = generated
    wire += b"\r\n"
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(wire) - 1)), max_size=6)))
    pieces = [wire[i:j] for i, j in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    before = State.NOT_AUTHENTICATED if isinstance(expected, Login) else State.SELECTED
    conn = (greeted if before is State.NOT_AUTHENTICATED else selected)(max_command_text=100_000)
    got: list[object] = []
    for piece in pieces:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                break
            if isinstance(event, ContinuationNeeded):
                conn.send(Continuation())
                continue
            got.append(event)
            conn.send(Bad("seen"))  # any completion lets reading go on; BAD moves no state
    assert got == [expected]
    assert conn.state is before
    assert not conn.mid_command


def test_starttls_is_not_a_command_in_selected_state() -> None:
    # A sanity check of the round-trip harness: a refused command does not come back as itself.
    conn = selected()
    conn.receive_data(b"t STARTTLS\r\n")
    assert not isinstance(conn.next_event(), StartTls)


PIECES = st.lists(
    st.one_of(
        st.binary(max_size=12),
        st.sampled_from(
            [b"\r\n", b"{3}\r\n", b"{2+}\r\n", b"~{1+}\r\n", b"{40+}\r\n", b"{40}\r\n", b"a LOGIN ", b"b APPEND INBOX ",
             b"c SEARCH TEXT ", b'"x{2}', b"\n", b"\r", b"d NOOP\r\n", b"e UID FETCH 1 FLAGS\r\n", b"x" * 50]
        ),
    ),
    max_size=25,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(PIECES, st.data())
def test_pieces_parse_like_the_whole(pieces: list[bytes], data: st.DataObject) -> None:
    wire = b"".join(pieces)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(wire) - 1)), max_size=10)))
    chunks = [wire[i:j] for i, j in zip([0, *cuts], [*cuts, len(wire)], strict=True)]

    def run(parts: list[bytes]) -> list[object]:
        conn = selected(max_command_text=64, max_literal=16, append_limit=16)
        out: list[object] = []
        for part in parts:
            if not part:
                continue  # b"" would mean end of file
            conn.receive_data(part)
            while not conn.closed:
                event = conn.next_event()
                if event is NEED_DATA:
                    break
                out.append(event)
                _answer(conn, event)
        return out

    assert run(chunks) == run([wire])
