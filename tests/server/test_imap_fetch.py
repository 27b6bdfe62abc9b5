"""FETCH items of stored messages, octet for octet: cheap items, bodies as literals, sections, partials,
BINARY, the tree cache (parse once, weakly held, bounded), and a large cheap FETCH that parses nothing."""

from __future__ import annotations

import base64
import calendar
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockmail.imap import (
    FetchAttribute,
    FetchKind,
    UnknownCteError,
    body_structure,
    parse_message,
    write_envelope,
)
from mockmail.imap._fetch import parse_fetch_attributes
from mockmail.imap._reader import Reader
from mockmail.imap._writer import write
from mockmail.message.headers import summarize
from mockmail.server import imap_fetch
from mockmail.server.imap_fetch import MessageCache, fetch_response, flag_order, sets_seen
from mockmail.store import Database, Mailbox, MemoryStore, Message, SqliteStore
from tests.imap.messages import ALTERNATIVE, ATTACHMENT, ENCODED, HOSTILE, NESTED, NO_CONTENT_TYPE, PLAIN

ALL_MESSAGES = [PLAIN, ALTERNATIVE, ATTACHMENT, NESTED, ENCODED, NO_CONTENT_TYPE, HOSTILE]
SMALL = b"Subject: hi\r\n\r\nbody\r\n"  # 21 octets
NOON_2025 = calendar.timegm((2025, 3, 4, 12, 0, 0))


def items(text: str) -> tuple[FetchAttribute, ...]:
    return parse_fetch_attributes(Reader(text.encode("ascii")))


def wire(message: Message, text: str, *, seq: int = 1, uid: bool = False, cache: MessageCache | None = None) -> bytes:
    return write(fetch_response(message, seq, items(text), cache or MessageCache(), uid=uid))


@pytest.fixture(name="box", params=["memory", "sqlite"])
def _box(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Mailbox]:
    """An empty mailbox of each backend (a persistent store's messages read their content on use)."""
    if request.param == "memory":
        yield MemoryStore().put("bob", "pw")[0]
        return
    db = Database(tmp_path)
    yield SqliteStore(db, "acme").put("bob", "pw")[0]
    db.close()


def add(box: Mailbox, content: bytes, flags: tuple[str, ...] = (), internaldate: float = NOON_2025) -> Message:
    return box.add_many([(content, None)], flags=flags, internaldate=internaldate)[0]


# --- items that need no content --------------------------------------------------------------------


def test_cheap_items(box: Mailbox) -> None:
    add(box, PLAIN)
    message = add(box, SMALL, ("$Label", "\\Seen", "\\Answered"), NOON_2025 + 0.75)
    assert wire(message, "(FLAGS UID RFC822.SIZE INTERNALDATE)", seq=2) == (
        b'* 2 FETCH (FLAGS (\\Answered \\Seen $Label) UID 2 RFC822.SIZE 21 INTERNALDATE "04-Mar-2025 12:00:00 +0000")'
        b"\r\n"
    )


def test_macros_are_expanded_by_the_parser() -> None:
    box = MemoryStore().put("bob", "pw")[0]
    message = add(box, SMALL, ("\\Flagged",))
    assert wire(message, "FAST") == (
        b'* 1 FETCH (FLAGS (\\Flagged) INTERNALDATE "04-Mar-2025 12:00:00 +0000" RFC822.SIZE 21)\r\n'
    )
    envelope = write_envelope(parse_message(SMALL).envelope)  # type: ignore[arg-type]
    assert wire(message, "ALL").endswith(b" ENVELOPE " + envelope + b")\r\n")
    assert wire(message, "FULL").endswith(
        b' ENVELOPE (NIL "hi" NIL NIL NIL NIL NIL NIL NIL NIL)'
        b' BODY ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1))\r\n'
    )


def test_uid_fetch_answers_uid_first_and_once() -> None:
    box = MemoryStore().put("bob", "pw")[0]
    add(box, SMALL)
    message = add(box, SMALL)
    assert wire(message, "FLAGS", seq=2, uid=True) == b"* 2 FETCH (UID 2 FLAGS ())\r\n"
    assert wire(message, "(RFC822.SIZE UID)", seq=2, uid=True) == b"* 2 FETCH (RFC822.SIZE 21 UID 2)\r\n"
    assert wire(message, "(UID UID FLAGS FLAGS)", seq=2) == b"* 2 FETCH (UID 2 FLAGS ())\r\n"


