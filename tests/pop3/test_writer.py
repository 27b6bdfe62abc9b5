"""mockmail/pop3/_writer.py: the bytes on the wire."""

from __future__ import annotations

import pytest

from mockmail.pop3 import (
    MAX_REPLY_LINE,
    Continue,
    DropStat,
    Err,
    Listing,
    LocalProtocolError,
    MessageContent,
    Ok,
    ScanLine,
    ScanListing,
    StuffedBody,
    UidLine,
    UidListing,
    dot_stuff,
)
from mockmail.pop3._writer import write, write_chunks


def test_scan_listing_has_header_lines_and_terminator() -> None:
    data = write(ScanListing([(1, 5461), (2, 120)]))
    assert data == b"+OK 2 messages (5581 octets)\r\n1 5461\r\n2 120\r\n.\r\n"


def test_empty_listing() -> None:
    assert write(ScanListing([])) == b"+OK 0 messages (0 octets)\r\n.\r\n"


@pytest.mark.parametrize(
    "reply", [ScanListing([(1, 5461.0)]), ScanLine(1, 5461.0), DropStat(1, 2.5), UidLine(1.0, "x")]
)
def test_a_float_size_is_a_bug_never_go_formatting(reply: object) -> None:
    with pytest.raises(LocalProtocolError, match="must be an int, not float"):
        write(reply)  # type: ignore[arg-type]


def test_negative_number_is_a_bug() -> None:
    with pytest.raises(LocalProtocolError, match="negative"):
        write(DropStat(-1, 0))


def test_bool_is_not_a_number() -> None:
    with pytest.raises(LocalProtocolError):
        write(DropStat(True, 0))


def test_err_with_response_code() -> None:
    assert write(Err("locked", "IN-USE")) == b"-ERR [IN-USE] locked\r\n"
    assert write(Err("plain")) == b"-ERR plain\r\n"


def test_ok_without_text_has_no_trailing_space() -> None:
    assert write(Ok()) == b"+OK\r\n"


def test_continue_keeps_the_space_even_when_empty() -> None:
    assert write(Continue("")) == b"+ \r\n"
    assert write(Continue("VXNlcm5hbWU6")) == b"+ VXNlcm5hbWU6\r\n"


def test_reply_text_with_line_break_is_a_bug() -> None:
    with pytest.raises(LocalProtocolError, match="line break"):
        write(Ok("two\r\nlines"))
    with pytest.raises(LocalProtocolError, match="line break"):
        write(Listing("caps", ["A\nB"]))


def test_first_line_limit() -> None:
    write(Ok("x" * (MAX_REPLY_LINE - len("+OK \r\n"))))
    with pytest.raises(LocalProtocolError, match="over the 512 limit"):
        write(Ok("x" * (MAX_REPLY_LINE - len("+OK \r\n") + 1)))


def test_uid_listing() -> None:
    assert write(UidListing([(1, "a"), (3, "b")])) == b"+OK unique-id listing follows\r\n1 a\r\n3 b\r\n.\r\n"


def test_listing_lines_starting_with_dot_are_stuffed() -> None:
    assert write(Listing("x", [".hidden"])) == b"+OK x\r\n..hidden\r\n.\r\n"


@pytest.mark.parametrize(
    ("content", "stuffed"),
    [
        (b"", b""),
        (b"a\r\n", b"a\r\n"),
        (b".\r\n", b"..\r\n"),
        (b"a\r\n.\r\nb\r\n", b"a\r\n..\r\nb\r\n"),
        (b"a\r\n..x\r\n", b"a\r\n...x\r\n"),
        (b"a.b\r\n", b"a.b\r\n"),
    ],
)
def test_dot_stuff(content: bytes, stuffed: bytes) -> None:
    assert dot_stuff(content) == stuffed


def test_message_content_terminator_cannot_be_faked_by_the_body() -> None:
    data = write(MessageContent("x", StuffedBody.stuff(b"Subject: t\r\n\r\n.\r\nafter\r\n")))
    assert data == b"+OK x\r\nSubject: t\r\n\r\n..\r\nafter\r\n.\r\n"
    assert data.count(b"\r\n.\r\n") == 1


def test_a_large_body_is_its_own_chunk_not_a_copy() -> None:
    body = StuffedBody.stuff(b"Subject: big\r\n\r\n" + b"x" * 100_000 + b"\r\n")
    chunks = write_chunks(MessageContent("big", body))
    assert chunks[1] is body.wire
    assert chunks[0] == b"+OK big\r\n" and chunks[2] == b".\r\n"


def test_message_content_must_be_normalized() -> None:
    with pytest.raises(ValueError, match="CRLF"):
        StuffedBody.stuff(b"bare LF\n")


def test_unknown_reply_type_is_a_bug() -> None:
    class Strange(Ok):
        pass

    with pytest.raises(LocalProtocolError, match="no writer"):
        write(Strange())
