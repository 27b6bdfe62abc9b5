"""mockmail/imap/_parser.py (with _reader.py): every command's grammar, and refusals that name the rule."""

from __future__ import annotations

import datetime

import pytest

from mockmail.imap import (
    Append,
    Authenticate,
    BadCommand,
    Capability,
    Check,
    Close,
    Copy,
    Create,
    Delete,
    Enable,
    Examine,
    Expunge,
    Fetch,
    FetchAttribute,
    FetchKind,
    Id,
    Idle,
    List,
    Login,
    Logout,
    Lsub,
    Move,
    Namespace,
    Noop,
    Rename,
    Search,
    Select,
    Sort,
    SortKey,
    StartTls,
    Status,
    Store,
    StoreMode,
    Subscribe,
    Unselect,
    Unsubscribe,
    parse_sequence_set,
)
from mockmail.imap._parser import parse_command
from mockmail.imap._reader import Literal
from mockmail.imap.search_keys import All, Flag, Header, Not

ALL_UIDS = parse_sequence_set("1:*")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"a1 CAPABILITY", Capability(tag="a1")),
        (b"a1 capability", Capability(tag="a1")),
        (b"A001 NOOP", Noop(tag="A001")),
        (b"x.y LOGOUT", Logout(tag="x.y")),
        (b"t STARTTLS", StartTls(tag="t")),
        (b"t CHECK", Check(tag="t")),
        (b"t CLOSE", Close(tag="t")),
        (b"t UNSELECT", Unselect(tag="t")),
        (b"t NAMESPACE", Namespace(tag="t")),
        (b"t IDLE", Idle(tag="t")),
        (b"t EXPUNGE", Expunge(tag="t")),
        (b"t UID EXPUNGE 3:5", Expunge(tag="t", uids=parse_sequence_set("3:5"))),
        (b"a LOGIN bob s3cret", Login(tag="a", user="bob", password="s3cret")),
        (b'a LOGIN "bob@example.com" "p\\"w\\\\d"', Login(tag="a", user="bob@example.com", password='p"w\\d')),
        (b'a LOGIN bob ""', Login(tag="a", user="bob", password="")),
        (b"a LOGIN b]ob pw", Login(tag="a", user="b]ob", password="pw")),
        (b'a LOGIN "j\xc3\xbcrgen" pw', Login(tag="a", user="jürgen", password="pw")),
        (b"a AUTHENTICATE plain", Authenticate(tag="a", mechanism="PLAIN")),
        (
            b"a AUTHENTICATE PLAIN AGJvYgBwdw==",
            Authenticate(tag="a", mechanism="PLAIN", initial_response="AGJvYgBwdw=="),
        ),
        (b"a AUTHENTICATE XOAUTH2 =", Authenticate(tag="a", mechanism="XOAUTH2", initial_response="=")),
        (b"a ENABLE IMAP4rev2 utf8=accept", Enable(tag="a", capabilities=("IMAP4REV2", "UTF8=ACCEPT"))),
        (b"a SELECT INBOX", Select(tag="a", mailbox="INBOX")),
        (b"a SELECT inBox", Select(tag="a", mailbox="INBOX")),
        (b'a SELECT "Sent Items"', Select(tag="a", mailbox="Sent Items")),
        (b"a SELECT Entw&APw-rfe", Select(tag="a", mailbox="Entwürfe")),
        (b"a SELECT INBOX (CONDSTORE)", Select(tag="a", mailbox="INBOX", parameters=("CONDSTORE",))),
        (
            b"a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211))",
            Select(tag="a", mailbox="INBOX", parameters=("QRESYNC (67890007 20050715194045000 41,43:211)",)),
        ),
        (b"a EXAMINE Archive", Examine(tag="a", mailbox="Archive")),
        (b"a CREATE Projects/2026", Create(tag="a", mailbox="Projects/2026")),
        (b"a CREATE Sent (USE (\\Sent))", Create(tag="a", mailbox="Sent", special_use=("\\Sent",))),
        (b"a DELETE old", Delete(tag="a", mailbox="old")),
        (b"a RENAME old new", Rename(tag="a", mailbox="old", new_name="new")),
        (b"a SUBSCRIBE news", Subscribe(tag="a", mailbox="news")),
        (b"a UNSUBSCRIBE news", Unsubscribe(tag="a", mailbox="news")),
        (b'a LIST "" *', List(tag="a", reference="", patterns=("*",))),
        (b'a LIST "" %', List(tag="a", reference="", patterns=("%",))),
        (b"a LIST ~/Mail/ %/x*", List(tag="a", reference="~/Mail/", patterns=("%/x*",))),
        (b'a LIST "" ""', List(tag="a", reference="", patterns=("",))),
        (
            b'a LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" "Drafts/%")',
            List(
                tag="a",
                reference="",
                patterns=("INBOX", "Drafts/%"),
                selection=("SUBSCRIBED", "RECURSIVEMATCH"),
                extended=True,
            ),
        ),
        (
            b'a LIST "" * RETURN (SPECIAL-USE CHILDREN STATUS (MESSAGES UNSEEN))',
            List(
                tag="a",
                reference="",
                patterns=("*",),
                return_options=("SPECIAL-USE", "CHILDREN", "STATUS"),
                status_items=("MESSAGES", "UNSEEN"),
                extended=True,
            ),
        ),
        (b'a LSUB "" *', Lsub(tag="a", reference="", pattern="*")),
        (
            b"a STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT)",
            Status(
                tag="a",
                mailbox="INBOX",
                items=("MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "RECENT"),
            ),
        ),
        (b"a ID NIL", Id(tag="a", parameters=None)),
        (b'a ID ("name" "Thunderbird" "version" NIL)', Id(tag="a", parameters=(("name", "Thunderbird"), ("version", None)))),
        (b"a ID ()", Id(tag="a", parameters=())),
        (
            b"a FETCH 1:* (FLAGS UID)",
            Fetch(
                tag="a",
                sequence_set=ALL_UIDS,
                items=(FetchAttribute(FetchKind.FLAGS), FetchAttribute(FetchKind.UID)),
            ),
        ),
        (
            b"a UID FETCH 1:* FLAGS (CHANGEDSINCE 12345)",
            Fetch(
                tag="a",
                sequence_set=ALL_UIDS,
                items=(FetchAttribute(FetchKind.FLAGS),),
                uid=True,
                changed_since=12345,
            ),
        ),
        (
            b"a STORE 2:4 +FLAGS (\\Deleted)",
            Store(tag="a", sequence_set=parse_sequence_set("2:4"), mode=StoreMode.ADD, flags=("\\Deleted",)),
        ),
        (
            b"a UID STORE 7 -FLAGS.SILENT \\Seen $Junk",
            Store(
                tag="a",
                sequence_set=parse_sequence_set("7"),
                mode=StoreMode.REMOVE,
                flags=("\\Seen", "$Junk"),
                silent=True,
                uid=True,
            ),
        ),
        (
            b"a STORE 1 (UNCHANGEDSINCE 320162338) FLAGS ()",
            Store(
                tag="a",
                sequence_set=parse_sequence_set("1"),
                mode=StoreMode.REPLACE,
                flags=(),
                unchanged_since=320162338,
            ),
        ),
        (b"a COPY 2:4 Archive", Copy(tag="a", sequence_set=parse_sequence_set("2:4"), mailbox="Archive")),
        (
            b'a UID MOVE 42 "Deleted Items"',
            Move(tag="a", sequence_set=parse_sequence_set("42"), mailbox="Deleted Items", uid=True),
        ),
        (b"a COPY $ Archive", Copy(tag="a", sequence_set=parse_sequence_set("$"), mailbox="Archive")),
        (b"a SEARCH ALL", Search(tag="a", criteria=All())),
        (b"a UID SEARCH UNSEEN", Search(tag="a", criteria=Flag("\\Seen", False), uid=True)),
        (
            b"a SEARCH CHARSET UTF-8 SUBJECT \"f\xc3\xbcr\"",
            Search(tag="a", criteria=Header("SUBJECT", "für"), charset="UTF-8"),
        ),
        (
            b"a SEARCH CHARSET ISO-8859-1 FROM \"m\xfcller\"",
            Search(tag="a", criteria=Header("FROM", "müller"), charset="ISO-8859-1"),
        ),
        (b"a SEARCH RETURN (MIN MAX COUNT) ALL", Search(tag="a", criteria=All(), return_options=("MIN", "MAX", "COUNT"))),
        (b"a SEARCH RETURN () ALL", Search(tag="a", criteria=All(), return_options=())),
        (
            b"a UID SORT (REVERSE ARRIVAL SUBJECT) US-ASCII ALL",
            Sort(
                tag="a",
                criteria=((SortKey.ARRIVAL, True), (SortKey.SUBJECT, False)),
                charset="US-ASCII",
                search=All(),
                uid=True,
            ),
        ),
        (
            b"a SORT (DATE) US-ASCII NOT SEEN",
            Sort(
                tag="a",
                criteria=((SortKey.DATE, False),),
                charset="US-ASCII",
                search=Not(Flag("\\Seen")),
            ),
        ),
    ],
)
def test_parses_commands(line: bytes, expected: object) -> None:
    assert parse_command(line) == expected