def test_flags_override_is_reported_when_they_changed() -> None:
    box = MemoryStore().put("bob", "pw")[0]
    message = add(box, SMALL, ("$x",))
    cache = MessageCache()
    seen = frozenset({"\\Seen", "$x"})
    body = items("BODY[TEXT]")
    assert write(fetch_response(message, 1, body, cache, uid=False, flags=seen)) == (
        b"* 1 FETCH (BODY[TEXT] {6}\r\nbody\r\n FLAGS (\\Seen $x))\r\n"
    )
    assert write(fetch_response(message, 1, body, cache, uid=False, flags=message.flags)) == (
        b"* 1 FETCH (BODY[TEXT] {6}\r\nbody\r\n)\r\n"
    )
    assert write(fetch_response(message, 1, items("FLAGS"), cache, uid=False, flags=seen)) == (
        b"* 1 FETCH (FLAGS (\\Seen $x))\r\n"
    )


def test_flag_order() -> None:
    assert flag_order(frozenset({"work", "$Junk", "\\Seen", "\\Deleted"})) == ("\\Deleted", "\\Seen", "$Junk", "work")


@pytest.mark.parametrize(
    ("text", "seen"),
    [
        ("BODY[]", True),
        ("BODY[1.MIME]<0.4>", True),
        ("BODY.PEEK[]", False),
        ("RFC822", True),
        ("RFC822.TEXT", True),
        ("RFC822.HEADER", False),
        ("BINARY[1]", True),
        ("BINARY.PEEK[1]", False),
        ("BINARY.SIZE[1]", False),
        ("(FLAGS ENVELOPE BODYSTRUCTURE BODY UID RFC822.SIZE INTERNALDATE)", False),
        ("(FLAGS BODY.PEEK[HEADER] BODY[TEXT])", True),
        ("ALL", False),
    ],
)
def test_sets_seen(text: str, seen: bool) -> None:
    assert sets_seen(items(text)) is seen


# --- bodies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", ALL_MESSAGES)
def test_body_is_a_literal_of_the_exact_content(box: Mailbox, content: bytes) -> None:
    message = add(box, content)
    literal = b"{%d}\r\n" % len(content) + content
    assert wire(message, "BODY[]") == b"* 1 FETCH (BODY[] " + literal + b")\r\n"
    assert wire(message, "(RFC822 BODY.PEEK[])") == b"* 1 FETCH (RFC822 " + literal + b" BODY[] " + literal + b")\r\n"
    assert wire(message, "BINARY.PEEK[]") == b"* 1 FETCH (BINARY[] " + literal + b")\r\n"
    assert wire(message, "BINARY.SIZE[]") == b"* 1 FETCH (BINARY.SIZE[] %d)\r\n" % len(content)


def test_header_fields_of_an_encoded_subject_come_as_written(box: Mailbox) -> None:
    message = add(box, ENCODED)
    field = b"Subject: Re: [lista] Fwd: =?utf-8?b?Q2Fmw6kgeSB0b3N0YWRhcw==?=\r\n (fwd)\r\n\r\n"
    assert wire(message, "BODY.PEEK[HEADER.FIELDS (SUBJECT)]") == (
        b"* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {%d}\r\n" % len(field) + field + b")\r\n"
    )
    rest = wire(message, "BODY[HEADER.FIELDS.NOT (SUBJECT FROM TO REPLY-TO DATE MESSAGE-ID MIME-VERSION)]")
    kept = b"In-Reply-To: <orig@example.es>\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
    kept += b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    assert rest == (
        b"* 1 FETCH (BODY[HEADER.FIELDS.NOT (SUBJECT FROM TO REPLY-TO DATE MESSAGE-ID MIME-VERSION)] "
        + b"{%d}\r\n" % len(kept)
        + kept
        + b")\r\n"
    )


def test_a_short_safe_section_is_still_a_literal() -> None:
    message = add(MemoryStore().put("bob", "pw")[0], SMALL)
    assert wire(message, "BODY[]<0.7>") == b"* 1 FETCH (BODY[]<0> {7}\r\nSubject)\r\n"


