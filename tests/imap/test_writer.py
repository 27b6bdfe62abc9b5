"""mockmail/imap/_writer.py: the exact bytes of every response, string choices, numbers and dates."""

from __future__ import annotations

import datetime

import pytest

from mockmail.imap import (
    ALERT,
    ALREADYEXISTS,
    AUTHENTICATIONFAILED,
    CANNOT,
    CLIENTBUG,
    CLOSED,
    EXPUNGEISSUED,
    INUSE,
    LIMIT,
    NONEXISTENT,
    PRIVACYREQUIRED,
    READ_ONLY,
    READ_WRITE,
    SERVERBUG,
    TOOBIG,
    TRYCREATE,
    UNAVAILABLE,
    Atom,
    Bad,
    Binary,
    Bye,
    CapabilityResponse,
    Code,
    Continuation,
    EnabledResponse,
    EsearchResponse,
    ExistsResponse,
    ExpungeResponse,
    FetchResponse,
    FetchRows,
    Flags,
    FlagsResponse,
    Greeting,
    IdResponse,
    ListResponse,
    LocalProtocolError,
    LsubResponse,
    NamespaceResponse,
    No,
    Ok,
    RecentResponse,
    Rendered,
    Response,
    SaslChallenge,
    SearchResponse,
    SequenceSet,
    SortResponse,
    StatusResponse,
    Untagged,
    append_uid,
    bad_charset,
    capability_code,
    copy_uid,
    parse_sequence_set,
    permanent_flags,
    uid_next,
    uid_validity,
)
from mockmail.imap._writer import format_date_time, write, write_chunks

