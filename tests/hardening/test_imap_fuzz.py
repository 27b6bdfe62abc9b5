"""Property-based fuzzing of whole IMAP sessions (mockmail/server/imap_*.py over the core in mockmail/imap/):
any byte stream, cut into any reads, with the client vanishing at any point, never raises out of a session;
every tagged response answers a tag the client sent; the store's invariants hold afterwards, and what the
store gained or lost is what the session acknowledged.  A second, well-behaved session on the same mailbox
(SELECT, FETCH, IDLE) hears only well-formed responses whose EXISTS/EXPUNGE accounting matches the store.

Inputs mix protocol words (so sessions get deep: logins, SASL exchanges, folders, APPEND literals of every
kind, FETCH, STORE, COPY, MOVE, EXPUNGE, SEARCH, SORT, IDLE) under random tags with arbitrary octets, bare
CR and LF, huge lines and literal headers without their data.  Sessions run over trio memory streams on a
fake clock, so a session waiting for more input times out in virtual time, never in wall time.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockmail.imap._reader import TAG_CHARS
from mockmail.observe.transcripts import TranscriptLog
from mockmail.server.driver import SessionConfig
from mockmail.server.imap_session import ImapSession
from mockmail.store import INBOX, MemoryStore, check_flags

LIMIT = 1000
"""APPENDLIMIT of the fuzzed sessions."""
MESSAGE = b"Subject: x\r\n\r\nhello!"  # 20 octets


def _append(folder: bytes, size: int, data: bytes, *, plus: bool = False, extra: bytes = b"") -> bytes:
    return b"APPEND %s%s {%d%s}\r\n%s" % (folder, extra, size, b"+" if plus else b"", data)


TAGGED = [  # each is sent after a tag and a space
    b"CAPABILITY\r\n",
    b"NOOP\r\n",
    b"LOGOUT\r\n",
    b"STARTTLS\r\n",
    b"ID NIL\r\n",
    b"LOGIN bob s3cret\r\n",
    b"LOGIN bob wrong\r\n",
    b'LOGIN "bob" {6}\r\ns3cret\r\n',
    b"LOGIN {3+}\r\nbob s3cret\r\n",
    b"AUTHENTICATE PLAIN AGJvYgBzM2NyZXQ=\r\n",
    b"AUTHENTICATE PLAIN AGJvYgB4\r\n",
    b"AUTHENTICATE PLAIN =\r\n",
    b"AUTHENTICATE PLAIN !!!\r\n",
    b"AUTHENTICATE PLAIN\r\n",
    b"AUTHENTICATE XOAUTH2\r\n",
    b"ENABLE IMAP4rev2 UTF8=ACCEPT\r\n",
    b"NAMESPACE\r\n",
    b"SELECT INBOX\r\n",
    b"SELECT inbox\r\n",
    b"SELECT Sent\r\n",
    b"SELECT Work\r\n",
    b"SELECT Nope\r\n",
    b'SELECT ""\r\n',
    b"EXAMINE INBOX\r\n",
    b"EXAMINE Archive\r\n",
    b"CREATE Work\r\n",
    b"CREATE Sent\r\n",
    b"CREATE Work/2024/\r\n",
    b"CREATE Trash (USE (\\Trash))\r\n",
    b"CREATE bad%\r\n",
    b"RENAME Work Play\r\n",
    b"RENAME Play Work\r\n",
    b"RENAME Sent Work/Sent\r\n",
    b"RENAME INBOX Old\r\n",
    b"RENAME Archive INBOX\r\n",
    b"DELETE Work\r\n",
    b"DELETE Play\r\n",
    b"DELETE Old\r\n",
    b"DELETE Sent\r\n",
    b"DELETE INBOX\r\n",
    b"DELETE Nope\r\n",
    b"SUBSCRIBE Sent\r\n",
    b"UNSUBSCRIBE Sent\r\n",
    b'LIST "" "*"\r\n',
    b'LIST (SUBSCRIBED) "" "%" RETURN (CHILDREN STATUS (MESSAGES UIDNEXT SIZE))\r\n',
    b'LSUB "" "*"\r\n',
    b"STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT)\r\n",
    b"STATUS Nope (MESSAGES)\r\n",
    _append(b"INBOX", 20, MESSAGE + b"\r\n"),
    _append(b"INBOX", 20, MESSAGE + b"\r\n", plus=True),
    _append(b"Sent", 20, MESSAGE + b"\r\n", extra=b' (\\Seen $Label) "01-Jan-2024 10:00:00 +0000"'),
    _append(b"Work", 20, MESSAGE + b"\r\n", plus=True, extra=b" (\\Draft)"),
    _append(b"Nope", 20, MESSAGE + b"\r\n", plus=True),
    _append(b"INBOX", 20, MESSAGE + b"\r\n", extra=b" (\\Recent)"),
    _append(b"INBOX", 20, MESSAGE + b"\r\n", extra=b' "99-Foo-2024 10:00:00 +0000"'),
    _append(b"INBOX", 25, MESSAGE + b"\r\n"),  # announced more than sent
    _append(b"INBOX", 5, MESSAGE + b"\r\n", plus=True),  # announced less than sent
    _append(b"INBOX", 0, b"\r\n"),
    _append(b"INBOX", 20, b""),  # the literal header without its data
    _append(b"INBOX", 20, b"", plus=True),
    _append(b"INBOX", LIMIT * 5, b"\r\n"),  # over APPENDLIMIT, synchronizing: refused before the data
    _append(b"INBOX", LIMIT * 5, b"z" * (LIMIT * 5) + b"\r\n", plus=True),  # over it, non-synchronizing
    _append(b"INBOX", LIMIT + 1, b"Subject: big\r\n\r\n" + b"b" * (LIMIT - 15) + b"\r\n", plus=True),
    _append(b"INBOX", 99999999999999999999, b"\r\n"),
    b"CHECK\r\n",
    b"FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)\r\n",
    b"FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY[1]<0.5> BODY[TEXT]<2.100> BINARY[1])\r\n",
    b"FETCH 2:* (BINARY.SIZE[1] RFC822.HEADER RFC822.TEXT BODY[1.MIME] BODY[HEADER.FIELDS.NOT (X)])\r\n",
    b"FETCH * BODY[]<0.3>\r\n",
    b"FETCH 1 BODY[]<4294967295.4294967295>\r\n",
    b"FETCH 1,3 FAST\r\n",
    b"FETCH 2:4 ALL\r\n",
    b"FETCH 1 FULL\r\n",
    b"FETCH 1 RFC822\r\n",
    b"FETCH 99 UID\r\n",
    b"FETCH 0 UID\r\n",
    b"FETCH 1 BODY[1.2.3.MIME]\r\n",
    b"FETCH $ UID\r\n",
    b"UID FETCH 1:* (FLAGS BODY[HEADER])\r\n",
    b"UID FETCH 4294967295 UID\r\n",
    b"STORE 1 +FLAGS (\\Deleted)\r\n",
    b"STORE 1:* +FLAGS.SILENT (\\Deleted)\r\n",
    b"UID STORE 1:* FLAGS.SILENT (\\Seen $Label)\r\n",
    b"STORE 1:2 -FLAGS (\\Seen)\r\n",
    b"STORE 1 FLAGS (\\Recent)\r\n",
    b"STORE 1 +FLAGS (\\Bogus)\r\n",
    b"STORE 9 +FLAGS (\\Deleted)\r\n",
    b"COPY 1:* Sent\r\n",
    b"COPY 1 INBOX\r\n",
    b"UID COPY 1:3 Archive\r\n",
    b"COPY 1 Nope\r\n",
    b"MOVE 1 Sent\r\n",
    b"UID MOVE 2:* Archive\r\n",
    b"MOVE 1 Work\r\n",
    b"MOVE 1 Nope\r\n",
    b"EXPUNGE\r\n",
    b"UID EXPUNGE 1:2\r\n",
    b"UID EXPUNGE *\r\n",
    b"CLOSE\r\n",
    b"UNSELECT\r\n",
    b"SEARCH ALL\r\n",
    b"SEARCH OR (SUBJECT m1 NOT SEEN) (LARGER 10 (UID 1:2 BODY dot))\r\n",
    b"UID SEARCH RETURN (MIN MAX COUNT ALL SAVE) NOT DELETED\r\n",
    b"SEARCH RETURN (SAVE) 2:*\r\n",
    b"SEARCH CHARSET UTF-8 TEXT line\r\n",
    b"SEARCH SINCE 1-Jan-2020 BEFORE 1-Jan-2099 HEADER Subject m KEYWORD $Label\r\n",
    b"SEARCH (((((((((((((((((((((((((((((ALL)))))))))))))))))))))))))))))\r\n",
    b"SEARCH OR OR OR ALL ALL ALL\r\n",
    b"SEARCH $ NOT $\r\n",
    b"SORT (REVERSE ARRIVAL SUBJECT) UTF-8 ALL\r\n",
    b"UID SORT (FROM DATE SIZE CC TO DISPLAYFROM) US-ASCII NOT SEEN\r\n",
    b"SORT (BOGUS) UTF-8 ALL\r\n",
    b"IDLE\r\n",
]
RAW = [  # sent as they are: continuations, IDLE's end, literal data, broken frames
    b"DONE\r\n",
    b"AGJvYgBzM2NyZXQ=\r\n",
    b"*\r\n",
    b"=\r\n",
    b"\r\n",
    MESSAGE,
    b"{5}\r\n",
    b"{5+}\r\n",
    b"a9 APPEND INBOX {3}\r\nabc",
    b"a9 UID FETCH 1:* (UID)",
]
_GOOD_TAGS = st.sampled_from([b"a1", b"a2", b"A.3", b"x", b"0", b"t]"])
SCRIPTS = [  # whole sequences, so that sessions often reach deep states and change the store
    b"s1 SELECT INBOX\r\ns2 "
    + _append(b"INBOX", 20, MESSAGE + b"\r\n", plus=True)
    + b"s3 FETCH 1:* FLAGS\r\n",
    b"s1 STORE 1:2 +FLAGS (\\Deleted)\r\ns2 EXPUNGE\r\ns3 UID MOVE 1:* Sent\r\n",
    b"s1 SELECT Sent\r\ns2 UID COPY 1:* INBOX\r\ns3 STORE 1 +FLAGS (\\Deleted)\r\ns4 CLOSE\r\n",
    b"s1 CREATE Work\r\ns2 SELECT Work\r\ns3 " + _append(b"Work", 20, MESSAGE + b"\r\n") + b"s4 IDLE\r\n",
    b"s1 RENAME INBOX Old\r\ns2 SELECT Old\r\ns3 MOVE 1 INBOX\r\n",
    b"s1 CREATE Work\r\ns2 SELECT Work\r\ns3 "
    + _append(b"Work", 20, MESSAGE + b"\r\n", plus=True)
    + b"s4 RENAME Work Play\r\ns5 STORE 1 +FLAGS (\\Deleted)\r\ns6 EXPUNGE\r\ns7 DELETE Play\r\n"
    + b"s8 FETCH 1 FLAGS\r\ns9 UID EXPUNGE 1\r\n",
]
TAGS = st.one_of(
    *[_GOOD_TAGS] * 8,
    st.sampled_from([b"*", b"+", b"", b"(", b"\xff", b"a b"]),
    st.binary(min_size=1, max_size=4),
).filter(lambda tag: b"\n" not in tag)
_command = st.builds(lambda tag, body: tag + b" " + body, TAGS, st.sampled_from(TAGGED))
_noise = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"\r",
            b"\n",
            b"\x00",
            b"\xff",
            b"x" * 600,
            b"a1 NOOP " + b"y" * 70_000 + b"\r\n",  # over the core's command text limit
            b"a1 LOGIN " + b"{70000}\r\n",
            b"DONE" + b"d" * 1200 + b"\r\n",  # over the IDLE line limit
        ]
    ),
)
OPENERS = [
    b"",
    b"a0 LOGIN bob s3cret\r\n",
    b"a0 LOGIN bob s3cret\r\na00 SELECT INBOX\r\n",
    b"a0 AUTHENTICATE PLAIN\r\nAGJvYgBzM2NyZXQ=\r\na00 SELECT Sent\r\n",
]


def _stream() -> st.SearchStrategy[list[bytes]]:
    """Chunks to send: often a login (and a SELECT) first, then anything, cut into random reads."""
    word = st.one_of(st.sampled_from(RAW), _noise)
    body = st.lists(st.one_of(*[_command] * 8, word, st.sampled_from(SCRIPTS)), min_size=4, max_size=30)
    return st.tuples(st.sampled_from(OPENERS), body, st.lists(st.integers(1, 64), max_size=10)).map(
        lambda t: _cut(t[0] + b"".join(t[1]), t[2])
    )


def _cut(data: bytes, sizes: list[int]) -> list[bytes]:
    chunks, at = [], 0
    for size in sizes:
        if at >= len(data):
            break
        chunks.append(data[at : at + size])
        at += size
    chunks.append(data[at:])
    return chunks


INITIAL = {
    INBOX: [b"Subject: m%d\r\nFrom: a@example.com\r\n\r\nline\r\n.dot line\r\n" % i for i in range(3)],
    "Sent": [
        b"Subject: sent\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\n"
        b"Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\ninner\r\n--b--\r\n"
    ],
    "Archive": [],
}


def _store() -> MemoryStore:
    store = MemoryStore()
    box, _ = store.put("bob", "s3cret")
    for name, messages in INITIAL.items():
        if name != INBOX:
            box.create_folder(name)
        for raw in messages:
            box.add(raw, folder=name, flags=("\\Seen",) if name == "Sent" else ())
    store.put("eve", "other")
    return store


@dataclass
class Folder:
    """One folder as the test sees it: by UIDVALIDITY (its identity), its UIDNEXT, messages by UID."""

    name: str
    uidvalidity: int
    uidnext: int
    messages: dict[int, tuple[str, str]]  # IMAP UID -> (message id, POP3 UID)


def _folders(store: MemoryStore) -> dict[int, Folder]:
    box = store.get("bob")
    out = {}
    for info in box.folders():
        snapshot = box.folder_snapshot(info.name)
        out[info.uidvalidity] = Folder(
            info.name, info.uidvalidity, info.uidnext, {m.imap_uid: (m.id, m.uid) for m in snapshot}
        )
    return out


def _check_store(store: MemoryStore) -> None:
    """The invariants of every mailbox and folder, whatever happened."""
    for box in store:
        infos = box.folders()
        assert infos[0].name == INBOX
        names = [info.name for info in infos]
        assert len(set(names)) == len(names)
        assert len({info.uidvalidity for info in infos}) == len(infos)
        assert box.count == len(box.listing()) == infos[0].messages
        for info in infos:
            snapshot = box.folder_snapshot(info.name)
            uids = [m.imap_uid for m in snapshot]
            assert all(a < b for a, b in itertools.pairwise(uids)), uids  # strictly rising
            assert all(0 < uid < info.uidnext for uid in uids), (uids, info.uidnext)
            assert info.messages == len(snapshot) == len(box.listing(info.name))
            assert info.octets == sum(m.size for m in snapshot)
            for message in snapshot:
                assert message.folder == info.name
                assert check_flags(message.flags) == message.flags
                assert "\\Recent" not in message.flags
                content = message.content
                assert content.count(b"\n") == content.count(b"\r\n") == content.count(b"\r")
                assert box.get(message.id).imap_uid == message.imap_uid


# --- reading responses ----------------------------------------------------------------------------------

_LITERAL = re.compile(rb"~?\{(\d+)\}\r\n\Z")


def responses(data: bytes, *, complete: bool = True) -> Iterator[bytes]:
    """The responses of a server's output, each with its literals' data cut out (each `{n}` kept); checks
    every line ends in CRLF and every literal has the octets it announced.  `complete`: no cut tail."""
    at = 0
    while at < len(data):
        parts = []
        while True:
            end = data.find(b"\r\n", at)
            if end < 0:
                assert not complete, ("response without CRLF", data[at : at + 200])
                return
            line = data[at : end + 2]
            assert b"\n" not in line[:-1] and b"\r" not in line[:-2], ("bare CR or LF", line[:200])
            at = end + 2
            match = _LITERAL.search(line)
            if match is None:
                parts.append(line)
                break
            size = int(match.group(1))
            if at + size > len(data):
                assert not complete, ("literal cut short", line)
                return
            parts.append(line[:-2])
            at += size
        yield b"".join(parts)


def _balanced(response: bytes) -> bool:
    """Parentheses balance outside quoted strings, and quoted strings end."""
    depth, quoted, escaped = 0, False, False
    for byte in response:
        if quoted:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                quoted = False
        elif byte == 0x22:
            quoted = True
        elif byte == 0x28:
            depth += 1
        elif byte == 0x29:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not quoted


_STATUS = (b"OK", b"NO", b"BAD")
_UNTAGGED = re.compile(rb"\* (?:(\d+) (EXISTS|EXPUNGE|FETCH|RECENT)\b|[A-Z][A-Z0-9.=-]*\b)")


def check_response(response: bytes, sent: bytes) -> None:
    """One response is a continuation, an untagged response or a tagged completion of a tag sent."""
    assert response.endswith(b"\r\n")
    assert (
        _balanced(response)
        or response.startswith((b"* OK", b"* NO", b"* BAD", b"* BYE", b"+"))
        or (response.split(b" ")[1:2] in ([b"OK"], [b"NO"], [b"BAD"]))
    ), response
    if response.startswith(b"+"):
        assert response[:2] in (b"+ ", b"+\r"), response
        return
    if response.startswith(b"* "):
        assert _UNTAGGED.match(response), response
        return
    tag, _, rest = response.partition(b" ")
    assert tag and set(tag) <= TAG_CHARS, response
    assert tag in sent, ("a tag the client never sent", response)
    assert rest.split(b" ", 1)[0].rstrip(b"\r\n") in _STATUS, response


# --- accounting ------------------------------------------------------------------------------------------


def _uid_set(text: bytes) -> list[int]:
    out: list[int] = []
    for part in text.split(b","):
        low, _, high = part.partition(b":")
        a, b = int(low), int(high or low)
        out.extend(range(min(a, b), max(a, b) + 1))
    return out


@dataclass
class Heard:
    """What the fuzzed session acknowledged, by folder identity (UIDVALIDITY)."""

    added: dict[int, set[int]] = field(default_factory=dict)  # APPENDUID, COPYUID destinations
    expunged: Counter[int] = field(default_factory=Counter)  # untagged EXPUNGE while selected
    closed: set[int] = field(default_factory=set)  # CLOSE completed while selected: silent expunges
    renamed: bool = False
    deleted: bool = False


_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")
_COPYUID = re.compile(rb"\[COPYUID (\d+) ([\d:,]+) ([\d:,]+)\]")
_UIDVALIDITY = re.compile(rb"^\* OK \[UIDVALIDITY (\d+)\]")


def account(all_responses: list[bytes]) -> Heard:
    heard = Heard()
    selected: int | None = None
    pending: int | None = None
    for response in all_responses:
        for regex in (_APPENDUID, _COPYUID):
            match = regex.search(response)
            if match is not None:
                uids = _uid_set(match.group(match.lastindex or 0))
                heard.added.setdefault(int(match.group(1)), set()).update(uids)
        if (match := _UIDVALIDITY.match(response)) is not None:
            pending = int(match.group(1))
        elif response.startswith(b"* OK [CLOSED]"):
            selected = None
        elif (match := _UNTAGGED.match(response)) is not None and match.group(2) == b"EXPUNGE":
            assert selected is not None, response
            heard.expunged[selected] += 1
        elif not response.startswith((b"* ", b"+")):
            text = response.split(b" ", 1)[1]
            if text.startswith((b"OK [READ-WRITE]", b"OK [READ-ONLY]")):
                selected, pending = pending, None
            elif text.startswith(b"OK CLOSE completed"):
                if selected is not None:
                    heard.closed.add(selected)
                selected = None
            elif text.startswith(b"OK UNSELECT completed"):
                selected = None
            elif text.startswith(b"OK RENAME completed"):
                heard.renamed = True
            elif text.startswith(b"OK DELETE completed"):
                heard.deleted = True
    return heard


def check_accounting(before: dict[int, Folder], after: dict[int, Folder], heard: Heard) -> None:
    """What the store gained or lost in every folder is what the session reported (no client vanished)."""
    inbox = next(f.uidvalidity for f in before.values() if f.name == INBOX)
    for uv, folder in after.items():
        old = before.get(uv)
        if old is None and heard.renamed:
            continue  # perhaps the folder RENAME INBOX made, with INBOX's messages (and their UIDs)
        reported = heard.added.get(uv, set())
        new = {uid for uid in folder.messages if old is None or uid >= old.uidnext}
        assert new <= reported, ("messages nobody was told of", folder.name, new - reported)
        if uv == inbox and heard.renamed:
            continue  # RENAME INBOX empties it, heard (as EXPUNGEs) only when INBOX is selected
        count = len(folder.messages)
        expected = (len(old.messages) if old else 0) + len(reported) - heard.expunged[uv]
        if uv in heard.closed:
            assert count <= expected, (folder.name, count, expected)
        else:
            assert count == expected, (folder.name, count, expected)
    if not heard.deleted and not heard.renamed:
        assert set(before) <= set(after)
        assert {f.name for f in before.values()} <= {f.name for f in after.values()}


def check_survivors(before: dict[int, Folder], after: dict[int, Folder]) -> None:
    """A message keeps its POP3 UID wherever it went; an INBOX message that stayed keeps its IMAP UID."""
    pop3 = {mid: puid for f in before.values() for mid, puid in f.messages.values()}
    for folder in after.values():
        for mid, puid in folder.messages.values():
            assert pop3.get(mid, puid) == puid
    inbox_before = next(f for f in before.values() if f.name == INBOX)
    inbox_after = next(f for f in after.values() if f.name == INBOX)
    if inbox_after.uidvalidity == inbox_before.uidvalidity:
        for uid, (mid, puid) in inbox_after.messages.items():
            if uid < inbox_before.uidnext:
                assert inbox_before.messages[uid] == (mid, puid)


# --- running -------------------------------------------------------------------------------------------


def _session(stream: trio.abc.Stream, store: MemoryStore) -> ImapSession:
    return ImapSession(stream, store, SessionConfig(transcripts=TranscriptLog("t")), max_message_size=LIMIT)


async def _drive(session: ImapSession, client: trio.abc.Stream, data: list[bytes], vanish: bool) -> bytes:
    replies = bytearray()

    async def read() -> None:
        while True:
            try:
                chunk = await client.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return
            if not chunk:
                return
            replies.extend(chunk)

    async def serve() -> None:
        await session.run()
        await session.stream.aclose()  # as the listener does once a session ends

    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        nursery.start_soon(read)
        for chunk in data:
            try:
                await client.send_all(chunk)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                break
            await trio.sleep(0)
        if vanish:
            await client.aclose()  # gone mid-whatever: no LOGOUT, no end of a literal
        else:
            await client.send_eof()  # type: ignore[attr-defined]
    return bytes(replies)


def _check_fuzzed(
    end: str, replies: bytes, data: list[bytes], vanish: bool, before: dict[int, Folder], store: MemoryStore
) -> None:
    sent = b"".join(data)
    assert end not in ("internal error", "running"), (end, replies[-300:])
    assert b"SERVERBUG" not in replies
    said = list(responses(replies, complete=not vanish))
    for response in said:
        check_response(response, sent)
    _check_store(store)
    after = _folders(store)
    check_survivors(before, after)
    if not vanish:
        check_accounting(before, after, account(said))
    if b"DELETE" not in sent and b"RENAME" not in sent:
        assert {uv: f.name for uv, f in before.items()}.items() <= {
            uv: f.name for uv, f in after.items()
        }.items()


FUZZ = settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(data=_stream(), vanish=st.booleans())
def test_imap_sessions_survive_any_input(data: list[bytes], vanish: bool) -> None:
    store = _store()
    before = _folders(store)
    result: dict[str, object] = {}

    async def main() -> None:
        client, server = trio.testing.memory_stream_pair()
        session = _session(server, store)
        result["replies"] = await _drive(session, client, data, vanish)
        result["end"] = session.end_reason

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    _check_fuzzed(str(result["end"]), bytes(result["replies"]), data, vanish, before, store)  # type: ignore[arg-type]


# --- a well-behaved session beside a fuzzed one ------------------------------------------------------------


class Watcher:
    """A well-behaved client: SELECT INBOX, FETCH all, IDLE; then DONE, NOOP, LOGOUT."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.output = bytearray()

    async def until(self, marker: bytes) -> None:
        while marker not in self.output:
            chunk = await self.stream.receive_some(65536)
            assert chunk, ("closed before", marker, bytes(self.output[-300:]))
            self.output.extend(chunk)

    async def command(self, tag: bytes, text: bytes) -> None:
        await self.stream.send_all(tag + b" " + text + b"\r\n")
        await self.until(b"\r\n" + tag + b" ")
        await self.until(b"\r\n")  # the rest of the completion line (no literal follows one)

    async def rest(self) -> None:
        while chunk := await self.stream.receive_some(65536):
            self.output.extend(chunk)