@pytest.mark.parametrize(
    ("partial", "expected"),
    [
        ("<0.5>", b"<0> {5}\r\nSubje"),
        ("<19.2>", b"<19> {2}\r\n\r\n"),  # the last two octets exactly
        ("<19.100>", b"<19> {2}\r\n\r\n"),  # running past the end
        ("<21.5>", b"<21> {0}\r\n"),  # starting at the end
        ("<4000.1>", b"<4000> {0}\r\n"),  # starting past the end
    ],
)
def test_partial_whole_message(partial: str, expected: bytes) -> None:
    message = add(MemoryStore().put("bob", "pw")[0], SMALL)
    assert wire(message, f"BODY.PEEK[]{partial}") == b"* 1 FETCH (BODY[]" + expected + b")\r\n"


def test_partial_of_a_section(box: Mailbox) -> None:
    message = add(box, ALTERNATIVE)
    text = "Your order =E2=82=AC 12 has shipped.=20\r\nTrack it online."
    assert wire(message, "BODY[1]<5.5>") == b"* 1 FETCH (BODY[1]<5> {5}\r\norder)\r\n"
    tail = text.encode()[-6:]
    assert wire(message, f"BODY[1]<{len(text) - 6}.50>") == (
        b"* 1 FETCH (BODY[1]<%d> {6}\r\n" % (len(text) - 6) + tail + b")\r\n"
    )
    assert wire(message, f"BODY[1]<{len(text)}.50>") == b"* 1 FETCH (BODY[1]<%d> {0}\r\n)\r\n" % len(text)


def test_sections_of_parts(box: Mailbox) -> None:
    message = add(box, NESTED)
    mime = b"Content-Type: message/rfc822\r\nContent-Description: forwarded message\r\n\r\n"
    inner_subject = b"Subject: Your order has shipped\r\n\r\n"
    assert wire(message, "(BODY[2.MIME] BODY[2.HEADER.FIELDS (SUBJECT)] BODY[2.1] BODY[9])") == (
        b"* 1 FETCH (BODY[2.MIME] {%d}\r\n" % len(mime)
        + mime
        + b" BODY[2.HEADER.FIELDS (SUBJECT)] {%d}\r\n" % len(inner_subject)
        + inner_subject
        + b" BODY[2.1] {8}\r\nShipped. BODY[9] {0}\r\n)\r\n"
    )


def test_rfc822_header_and_text(box: Mailbox) -> None:
    message = add(box, NO_CONTENT_TYPE)
    header, _, text = NO_CONTENT_TYPE.partition(b"\r\n\r\n")
    assert wire(message, "(RFC822.HEADER RFC822.TEXT)") == (
        b"* 1 FETCH (RFC822.HEADER {%d}\r\n" % (len(header) + 4)
        + header
        + b"\r\n\r\n RFC822.TEXT {%d}\r\n" % len(text)
        + text
        + b")\r\n"
    )


def test_nul_in_a_body_is_sent_as_0x80_with_the_same_count() -> None:
    message = add(MemoryStore().put("bob", "pw")[0], b"Subject: x\r\n\r\na\x00b\r\n")
    assert wire(message, "BODY[TEXT]") == b"* 1 FETCH (BODY[TEXT] {5}\r\na\x80b\r\n)\r\n"
    assert wire(message, "BINARY[1]") == b"* 1 FETCH (BINARY[1] ~{5}\r\na\x00b\r\n)\r\n"


# --- structure -------------------------------------------------------------------------------------


def test_plain_bodystructure_and_envelope_exact(box: Mailbox) -> None:
    message = add(box, PLAIN)
    assert wire(message, "(BODYSTRUCTURE ENVELOPE)") == (
        b'* 1 FETCH (BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 47 4 NIL NIL NIL NIL)'
        b' ENVELOPE ("Fri, 21 Nov 1997 09:55:06 -0600" "Lunch on Friday?"'
        b' (("Alice Example" NIL "alice" "example.com")) (("Alice Example" NIL "alice" "example.com"))'
        b' (("Alice Example" NIL "alice" "example.com")) ((NIL NIL "bob" "example.org")) NIL NIL NIL'
        b' "<plain.1@example.com>"))\r\n'
    )


def test_multipart_bodies_follow_each_other_without_a_space(box: Mailbox) -> None:
    message = add(box, ALTERNATIVE)
    assert wire(message, "BODY") == (
        b'* 1 FETCH (BODY (("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 57 1)'
        b'("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 50 0) "alternative"))\r\n'
    )