UTC = datetime.UTC
NOON = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("response", "wire"),
    [
        (Ok("LOGIN completed"), b"t1 OK LOGIN completed\r\n"),
        (No("no such mailbox", TRYCREATE), b"t1 NO [TRYCREATE] no such mailbox\r\n"),
        (Bad("syntax"), b"t1 BAD syntax\r\n"),
        (Ok("", READ_WRITE), b"t1 OK [READ-WRITE]\r\n"),
        (Ok("SELECT completed", READ_ONLY), b"t1 OK [READ-ONLY] SELECT completed\r\n"),
        (No("x", TOOBIG), b"t1 NO [TOOBIG] x\r\n"),
        (No("x", AUTHENTICATIONFAILED), b"t1 NO [AUTHENTICATIONFAILED] x\r\n"),
        (No("x", ALREADYEXISTS), b"t1 NO [ALREADYEXISTS] x\r\n"),
        (No("x", NONEXISTENT), b"t1 NO [NONEXISTENT] x\r\n"),
        (No("x", CANNOT), b"t1 NO [CANNOT] x\r\n"),
        (No("x", LIMIT), b"t1 NO [LIMIT] x\r\n"),
        (No("x", UNAVAILABLE), b"t1 NO [UNAVAILABLE] x\r\n"),
        (No("x", INUSE), b"t1 NO [INUSE] x\r\n"),
        (No("x", SERVERBUG), b"t1 NO [SERVERBUG] x\r\n"),
        (No("x", PRIVACYREQUIRED), b"t1 NO [PRIVACYREQUIRED] x\r\n"),
        (Bad("x", CLIENTBUG), b"t1 BAD [CLIENTBUG] x\r\n"),
        (No("x", EXPUNGEISSUED), b"t1 NO [EXPUNGEISSUED] x\r\n"),
        (Ok("x", CLOSED), b"t1 OK [CLOSED] x\r\n"),
        (Ok("APPEND completed", append_uid(38505, 3955)), b"t1 OK [APPENDUID 38505 3955] APPEND completed\r\n"),
        (
            Ok("done", copy_uid(38505, parse_sequence_set("304,319:320"), parse_sequence_set("3956:3958"))),
            b"t1 OK [COPYUID 38505 304,319:320 3956:3958] done\r\n",
        ),
        (Ok("in", capability_code(["IMAP4rev1", "AUTH=PLAIN"])), b"t1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] in\r\n"),
        (No("charset", bad_charset(["UTF-8", "US-ASCII"])), b"t1 NO [BADCHARSET (UTF-8 US-ASCII)] charset\r\n"),
        (Greeting("mockmail ready"), b"* OK mockmail ready\r\n"),
        (Greeting("ready", capability_code(["IMAP4rev1"])), b"* OK [CAPABILITY IMAP4rev1] ready\r\n"),
        (Untagged("OK", "", uid_validity(3857529045)), b"* OK [UIDVALIDITY 3857529045]\r\n"),
        (Untagged("OK", "Predicted next UID", uid_next(4392)), b"* OK [UIDNEXT 4392] Predicted next UID\r\n"),
        (
            Untagged("OK", "Limited", permanent_flags(["\\Deleted", "\\Seen", "\\*"])),
            b"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
        ),
        (Untagged("OK", "maintenance at noon", ALERT), b"* OK [ALERT] maintenance at noon\r\n"),
        (Untagged("NO", "disk almost full"), b"* NO disk almost full\r\n"),
        (Bye("autologout"), b"* BYE autologout\r\n"),
        (Continuation("Ready for literal data"), b"+ Ready for literal data\r\n"),
        (Continuation(""), b"+ \r\n"),
        (SaslChallenge(b""), b"+ \r\n"),
        (SaslChallenge(b"\x00challenge"), b"+ AGNoYWxsZW5nZQ==\r\n"),
        (CapabilityResponse(("IMAP4rev1", "IMAP4rev2", "IDLE")), b"* CAPABILITY IMAP4rev1 IMAP4rev2 IDLE\r\n"),
        (ExistsResponse(0), b"* 0 EXISTS\r\n"),
        (RecentResponse(2), b"* 2 RECENT\r\n"),
        (ExpungeResponse(3), b"* 3 EXPUNGE\r\n"),
        (
            FlagsResponse(("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "$Forwarded")),
            b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n",
        ),
        (ListResponse(("\\HasNoChildren",), "/", "INBOX"), b'* LIST (\\HasNoChildren) "/" INBOX\r\n'),
        (ListResponse(("\\Noselect",), None, ""), b'* LIST (\\Noselect) NIL ""\r\n'),
        (ListResponse((), ".", "Sent Items"), b'* LIST () "." "Sent Items"\r\n'),
        (ListResponse((), "/", "a\"b"), b'* LIST () "/" "a\\"b"\r\n'),
        (ListResponse((), "/", "NIL"), b'* LIST () "/" "NIL"\r\n'),
        (ListResponse((), "/", "50%"), b'* LIST () "/" "50%"\r\n'),
        (
            ListResponse(("\\Subscribed",), "/", "foo", (("CHILDINFO", ("SUBSCRIBED",)),)),
            b'* LIST (\\Subscribed) "/" foo ("CHILDINFO" ("SUBSCRIBED"))\r\n',
        ),
        (ListResponse(("\\Sent", "\\HasNoChildren"), "/", "Sent"), b'* LIST (\\Sent \\HasNoChildren) "/" Sent\r\n'),
        (LsubResponse((), "/", "news"), b'* LSUB () "/" news\r\n'),
        (
            StatusResponse("INBOX", (("MESSAGES", 231), ("UIDNEXT", 44292), ("SIZE", 2**40))),
            b"* STATUS INBOX (MESSAGES 231 UIDNEXT 44292 SIZE 1099511627776)\r\n",
        ),
        (SearchResponse((2, 84, 882)), b"* SEARCH 2 84 882\r\n"),
        (SearchResponse(()), b"* SEARCH\r\n"),
        (SortResponse((5, 3, 4)), b"* SORT 5 3 4\r\n"),
        (
            EsearchResponse(uid=True, min=2, max=9, all=parse_sequence_set("2,4:9"), count=7),
            b'* ESEARCH (TAG "t1") UID MIN 2 MAX 9 ALL 2,4:9 COUNT 7\r\n',
        ),
        (EsearchResponse(count=0), b'* ESEARCH (TAG "t1") COUNT 0\r\n'),
        (EsearchResponse(tag="other", all=SequenceSet()), b'* ESEARCH (TAG "other")\r\n'),
        (NamespaceResponse((("", "/"),)), b'* NAMESPACE (("" "/")) NIL NIL\r\n'),
        (
            NamespaceResponse((("", "."),), (("Other Users.", "."),), (("Public.", None),)),
            b'* NAMESPACE (("" ".")) (("Other Users." ".")) (("Public." NIL))\r\n',
        ),
        (EnabledResponse(("IMAP4rev2",)), b"* ENABLED IMAP4rev2\r\n"),
        (EnabledResponse(()), b"* ENABLED\r\n"),
        (IdResponse((("name", "mockmail"), ("support-url", None))), b'* ID ("name" "mockmail" "support-url" NIL)\r\n'),
        (IdResponse(None), b"* ID NIL\r\n"),
        (
            FetchResponse(12, (("FLAGS", Flags(("\\Seen",))), ("UID", 4827313), ("RFC822.SIZE", 44827))),
            b"* 12 FETCH (FLAGS (\\Seen) UID 4827313 RFC822.SIZE 44827)\r\n",
        ),
        (FetchResponse(1, (("INTERNALDATE", NOON),)), b'* 1 FETCH (INTERNALDATE "06-Dec-2026 12:00:00 +0000")\r\n'),
        (FetchResponse(1, (("BODY[]<0>", b"Hi\r\n"),)), b"* 1 FETCH (BODY[]<0> {4}\r\nHi\r\n)\r\n"),
        (FetchResponse(1, (("BODY[1]", None),)), b"* 1 FETCH (BODY[1] NIL)\r\n"),
        (FetchResponse(1, (("BINARY[1]", Binary(b"a\x00b")),)), b"* 1 FETCH (BINARY[1] ~{3}\r\na\x00b)\r\n"),
        (FetchResponse(1, (("BINARY[1]", Binary(b"ab")),)), b"* 1 FETCH (BINARY[1] {2}\r\nab)\r\n"),
        (FetchResponse(1, (("BINARY.SIZE[1]", 2),)), b"* 1 FETCH (BINARY.SIZE[1] 2)\r\n"),
        (
            FetchResponse(1, (("BODY[HEADER.FIELDS (FROM SUBJECT)]", b"From: a\r\n\r\n"),)),
            b"* 1 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] {11}\r\nFrom: a\r\n\r\n)\r\n",
        ),
        (
            FetchResponse(
                2,
                (
                    (
                        "ENVELOPE",
                        (
                            "Mon, 7 Feb 1994 21:52:25 -0800",
                            "afternoon meeting",
                            (("Fred Foobar", None, "foobar", "Blurdybloop.example"),),
                            None,
                        ),
                    ),
                ),
            ),
            b'* 2 FETCH (ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" "afternoon meeting" '
            b'(("Fred Foobar" NIL "foobar" "Blurdybloop.example")) NIL))\r\n',
        ),
        (
            FetchResponse(3, (("BODYSTRUCTURE", ("TEXT", "PLAIN", ("CHARSET", "US-ASCII"), None, None, "7BIT", 3028, 92)),)),
            b'* 3 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))\r\n',
        ),
        (FetchResponse(3, (("X", Atom("7BIT")),)), b"* 3 FETCH (X 7BIT)\r\n"),
        (FetchResponse(3, (("X", parse_sequence_set("1:3")),)), b"* 3 FETCH (X 1:3)\r\n"),
        (
            FetchResponse(4, (("BODY", Rendered(b'(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1)("TEXT" "HTML" NIL NIL NIL "7BIT" 1 1) "ALTERNATIVE")')),)),
            b'* 4 FETCH (BODY (("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1)("TEXT" "HTML" NIL NIL NIL "7BIT" 1 1) "ALTERNATIVE"))\r\n',
        ),
    ],
)
def test_exact_bytes(response: Response, wire: bytes) -> None:
    assert write(response, tag="t1") == wire


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("plain", b'"plain"'),
        ("", b'""'),
        ('say "hi" \\o/', b'"say \\"hi\\" \\\\o/"'),
        ("two\r\nlines", b"{10}\r\ntwo\r\nlines"),
        ("lf\nonly", b"{7}\r\nlf\nonly"),
        ("nul\x00", b"{4}\r\nnul\x00"),
        ("Grüße", "{7}\r\nGrüße".encode()),
        (b"\xff", b"{1}\r\n\xff"),
        ("x" * 1025, b"{1025}\r\n" + b"x" * 1025),
        ("x" * 1024, b'"' + b"x" * 1024 + b'"'),
    ],
)
def test_string_choice(value: str | bytes, wire: bytes) -> None:
    assert write(FetchResponse(1, (("X", value),))) == b"* 1 FETCH (X " + wire + b")\r\n"