def check_watcher(output: bytes, store: MemoryStore) -> None:
    """Well-formed responses, the sequence numbers it heard consistent, and its count the store's."""
    count: int | None = None
    sent = b"g1 g2 g3 g4 g5 g6"
    for response in responses(output):
        check_response(response, sent)
        assert _balanced(response) or response.startswith((b"* OK", b"* BYE", b"+", b"g")), response
        match = _UNTAGGED.match(response)
        if match is None or match.group(1) is None:
            continue
        number, kind = int(match.group(1)), match.group(2)
        if kind == b"EXISTS":
            assert count is None or number >= count, response  # EXISTS never shrinks the view
            count = number
        elif kind == b"EXPUNGE":
            assert count is not None and 1 <= number <= count, response
            count -= 1
        elif kind == b"FETCH":
            assert count is not None and 1 <= number <= count, response
    assert b"\r\ng6 OK" in output
    assert count == len(store.get("bob").folder_snapshot(INBOX))


@settings(FUZZ, max_examples=150)
@given(data=_stream(), vanish=st.booleans())
def test_a_well_behaved_session_beside_a_fuzzed_one(data: list[bytes], vanish: bool) -> None:
    store = _store()
    before = _folders(store)
    result: dict[str, object] = {}

    async def main() -> None:
        fuzz_client, fuzz_server = trio.testing.memory_stream_pair()
        good_client, good_server = trio.testing.memory_stream_pair()
        fuzzed, good = _session(fuzz_server, store), _session(good_server, store)
        watcher = Watcher(good_client)
        async with trio.open_nursery() as nursery:

            async def serve_good() -> None:
                await good.run()
                await good_server.aclose()

            nursery.start_soon(serve_good)
            await watcher.until(b"\r\n")
            await watcher.command(b"g1", b"LOGIN bob s3cret")
            await watcher.command(b"g2", b"SELECT INBOX")
            await watcher.command(b"g3", b"FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER])")
            await good_client.send_all(b"g4 IDLE\r\n")
            await watcher.until(b"+ idling\r\n")
            result["replies"] = await _drive(fuzzed, fuzz_client, data, vanish)
            result["end"] = fuzzed.end_reason
            await good_client.send_all(b"DONE\r\n")
            await watcher.until(b"\r\ng4 ")
            await watcher.command(b"g5", b"NOOP")
            await good_client.send_all(b"g6 LOGOUT\r\n")
            await watcher.rest()
        result["good"] = bytes(watcher.output)
        result["good_end"] = good.end_reason

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    _check_fuzzed(str(result["end"]), bytes(result["replies"]), data, vanish, before, store)  # type: ignore[arg-type]
    assert result["good_end"] == "quit", result["good_end"]
    check_watcher(bytes(result["good"]), store)  # type: ignore[arg-type]