@pytest.mark.parametrize("content", ALL_MESSAGES)
def test_structure_items_are_the_message_sides(content: bytes) -> None:
    message = add(MemoryStore().put("bob", "pw")[0], content)
    tree = parse_message(content)
    assert tree.envelope is not None
    assert wire(message, "(ENVELOPE BODY BODYSTRUCTURE)") == (
        b"* 1 FETCH (ENVELOPE "
        + write_envelope(tree.envelope)
        + b" BODY "
        + body_structure(tree, extended=False)
        + b" BODYSTRUCTURE "
        + body_structure(tree)
        + b")\r\n"
    )


# --- BINARY ----------------------------------------------------------------------------------------


def test_binary_decodes_the_part(box: Mailbox) -> None:
    message = add(box, ATTACHMENT)
    pdf = base64.b64decode(b"JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==")
    assert wire(message, "(BINARY.PEEK[2] BINARY.SIZE[2] BINARY[2]<0.4>)") == (
        b"* 1 FETCH (BINARY[2] {%d}\r\n" % len(pdf) + pdf + b" BINARY.SIZE[2] %d BINARY[2]<0> {4}\r\n%%PDF)\r\n" % len(pdf)
    )


def test_binary_with_nul_is_a_literal8() -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    content = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: image/png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(data) + b"\r\n--b--\r\n"
    )
    message = add(MemoryStore().put("bob", "pw")[0], content)
    assert wire(message, "BINARY[1]") == b"* 1 FETCH (BINARY[1] ~{%d}\r\n" % len(data) + data + b")\r\n"


def test_unknown_transfer_encoding_raises_for_the_session_to_answer_unknown_cte() -> None:
    content = b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n"
    message = add(MemoryStore().put("bob", "pw")[0], content)
    for text in ("BINARY[1]", "BINARY.PEEK[1]<0.3>", "BINARY.SIZE[1]"):
        with pytest.raises(UnknownCteError):
            wire(message, text)
    assert wire(message, "BODY.PEEK[1]") == b"* 1 FETCH (BODY[1] {13}\r\nbegin 644 x\r\n)\r\n"


def test_modseq_is_not_served() -> None:
    message = add(MemoryStore().put("bob", "pw")[0], SMALL)
    with pytest.raises(ValueError, match="CONDSTORE"):
        fetch_response(message, 1, (FetchAttribute(FetchKind.MODSEQ),), MessageCache(), uid=False)


# --- the cache -------------------------------------------------------------------------------------


def test_each_message_is_parsed_once_even_across_flag_changes() -> None:
    box = MemoryStore().put("bob", "pw")[0]
    first = add(box, ALTERNATIVE)
    second = add(box, PLAIN)
    cache = MessageCache()
    structure = items("(BODYSTRUCTURE ENVELOPE BODY[1] BODY[HEADER] RFC822.TEXT)")
    fetch_response(first, 1, structure, cache, uid=False)
    fetch_response(first, 1, structure, cache, uid=False)
    assert cache.parses == 1
    (flagged,) = box.set_flags("INBOX", [first.imap_uid], ["\\Seen"])
    assert flagged is not first and flagged.key == first.key
    answer = write(fetch_response(flagged, 1, structure, cache, uid=False))
    assert cache.parses == 1
    assert answer == write(fetch_response(first, 1, structure, MessageCache(), uid=False))
    fetch_response(second, 2, structure, cache, uid=False)
    assert cache.parses == 2


def test_trees_go_with_their_messages() -> None:
    box = MemoryStore().put("bob", "pw")[0]
    cache = MessageCache()
    message = add(box, NESTED)
    cache.view(message)
    assert len(cache) == 1
    box.expunge("INBOX", [message.imap_uid])
    del message
    gc.collect()
    assert len(cache) == 0


def test_the_cache_is_bounded() -> None:
    box = MemoryStore().put("bob", "pw")[0]
    cache = MessageCache(limit=2)
    messages = [add(box, content) for content in (PLAIN, ALTERNATIVE, NESTED)]
    for message in messages:
        cache.view(message)
    assert len(cache) == 2
    cache.view(messages[2])
    cache.view(messages[1])
    assert cache.parses == 3  # the two most recent are kept
    cache.view(messages[0])
    assert cache.parses == 4
    with pytest.raises(ValueError):
        MessageCache(limit=0)