def test_mailbox_names_need_the_encoding_of_the_session() -> None:
    assert write(StatusResponse("Отправленные", (("MESSAGES", 1),))) == (
        b"* STATUS &BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1- (MESSAGES 1)\r\n"
    )
    assert write(StatusResponse("A&B", (("MESSAGES", 1),))) == b"* STATUS A&-B (MESSAGES 1)\r\n"
    assert write(StatusResponse("A&B", (("MESSAGES", 1),)), utf8=True) == b"* STATUS A&B (MESSAGES 1)\r\n"
    assert write(NamespaceResponse((("Entwürfe/", "/"),))) == b'* NAMESPACE (("Entw&APw-rfe/" "/")) NIL NIL\r\n'


@pytest.mark.parametrize(
    "value",
    [
        datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=-7, minutes=-30))),
        datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=45))),
    ],
)
def test_date_time(value: datetime.datetime) -> None:
    text = format_date_time(value)
    assert len(text) == 26
    assert text in ("02-Jan-2026 03:04:05 -0730", "31-Dec-1999 23:59:59 +0545")


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (ExistsResponse(3.0), "must be an int"),  # type: ignore[arg-type]
        (ExistsResponse(True), "must be an int"),
        (ExistsResponse(-1), "0 to 2"),
        (ExistsResponse(2**63), "0 to 2"),
        (ExpungeResponse(0), "1 or more"),
        (FetchResponse(0, ()), "1 or more"),
        (Ok("two\r\nlines"), "CR, LF or NUL"),
        (Ok("[fake] code"), "may not start with"),
        (Ok("Grüße"), "not US-ASCII"),
        (Ok("x", Code("BAD CODE")), "not a valid atom"),
        (FlagsResponse(("bad flag",)), "not a valid atom"),
        (FlagsResponse(("\\",)), "not a valid atom"),
        (CapabilityResponse(("IMAP4 rev1",)), "not a valid atom"),
        (ListResponse((), "//", "x"), "one character"),
        (FetchResponse(1, (("INTERNALDATE", datetime.datetime(2026, 1, 1)),)), "time zone"),
        (FetchResponse(1, (("FLAGS\r\n", 1),)), "not a valid atom"),
        (FetchResponse(1, (("X", True),)), "bool"),
        (Greeting(status="NO"), "OK, PREAUTH or BYE"),
        (Untagged("PREAUTH", "x"), "OK, NO or BAD"),
    ],
)
def test_refuses_to_render_illegal_responses(response: Response, match: str) -> None:
    with pytest.raises(LocalProtocolError, match=match):
        write(response, tag="t1")