# --- the checkers themselves ------------------------------------------------------------------------------


def test_the_response_checker_rejects_malformed_output() -> None:
    good = b"* 1 FETCH (UID 4 BODY[] {5}\r\nab\r\nc)\r\n+ idling\r\na1 OK done\r\n"
    said = list(responses(good))
    assert said == [b"* 1 FETCH (UID 4 BODY[] {5})\r\n", b"+ idling\r\n", b"a1 OK done\r\n"]
    for response in said:
        check_response(response, b"a1 FETCH 1 BODY[]\r\n")
    bad_outputs = [
        b"* 1 FETCH (BODY[] {9}\r\nab\r\nc)\r\n",  # a literal short of what it announced
        b"* 1 EXISTS\n",  # bare LF
        b"* 1 EXISTS\r\na1 OK",  # cut
    ]
    for output in bad_outputs:
        try:
            list(responses(output))
        except AssertionError:
            continue
        raise AssertionError(output)
    for response, sent in [
        (b"b7 OK done\r\n", b"a1 NOOP\r\n"),  # a tag never sent
        (b"a1 MAYBE done\r\n", b"a1 NOOP\r\n"),
        (b"* 1 FETCH (UID 4\r\n", b""),  # unbalanced
        (b"hello\r\n", b"hello"),
    ]:
        try:
            check_response(response, sent)
        except AssertionError:
            continue
        raise AssertionError(response)


