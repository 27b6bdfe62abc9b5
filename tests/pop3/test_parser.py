"""mockmail/pop3/_parser.py: line buffering, limits and command parsing."""

from __future__ import annotations

import pytest

from mockmail.pop3 import (
    Apop,
    Auth,
    BadCommand,
    Capa,
    Dele,
    List,
    Noop,
    Pass,
    Quit,
    Retr,
    Rset,
    Stat,
    Stls,
    Top,
    Uidl,
    User,
)
from mockmail.pop3._parser import TOO_LONG, LineBuffer, parse_command


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"USER alice", User("alice")),
        (b"user alice@example.com", User("alice@example.com")),
        (b"PASS s3cret", Pass("s3cret")),
        (b"PASS with  two spaces ", Pass("with  two spaces ")),
        (b"APOP bob c4c9334bac560ecc979e58001b3e22fb", Apop("bob", "c4c9334bac560ecc979e58001b3e22fb")),
        (b"APOP bob C4C9334BAC560ECC979E58001B3E22FB", Apop("bob", "c4c9334bac560ecc979e58001b3e22fb")),
        (b"AUTH", Auth(None)),
        (b"auth plain", Auth("PLAIN")),
        (b"AUTH PLAIN AGJvYgBwdw==", Auth("PLAIN", "AGJvYgBwdw==")),
        (b"AUTH PLAIN =", Auth("PLAIN", "=")),
        (b"CAPA", Capa()),
        (b"STLS", Stls()),
        (b"QuIt", Quit()),
        (b"STAT", Stat()),
        (b"NOOP", Noop()),
        (b"RSET", Rset()),
        (b"LIST", List()),
        (b"LIST 3", List(3)),
        (b"UIDL", Uidl()),
        (b"UIDL 12", Uidl(12)),
        (b"RETR 1", Retr(1)),
        (b"DELE 2", Dele(2)),
        (b"TOP 1 0", Top(1, 0)),
        (b"TOP 4 10", Top(4, 10)),
        (b"LIST  3", List(3)),
    ],
)
def test_parses_commands(line: bytes, expected: object) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"", "empty command line"),
        (b"   ", "empty command line"),
        (b"XYZZY", "unknown command 'XYZZY'"),
        (b"USER", "USER needs exactly one argument"),
        (b"USER a b", "USER needs exactly one argument"),
        (b"PASS", "PASS needs an argument"),
        (b"APOP bob", "APOP needs two arguments"),
        (b"APOP bob xyz", "APOP digest must be 32 hexadecimal digits"),
        (b"AUTH PLAIN a b", "AUTH takes a mechanism"),
        (b"STAT 1", "STAT takes no arguments"),
        (b"QUIT now", "QUIT takes no arguments"),
        (b"LIST a", "LIST: invalid message number 'a'"),
        (b"LIST 1 2", "LIST takes at most one argument"),
        (b"LIST -1", "LIST: invalid message number '-1'"),
        (b"RETR", "RETR needs exactly one argument"),
        (b"RETR 1.5", "RETR: invalid message number '1.5'"),
        (b"RETR 99999999999", "RETR: invalid message number"),
        (b"DELE x", "DELE: invalid message number 'x'"),
        (b"TOP 1", "TOP needs two arguments"),
        (b"TOP 1 x", "TOP: invalid line count 'x'"),
        (b"TOP 1 -2", "TOP: invalid line count '-2'"),
        (b"UIDL \xff", "not valid UTF-8"),
        (b"RETR \xd9\xa3", "RETR: invalid message number"),  # Arabic-Indic digit three is not ASCII
    ],
)
def test_bad_lines_become_bad_commands(line: bytes, reason: str) -> None:
    event = parse_command(line)
    assert isinstance(event, BadCommand)
    assert reason in event.reason


def test_unknown_verb_is_echoed_safely() -> None:
    event = parse_command(b"\x1b[31mEVIL")
    assert isinstance(event, BadCommand)
    assert "\x1b" not in event.reason
    assert event.reason.isprintable()


def test_line_buffer_splits_crlf_and_bare_lf() -> None:
    buf = LineBuffer()
    buf.feed(b"NOOP\r\nSTAT\nLI")
    assert buf.next_line(255) == b"NOOP"
    assert buf.next_line(255) == b"STAT"
    assert buf.next_line(255) is None
    buf.feed(b"ST\r\n")
    assert buf.next_line(255) == b"LIST"


def test_line_at_the_limit_passes_and_one_more_octet_is_too_long() -> None:
    buf = LineBuffer()
    exact = b"X" * 253 + b"\r\n"  # 255 octets with CRLF
    buf.feed(exact + b"X" * 254 + b"\r\n")
    assert buf.next_line(255) == b"X" * 253
    assert buf.next_line(255) is TOO_LONG


def test_over_long_line_is_not_stored_while_it_streams_in() -> None:
    buf = LineBuffer()
    for _ in range(100):
        buf.feed(b"A" * 1000)
        assert buf.next_line(255) is None
        assert len(buf) <= 1000  # dropped as it comes, never accumulated
    buf.feed(b"tail\r\nNOOP\r\n")
    assert buf.next_line(255) is TOO_LONG
    assert buf.next_line(255) == b"NOOP"


def test_take_all_empties_the_buffer() -> None:
    buf = LineBuffer()
    buf.feed(b"STAT\r\nLIST\r\n")
    assert buf.take_all() == b"STAT\r\nLIST\r\n"
    assert buf.next_line(255) is None
