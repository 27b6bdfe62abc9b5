"""mockmail/imap/_framing.py through ImapConnection: literals of every kind, limits, line endings.

Each input is fed whole, byte by byte and split in two (`chunkings`): the events must be the same.
"""

from __future__ import annotations

import pytest

from mockmail.imap import (
    NEED_DATA,
    TOOBIG,
    Append,
    Bad,
    BadCommand,
    ContinuationNeeded,
    Event,
    Greeting,
    ImapConnection,
    LiteralTooLarge,
    LocalProtocolError,
    Login,
    Mode,
    No,
    Noop,
    Ok,
    Search,
)
from mockmail.imap._framing import TOO_LONG, Framer
from mockmail.imap.search_keys import Text

from .helpers import chunkings, events, greeted, logged_in, selected


def all_chunkings(make: object, data: bytes, **kwargs: object) -> list[list[Event]]:
    results = []
    for chunks in chunkings(data):
        conn = make(**kwargs)  # type: ignore[operator]
        results.append(events(conn, chunks))
    assert all(r == results[0] for r in results), results
    return results[0]


def test_synchronizing_literals_ask_for_a_continuation() -> None:
    got = all_chunkings(greeted, b"a LOGIN {3}\r\nbob {6}\r\np w\r\nd\r\nb NOOP\r\n")
    assert got == [
        ContinuationNeeded("a", "LOGIN", 3),
        ContinuationNeeded("a", "LOGIN", 6),
        Login(tag="a", user="bob", password="p w\r\nd"),
        Noop(tag="b"),
    ]


def test_non_synchronizing_literals_need_no_continuation() -> None:
    got = all_chunkings(greeted, b"a LOGIN {3+}\r\nbob {0+}\r\n\r\nb NOOP\r\n")
    assert got == [Login(tag="a", user="bob", password=""), Noop(tag="b")]


def test_a_literal_is_data_even_when_it_looks_like_commands() -> None:
    message = b"x LOGOUT\r\ny NOOP\n\r\n"
    got = all_chunkings(selected, b"a APPEND INBOX {%d+}\r\n" % len(message) + message + b"\r\nb NOOP\r\n")
    assert got == [Append(tag="a", mailbox="INBOX", message=message), Noop(tag="b")]


def test_literal8_in_append() -> None:
    got = all_chunkings(selected, b"a APPEND INBOX ~{3+}\r\na\x00b\r\n")
    assert got == [Append(tag="a", mailbox="INBOX", message=b"a\x00b", binary=True)]


def test_a_literal_marker_inside_quotes_is_text() -> None:
    # `"pw{3}` never closes its quote: the line is a bad command, not a literal to wait for.
    conn = greeted()
    conn.receive_data(b'a LOGIN bob "pw{3}\r\n')
    event = conn.next_event()
    assert isinstance(event, BadCommand) and "quoted string is not closed" in event.reason
    # An escaped quote does not close the string either.
    conn.send(No())
    conn.receive_data(b'b LOGIN bob "p\\"{3}\r\n')
    event = conn.next_event()
    assert isinstance(event, BadCommand) and event.tag == "b"


def test_the_reader_waits_for_the_continuation() -> None:
    conn = greeted()
    conn.receive_data(b"a LOGIN {3}\r\nbob pw\r\n")
    assert conn.next_event() == ContinuationNeeded("a", "LOGIN", 3)
    assert conn.mode is Mode.LITERAL
    with pytest.raises(LocalProtocolError, match="answer"):
        conn.next_event()


def test_refusing_a_synchronizing_literal_ends_the_command() -> None:
    conn = greeted()
    conn.receive_data(b"a LOGIN {3}\r\n")
    assert isinstance(conn.next_event(), ContinuationNeeded)
    assert conn.send(No("no literal for you")) == b"a NO no literal for you\r\n"
    conn.receive_data(b"b NOOP\r\n")  # the client sent no octets: the next line is a command
    assert conn.next_event() == Noop(tag="b")


def test_a_continuation_cannot_be_refused_with_ok() -> None:
    conn = greeted()
    conn.receive_data(b"a LOGIN {3}\r\n")
    conn.next_event()
    with pytest.raises(LocalProtocolError, match="OK cannot answer"):
        conn.send(Ok())


def test_command_not_allowed_is_refused_before_its_literal() -> None:
    conn = greeted()
    conn.receive_data(b"a APPEND INBOX {5}\r\n")
    event = conn.next_event()
    assert event == BadCommand("a", "APPEND not allowed in NOT_AUTHENTICATED state", "APPEND")
    conn.send(Bad(event.reason))
    conn.receive_data(b"b NOOP\r\n")
    assert conn.next_event() == Noop(tag="b")


def test_unknown_command_is_refused_before_its_literal() -> None:
    conn = greeted()
    conn.receive_data(b"a FROB {5}\r\n")
    event = conn.next_event()
    assert isinstance(event, BadCommand) and "unknown command 'FROB'" in event.reason


@pytest.mark.parametrize("size", [1001, 10**18])
def test_synchronizing_append_over_the_limit_is_refused_before_any_octet(size: int) -> None:
    data = b"a APPEND INBOX {%d}\r\n" % size
    got = all_chunkings(selected, data + b"b NOOP\r\n", append_limit=1000)
    assert got == [LiteralTooLarge("a", "APPEND", size, 1000, True), Noop(tag="b")]
    conn = selected(append_limit=1000)
    conn.receive_data(data)
    assert isinstance(conn.next_event(), LiteralTooLarge)
    assert conn.send(No("message too large", TOOBIG)) == b"a NO [TOOBIG] message too large\r\n"
    conn.receive_data(b"b NOOP\r\n")
    assert conn.next_event() == Noop(tag="b")