def test_tagged_needs_a_tag() -> None:
    with pytest.raises(LocalProtocolError, match="tag"):
        write(Ok())


def test_utf8_text_only_for_utf8_sessions() -> None:
    assert write(Untagged("OK", "Grüße", ALERT), utf8=True) == "* OK [ALERT] Grüße\r\n".encode()


def test_chunks_keep_large_literals_apart() -> None:
    body = b"y" * 5000
    chunks = write_chunks(FetchResponse(1, (("RFC822", body), ("UID", 9))))
    assert chunks == [b"* 1 FETCH (RFC822 {5000}\r\n", body, b" UID 9)\r\n"]


# --- FetchRows: many FETCH lines in one rendering ----------------------------------------------------


def test_fetch_rows_render_as_one_fetch_response_each() -> None:
    when = datetime.datetime(2025, 3, 4, 12, 0, tzinfo=datetime.UTC)
    rows = FetchRows(
        ("UID", "FLAGS", "RFC822.SIZE", "INTERNALDATE"),
        [(1, (7, Flags(("\\Seen", "$Label")), 120, when)), (2, (9, Flags(()), 2**40, when))],
    )
    each = b"".join(
        write(FetchResponse(n, tuple(zip(rows.names, values, strict=True)))) for n, values in rows.rows
    )
    assert write(rows) == each
    assert write(rows).count(b"\r\n") == 2


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        (FetchRows(("RFC822.SIZE",), [(1, (3.0,))]), "not float"),
        (FetchRows(("RFC822.SIZE",), [(1, (True,))]), "not bool"),
        (FetchRows(("BODY[]",), [(1, (b"x",))]), "not bytes"),
        (FetchRows(("FLAGS",), [(1, (Flags(("bad flag",)),))]), "not a valid atom"),
        (FetchRows(("FLAGS",), [(0, (Flags(()),))]), "1 or more"),
        (FetchRows(("FLAGS", "UID"), [(1, (Flags(()),))]), "one value per name"),
        (FetchRows(("FLAGS\r\n",), [(1, (Flags(()),))]), "not a valid atom"),
        (FetchRows(("FLAGS",), []), "at least one row"),
    ],
)
def test_fetch_rows_refuse_what_a_fetch_response_refuses(rows: FetchRows, match: str) -> None:
    with pytest.raises(LocalProtocolError, match=match):
        write(rows)
