"""mockmail/imap/_search.py: the search-key grammar parsed into trees of frozen nodes."""

from __future__ import annotations

import datetime

import pytest

from mockmail.imap import BadCommand, Search, parse_sequence_set
from mockmail.imap._parser import parse_command
from mockmail.imap.search_keys import (
    MAX_SEARCH_DEPTH,
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
    Recent,
    SearchKey,
    SentDate,
    Sequence,
    Smaller,
    Text,
    Uid,
)

D = datetime.date


def criteria(keys: bytes) -> SearchKey:
    parsed = parse_command(b"t SEARCH " + keys)
    assert isinstance(parsed, Search), parsed
    return parsed.criteria


@pytest.mark.parametrize(
    ("keys", "tree"),
    [
        (b"ALL", All()),
        (b"ANSWERED", Flag("\\Answered")),
        (b"DELETED", Flag("\\Deleted")),
        (b"DRAFT", Flag("\\Draft")),
        (b"FLAGGED", Flag("\\Flagged")),
        (b"SEEN", Flag("\\Seen")),
        (b"UNANSWERED", Flag("\\Answered", False)),
        (b"UNDELETED", Flag("\\Deleted", False)),
        (b"UNDRAFT", Flag("\\Draft", False)),
        (b"UNFLAGGED", Flag("\\Flagged", False)),
        (b"unseen", Flag("\\Seen", False)),
        (b"KEYWORD $Forwarded", Flag("$Forwarded")),
        (b"UNKEYWORD $Junk", Flag("$Junk", False)),
        (b"RECENT", Recent(True)),
        (b"OLD", Recent(False)),
        (b"NEW", And((Recent(True), Flag("\\Seen", False)))),
        (b"BCC x", Header("BCC", "x")),
        (b'CC "a b"', Header("CC", "a b")),
        (b"FROM bob@example.com", Header("FROM", "bob@example.com")),
        (b"SUBJECT hello", Header("SUBJECT", "hello")),
        (b"TO alice", Header("TO", "alice")),
        (b'HEADER Message-ID "<a@b>"', Header("MESSAGE-ID", "<a@b>")),
        (b'HEADER X-Spam ""', Header("X-SPAM", "")),
        (b"BODY invoice", Body("invoice")),
        (b'TEXT "two words"', Text("two words")),
        (b"BEFORE 1-Feb-2026", InternalDate(DateOp.BEFORE, D(2026, 2, 1))),
        (b'ON "06-Dec-2026"', InternalDate(DateOp.ON, D(2026, 12, 6))),
        (b"SINCE 29-feb-2024", InternalDate(DateOp.SINCE, D(2024, 2, 29))),
        (b"SENTBEFORE 1-Jan-2000", SentDate(DateOp.BEFORE, D(2000, 1, 1))),
        (b"SENTON 15-Mar-2026", SentDate(DateOp.ON, D(2026, 3, 15))),
        (b"SENTSINCE 1-Jan-2026", SentDate(DateOp.SINCE, D(2026, 1, 1))),
        (b"LARGER 1024", Larger(1024)),
        (b"SMALLER 10", Smaller(10)),
        (b"UID 1:*", Uid(parse_sequence_set("1:*"))),
        (b"2,4:6", Sequence(parse_sequence_set("2,4:6"))),
        (b"$", Sequence(parse_sequence_set("$"))),
        (b"NOT SEEN", Not(Flag("\\Seen"))),
        (b"OR SEEN FLAGGED", Or(Flag("\\Seen"), Flag("\\Flagged"))),
        (b"(SEEN)", Flag("\\Seen")),
        (b"(SEEN FLAGGED)", And((Flag("\\Seen"), Flag("\\Flagged")))),
        (b"SEEN FLAGGED", And((Flag("\\Seen"), Flag("\\Flagged")))),
        (
            b"OR (FROM a SINCE 1-Jan-2026) NOT (OR TO b CC c) UNDELETED",
            And(
                (
                    Or(
                        And((Header("FROM", "a"), InternalDate(DateOp.SINCE, D(2026, 1, 1)))),
                        Not(Or(Header("TO", "b"), Header("CC", "c"))),
                    ),
                    Flag("\\Deleted", False),
                )
            ),
        ),
        # smtp4dev 2018: unquoted angle brackets are atom characters.
        (b"HEADER Message-ID <abc@example.com>", Header("MESSAGE-ID", "<abc@example.com>")),
    ],
)
def test_search_trees(keys: bytes, tree: SearchKey) -> None:
    assert criteria(keys) == tree


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        (b"FROM", "expected a single space"),
        (b"OR SEEN", "expected a single space"),
        (b"NOT", "expected a single space"),
        (b"(SEEN", "expected a single space"),
        (b"()", "expected a search key"),
        (b"SEEN)", "expected a single space"),
        (b"LARGER x", "expected a size"),
        (b"UID x", "invalid sequence set"),
        (b"0", "invalid sequence set"),
        (b"1:0", "invalid sequence set"),
        (b"SINCE 1-Foo-2026", "not d-Mon-yyyy"),
        (b"SINCE 1-Jan-26", "not d-Mon-yyyy"),
        (b"ON 123-Jan-2026", "not d-Mon-yyyy"),
        (b"KEYWORD \\Seen", "expected a keyword"),
        (b"FOO", "unknown search key 'FOO'"),
    ],
)
def test_search_refusals(keys: bytes, reason: str) -> None:
    parsed = parse_command(b"t SEARCH " + keys)
    assert isinstance(parsed, BadCommand) and parsed.tag == "t"
    assert reason in parsed.reason, parsed.reason


@pytest.mark.parametrize("prefix", [b"NOT ", b"(", b"OR ALL "])
def test_deep_nesting_is_refused_not_a_recursion_error(prefix: bytes) -> None:
    depth = 10_000
    closing = b")" * depth if prefix == b"(" else b""
    parsed = parse_command(b"t SEARCH " + prefix * depth + b"ALL" + closing)
    assert isinstance(parsed, BadCommand) and f"deeper than {MAX_SEARCH_DEPTH}" in parsed.reason


def test_nesting_at_the_limit_is_accepted() -> None:
    tree = criteria(b"NOT " * (MAX_SEARCH_DEPTH - 1) + b"ALL")
    depth = 0
    while isinstance(tree, Not):
        tree, depth = tree.key, depth + 1
    assert (tree, depth) == (All(), MAX_SEARCH_DEPTH - 1)


def test_date_op_tests_by_day() -> None:
    day = D(2026, 12, 6)
    assert DateOp.BEFORE.test(D(2026, 12, 5), day) and not DateOp.BEFORE.test(day, day)
    assert DateOp.ON.test(day, day) and not DateOp.ON.test(D(2026, 12, 7), day)
    assert DateOp.SINCE.test(day, day) and DateOp.SINCE.test(D(2027, 1, 1), day)
    assert not DateOp.SINCE.test(D(2026, 12, 5), day)


def test_sequence_node_resolves_star_by_the_walker() -> None:
    node = criteria(b"5:*")
    assert isinstance(node, Sequence)
    assert [n for n in range(1, 9) if node.numbers.contains(n, 7)] == [5, 6, 7]


def test_unknown_charset_is_left_to_the_server() -> None:
    parsed = parse_command(b"t SEARCH CHARSET X-KLINGON SUBJECT qapla")
    assert parsed == Search(tag="t", criteria=Header("SUBJECT", "qapla"), charset="X-KLINGON")