def test_non_synchronizing_append_over_the_limit_is_skipped_unstored() -> None:
    payload = b"c LOGOUT\r\n" * 150  # 1500 octets that must never be read as commands
    data = b"a APPEND INBOX {%d+}\r\n" % len(payload) + payload + b"\r\nb NOOP\r\n"
    got = all_chunkings(selected, data, append_limit=1000)
    assert got == [LiteralTooLarge("a", "APPEND", 1500, 1000, False), Noop(tag="b")]


def test_non_synchronizing_skip_covers_the_rest_of_the_command() -> None:
    # After the refused literal the command goes on with another literal: both are skipped.
    data = b"a APPEND INBOX {1500+}\r\n" + b"x" * 1500 + b" {4+}\r\nd\r\ne\r\nb NOOP\r\n"
    got = all_chunkings(selected, data, append_limit=1000)
    assert got == [LiteralTooLarge("a", "APPEND", 1500, 1000, False), Noop(tag="b")]


def test_literals_of_other_commands_have_their_own_limit() -> None:
    got = all_chunkings(greeted, b"a LOGIN {60+}\r\n" + b"u" * 60 + b" {50+}\r\n" + b"p" * 50 + b"\r\nb NOOP\r\n", max_literal=100)
    assert got == [LiteralTooLarge("a", "LOGIN", 50, 100, False), Noop(tag="b")]


def test_over_long_command_line_is_dropped_and_refused_with_its_tag() -> None:
    data = b"a1 SEARCH TEXT " + b"x" * 300 + b"\r\nb NOOP\r\n"
    got = all_chunkings(greeted, data, max_command_text=200)
    assert got == [BadCommand("a1", "command line too long (over 200 octets outside literals)", "SEARCH"), Noop(tag="b")]


def test_over_long_line_ending_in_a_non_synchronizing_literal_skips_it() -> None:
    data = b"a1 X " + b"x" * 300 + b" {10+}\r\nc LOGOUT\r\n\r\nb NOOP\r\n"
    got = all_chunkings(greeted, data, max_command_text=200)
    assert [type(e) for e in got] == [BadCommand, Noop]
    assert got[0].tag == "a1"  # type: ignore[union-attr]


def test_the_limit_counts_the_whole_command_not_each_line() -> None:
    data = b"a SEARCH" + b" TEXT {0+}\r\n" * 30 + b"\r\nb NOOP\r\n"
    got = all_chunkings(selected, data, max_command_text=200)
    assert isinstance(got[0], BadCommand) and "too long" in got[0].reason
    assert got[1] == Noop(tag="b")


def test_a_line_just_within_the_limit_is_read() -> None:
    line = b"a SEARCH TEXT " + b"x" * (100 - len(b"a SEARCH TEXT ") - 2) + b"\r\n"
    assert len(line) == 100
    got = all_chunkings(selected, line, max_command_text=100)
    assert isinstance(got[0], Search) and got[0].criteria == Text("x" * 84)


@pytest.mark.parametrize("smuggled", [b"a NOOP\nb LOGOUT\r\n", b"a NOOP\rb LOGOUT\r\n", b"a NOOP\n\rb LOGOUT\r\n"])
def test_bare_cr_or_lf_never_ends_a_line(smuggled: bytes) -> None:
    got = all_chunkings(greeted, smuggled + b"c NOOP\r\n")
    assert len(got) == 2
    assert isinstance(got[0], BadCommand) and got[0].tag == "a" and "bare CR or LF" in got[0].reason
    assert got[1] == Noop(tag="c")


def test_a_lone_lf_line_waits_for_crlf() -> None:
    conn = greeted()
    conn.receive_data(b"a NOOP\n")
    assert conn.next_event() is NEED_DATA
    assert conn.mid_command


def test_end_of_file_mid_literal() -> None:
    conn = greeted()
    conn.receive_data(b"a LOGIN {3+}\r\nbo")
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"")
    assert type(conn.next_event()).__name__ == "ConnectionClosed"


def test_framer_raw_lines() -> None:
    framer = Framer()
    framer.feed(b"abc\r")
    assert framer.next_raw_line(10) is None
    framer.feed(b"\ndef\nghi\r\n")
    assert framer.next_raw_line(10) == b"abc"
    assert framer.next_raw_line(10) == b"def\nghi"
    framer.feed(b"x" * 30)
    assert framer.next_raw_line(10) is None
    framer.feed(b"x\r\nok\r\n")
    assert framer.next_raw_line(10) is TOO_LONG
    assert framer.next_raw_line(10) == b"ok"


def test_literal_plus_can_be_withdrawn_but_still_reads() -> None:
    conn = ImapConnection(extensions=())
    assert "LITERAL+" not in conn.capabilities()
    conn.send(Greeting())
    conn.receive_data(b"a LOGIN {3+}\r\nbob pw\r\n")
    assert conn.next_event() == Login(tag="a", user="bob", password="pw")


def test_logged_in_helper_state() -> None:
    assert logged_in().state.name == "AUTHENTICATED"


def test_uid_with_a_non_uid_command_is_refused_before_its_literal() -> None:
    conn = greeted()
    conn.receive_data(b"a UID LOGIN {3}\r\n")
    event = conn.next_event()
    assert event == BadCommand("a", "UID LOGIN is not a UID command", "UID LOGIN")