class _Source:
    """A persistent store stand-in: content read on use and counted; place and details never needed."""

    def __init__(self, content: bytes | None) -> None:
        self.content = content
        self.reads = 0

    def read_content(self, message: Message) -> bytes:
        if self.content is None:
            raise AssertionError(f"content of {message!r} read")
        self.reads += 1
        return bytes(self.content)

    def read_details(self, message: Message) -> tuple[object, None]:
        raise AssertionError("details read")

    def read_place(self, message: Message) -> tuple[str, int, str, float]:
        raise AssertionError("place read")


def _stored(source: _Source, number: int, size: int) -> Message:
    return Message.stored(
        source,  # type: ignore[arg-type]
        key=number,
        id=f"m{number:d}",
        uid=f"m{number:d}",
        size=size,
        created=NOON_2025,
        via="api",
        folder="INBOX",
        imap_uid=number,
        flags="\\Seen" if number % 2 else "",
        internaldate=NOON_2025,
        summary=summarize(b""),
    )


def test_a_persistent_message_is_read_afresh_and_its_content_not_kept() -> None:
    source = _Source(ATTACHMENT)
    message = _stored(source, 7, len(ATTACHMENT))
    cache = MessageCache()
    one = fetch_response(message, 1, items("(BODY[] BODYSTRUCTURE BODY[1] BINARY[2])"), cache, uid=False)
    assert (source.reads, cache.parses) == (1, 1)  # one read serves every item of one FETCH
    assert write(one).startswith(b"* 1 FETCH (BODY[] {%d}\r\n" % len(ATTACHMENT) + ATTACHMENT)
    fetch_response(message, 1, items("BODY[1]"), cache, uid=False)
    assert (source.reads, cache.parses) == (2, 1)


def test_a_cheap_fetch_of_ten_thousand_messages_reads_and_parses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(content: bytes) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(imap_fetch, "parse_message", refuse)
    source = _Source(None)
    messages = [_stored(source, n, 1000 + n) for n in range(1, 10_001)]
    cache = MessageCache()
    wanted = items("(FLAGS RFC822.SIZE)")
    lines = [write(fetch_response(m, seq, wanted, cache, uid=True)) for seq, m in enumerate(messages, 1)]
    assert cache.parses == 0 and len(cache) == 0
    assert lines[0] == b"* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE 1001)\r\n"
    assert lines[-1] == b"* 10000 FETCH (UID 10000 FLAGS () RFC822.SIZE 11000)\r\n"


# --- rows: a cheap FETCH over many messages, without an object per message -------------------------


@pytest.mark.parametrize(
    ("text", "uid"),
    [
        ("(FLAGS RFC822.SIZE)", False),
        ("(FLAGS RFC822.SIZE)", True),
        ("(UID FLAGS)", True),
        ("(RFC822.SIZE INTERNALDATE FLAGS FLAGS)", False),
        ("FAST", True),
        ("UID", False),
    ],
)
def test_rows_are_the_lines_of_one_response_per_message(box: Mailbox, text: str, uid: bool) -> None:
    messages = [
        add(box, SMALL),
        add(box, PLAIN, flags=("\\Seen", "$Label")),
        add(box, SMALL, flags=("\\Deleted",), internaldate=NOON_2025 + 3600),
    ]
    targets = [(seq, m) for seq, m in enumerate(messages, 1)]
    rows = imap_fetch.fetch_rows(targets, items(text), uid=uid)
    assert rows is not None
    one_each = b"".join(wire(m, text, seq=seq, uid=uid) for seq, m in targets)
    assert write(rows) == one_each


@pytest.mark.parametrize("text", ["(FLAGS BODY[])", "ENVELOPE", "(RFC822.SIZE BODY.PEEK[HEADER])", "BODYSTRUCTURE"])
def test_rows_serve_only_items_the_message_answers_alone(box: Mailbox, text: str) -> None:
    assert imap_fetch.fetch_rows([(1, add(box, SMALL))], items(text), uid=False) is None


def test_no_rows_without_targets() -> None:
    assert imap_fetch.fetch_rows([], items("(FLAGS RFC822.SIZE)"), uid=False) is None