def test_append_with_flags_date_and_literal() -> None:
    text = b'a APPEND Drafts (\\Draft \\Seen) " 6-Dec-2026 12:00:00 +0100" {11}'
    parsed = parse_command(text, {len(text) - 4: Literal(b"Subject: x\n", len(text))})
    assert parsed == Append(
        tag="a",
        mailbox="Drafts",
        flags=("\\Draft", "\\Seen"),
        internal_date=datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))),
        message=b"Subject: x\n",
    )


def test_append_literal8_keeps_nul() -> None:
    text = b"a APPEND INBOX ~{3}"
    parsed = parse_command(text, {15: Literal(b"a\x00b", len(text), binary=True)})
    assert parsed == Append(tag="a", mailbox="INBOX", message=b"a\x00b", binary=True)


def test_login_with_literals() -> None:
    text = b"a LOGIN {3} {2}"
    parsed = parse_command(text, {8: Literal(b"bob", 11), 12: Literal(b"p w", 15)})
    assert parsed == Login(tag="a", user="bob", password="p w")


def test_utf8_session_takes_mailbox_names_as_utf8() -> None:
    assert parse_command("a SELECT \"Entwürfe\"".encode(), utf8=True) == Select(tag="a", mailbox="Entwürfe")
    # The same octets from a rev1 client are not modified UTF-7.
    bad = parse_command("a SELECT \"Entwürfe\"".encode())
    assert isinstance(bad, BadCommand) and "modified UTF-7" in bad.reason
    bad = parse_command(b'a CREATE "a\xc2\x85b"', utf8=True)  # U+0085, a C1 control
    assert isinstance(bad, BadCommand) and "control character" in bad.reason
    # In UTF-8 mode `&` is an ordinary character.
    assert parse_command(b"a SELECT A&B", utf8=True) == Select(tag="a", mailbox="A&B")


