"""mockmail/imap/_reader.py: the token rules of RFC 9051 section 9, one at a time."""

from __future__ import annotations

import datetime

import pytest

from mockmail.imap._reader import Literal, ParseError, Reader


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b'""', b""),
        (b'"a b"', b"a b"),
        (b'"\\"\\\\"', b'"\\'),
        (b'"caf\xc3\xa9"', b"caf\xc3\xa9"),
    ],
)
def test_quoted(text: bytes, value: bytes) -> None:
    r = Reader(text)
    assert r.quoted() == value
    assert r.at_end()


@pytest.mark.parametrize(("text", "reason"), [(b'"abc', "not closed"), (b'"a\\b"', "escapes only"), (b'"a\x00"', "NUL")])
def test_quoted_refusals(text: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        Reader(text).quoted()


def test_literal_jumps_past_its_marker() -> None:
    r = Reader(b"{3} x", {0: Literal(b"abc", 3)})
    assert r.astring() == "abc"
    r.sp()
    assert r.atom() == "x"


def test_atom_stops_at_specials() -> None:
    for special in b'(){ %*"\\]':
        r = Reader(b"ab" + bytes([special]) + b"cd")
        assert r.atom() == "ab"


def test_astring_takes_the_close_bracket() -> None:
    assert Reader(b"a]b").astring() == "a]b"


def test_tag_refuses_plus() -> None:
    assert Reader(b"a+b").tag() == "a"
    with pytest.raises(ParseError):
        Reader(b"+ab").tag()


def test_numbers() -> None:
    assert Reader(b"4294967295").number() == 4294967295
    with pytest.raises(ParseError, match="over"):
        Reader(b"4294967296").number()
    with pytest.raises(ParseError, match="must not be 0"):
        Reader(b"0").nz_number()
    with pytest.raises(ParseError, match="digits"):
        Reader(b"x").number()


def test_nstring() -> None:
    assert Reader(b"NIL").nstring() is None
    assert Reader(b'"NIL"').nstring() == "NIL"
    assert Reader(b"nil").nstring() is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b'"06-Dec-2026 12:00:00 +0000"', datetime.datetime(2026, 12, 6, 12, tzinfo=datetime.UTC)),
        (
            b'" 6-Dec-2026 23:59:59 -0730"',
            datetime.datetime(2026, 12, 6, 23, 59, 59, tzinfo=datetime.timezone(-datetime.timedelta(hours=7, minutes=30))),
        ),
        (b'"6-Dec-2026 01:02:03 +0100"', datetime.datetime(2026, 12, 6, 1, 2, 3, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))),
    ],
)
def test_date_time(text: bytes, value: datetime.datetime) -> None:
    assert Reader(text).date_time() == value


@pytest.mark.parametrize(
    "text",
    [b'"06-Dec-2026 12:00:00"', b'"06-Dec-2026 25:00:00 +0000"', b'"06-Dec-2026 12:00:00 0000"',
     b'"06-Dec-2026 12:00:00 +2400"', b'"31-Feb-2026 12:00:00 +0000"', b'"06-Dez-2026 12:00:00 +0000"'],
)
def test_date_time_refusals(text: bytes) -> None:
    with pytest.raises(ParseError, match="date"):
        Reader(text).date_time()


def test_peek_keyword_needs_a_boundary() -> None:
    assert Reader(b"RETURN (").peek_keyword("RETURN")
    assert not Reader(b"RETURNS").peek_keyword("RETURN")
    assert Reader(b"return)").peek_keyword("RETURN")