def test_the_accounting_counts_what_was_acknowledged() -> None:
    said = [
        b"* OK [UIDVALIDITY 7] UIDs valid\r\n",
        b"a1 OK [READ-WRITE] SELECT completed\r\n",
        b"a2 OK [APPENDUID 7 4] APPEND completed\r\n",
        b"* OK [COPYUID 9 1:2 5:6] moved\r\n",
        b"* 1 EXPUNGE\r\n",
        b"* 1 EXPUNGE\r\n",
        b"a3 OK MOVE completed\r\n",
        b"a4 OK CLOSE completed\r\n",
    ]
    heard = account(said)
    assert heard.added == {7: {4}, 9: {5, 6}}
    assert heard.expunged == Counter({7: 2})
    assert heard.closed == {7}
    before = {
        7: Folder(INBOX, 7, 4, {1: ("m1", "p1"), 2: ("m2", "p2"), 3: ("m3", "p3")}),
        9: Folder("S", 9, 5, {}),
    }
    after = {
        7: Folder(INBOX, 7, 5, {3: ("m3", "p3"), 4: ("m4", "p4")}),
        9: Folder("S", 9, 7, {5: ("m1", "p1"), 6: ("m2", "p2")}),
    }
    check_accounting(before, after, heard)
    check_survivors(before, after)
    phantom = {**after, 9: Folder("S", 9, 8, {**after[9].messages, 7: ("m9", "p9")})}
    try:
        check_accounting(before, phantom, heard)
    except AssertionError:
        pass
    else:
        raise AssertionError("a message nobody was told of went unnoticed")
    changed = {**after, 7: Folder(INBOX, 7, 5, {3: ("m3", "other"), 4: ("m4", "p4")})}
    try:
        check_survivors(before, changed)
    except AssertionError:
        pass
    else:
        raise AssertionError("a changed POP3 UID went unnoticed")