@pytest.mark.parametrize(
    ("line", "tag", "reason"),
    [
        (b"", "*", "missing or invalid tag"),
        (b"+a NOOP", "*", "missing or invalid tag"),
        (b"a", "a", "expected a single space"),
        (b"a  NOOP", "a", "expected a command name"),
        (b"a FROB", "a", "unknown command 'FROB'"),
        (b"a NOOP extra", "a", "NOOP: NOOP takes no arguments"),
        (b"a LOGIN bob", "a", "LOGIN: expected a single space"),
        (b"a LOGIN bob pw extra", "a", "expected end of line"),
        (b'a LOGIN "bob pw', "a", "quoted string is not closed"),
        (b'a LOGIN "b\\ob" pw', "a", "escapes only"),
        (b"a LOGIN {3} pw", "a", "does not start a literal"),
        (b"a LOGIN b\xffob pw", "a", "found 0xff"),
        (b"a SELECT &Jjo", "a", "modified UTF-7"),
        (b"a SELECT a&AAk-b", "a", "control character"),
        (b'a CREATE "a\x7fb"', "a", "octet 0x7f outside printable"),
        (b"a SELECT INBOX (", "a", "expected a SELECT parameter name"),
        (b"a CREATE x (FOO (bar))", "a", "unknown CREATE parameter 'FOO'"),
        (b"a LIST (BOGUS) \"\" *", "a", "unknown LIST selection option 'BOGUS'"),
        (b"a LIST \"\" * RETURN (BOGUS)", "a", "unknown LIST return option 'BOGUS'"),
        (b"a LIST \"\" * TRAILING", "a", "expected RETURN"),
        (b"a STATUS INBOX (MESSAGES BOGUS)", "a", "unknown STATUS item 'BOGUS'"),
        (b"a STATUS INBOX ()", "a", "STATUS needs at least one item"),
        (b"a APPEND INBOX x", "a", "APPEND needs the message as a literal"),
        (b"a APPEND INBOX \"x\" {1}", "a", "date-time at octet 15"),
        (b"a ENABLE", "a", "ENABLE needs at least one capability"),
        (b"a FETCH 0 FLAGS", "a", "invalid sequence set"),
        (b"a FETCH x FLAGS", "a", "invalid sequence set"),
        (b"a FETCH 1 BOGUS", "a", "unknown fetch item 'BOGUS'"),
        (b"a FETCH 1 (FLAGS", "a", "expected a single space"),
        (b"a FETCH 1 BODY[BOGUS]", "a", "unknown section text 'BOGUS'"),
        (b"a FETCH 1 BODY[MIME]", "a", "MIME needs part numbers"),
        (b"a FETCH 1 BODY[]<0.0>", "a", "partial length"),
        (b"a FETCH 1 BINARY[HEADER]", "a", "BINARY section holds part numbers only"),
        (b"a FETCH 1 BINARY.SIZE[1]<0.5>", "a", "BINARY.SIZE takes no partial range"),
        (b"a FETCH 1 FLAGS (BOGUS 1)", "a", "unknown FETCH modifier"),
        (b"a STORE 1 FLAGZ (\\Seen)", "a", "expected [+|-]FLAGS[.SILENT]"),
        (b"a STORE 1 +FLAGS (\\Seen", "a", "expected a single space"),
        (b"a SEARCH BOGUS", "a", "unknown search key 'BOGUS'"),
        (b"a SEARCH", "a", "expected a single space"),
        (b"a SEARCH SINCE 32-Jan-2026", "a", "does not exist"),
        (b"a SEARCH SINCE 2026-01-01", "a", "not d-Mon-yyyy"),
        (b"a SEARCH RETURN (BOGUS) ALL", "a", "unknown SEARCH return option 'BOGUS'"),
        (b"a SEARCH CHARSET UTF-8 SUBJECT \"\xff\"", "a", "not valid UTF-8"),
        (b"a SORT () UTF-8 ALL", "a", "SORT needs at least one sort key"),
        (b"a SORT (BOGUS) UTF-8 ALL", "a", "unknown sort key 'BOGUS'"),
        (b"a SORT (DATE) ALL", "a", "expected a single space"),
        (b"a UID LOGIN bob pw", "a", "UID LOGIN is not a UID command"),
        (b"a UID EXPUNGE", "a", "expected a single space"),
        (b"a ID (\"name\")", "a", "expected a single space"),
        (b"a AUTHENTICATE PLAIN a$b", "a", "not base64"),
        (b"a NOOP\nb NOOP", "a", "bare CR or LF"),
        (b"a NOOP\rb NOOP", "a", "bare CR or LF"),
        (b"a NOOP\x00", "a", "NUL in a command line"),
    ],
)
def test_refusals_name_the_rule(line: bytes, tag: str, reason: str) -> None:
    parsed = parse_command(line)
    assert isinstance(parsed, BadCommand)
    assert parsed.tag == tag
    assert reason in parsed.reason


def test_nul_in_plain_literal_is_refused() -> None:
    text = b"a LOGIN {3} pw"
    parsed = parse_command(text, {8: Literal(b"b\x00b", 11)})
    assert isinstance(parsed, BadCommand) and "literal8" in parsed.reason


def test_literal8_only_for_message_data() -> None:
    text = b"a LOGIN ~{3} pw"
    parsed = parse_command(text, {8: Literal(b"bob", 12, binary=True)})
    assert isinstance(parsed, BadCommand) and "only for message data" in parsed.reason


def test_too_many_id_pairs() -> None:
    pairs = b" ".join(b'"k%d" "v"' % i for i in range(31))
    parsed = parse_command(b"a ID (" + pairs + b")")
    assert isinstance(parsed, BadCommand) and "30" in parsed.reason


def test_deep_parameter_nesting_is_refused_not_a_crash() -> None:
    parsed = parse_command(b"a SELECT INBOX (X " + b"(" * 5000 + b")" * 5000 + b")")
    assert isinstance(parsed, BadCommand) and "nested deeper" in parsed.reason
