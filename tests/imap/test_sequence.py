"""mockmail/imap/_sequence.py: parsing, resolving and rendering sequence sets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockmail.imap._sequence import SeqRange, SequenceError, SequenceSet, parse_sequence_set


def test_parse_structure() -> None:
    assert parse_sequence_set("1:*,5,7:9") == SequenceSet(
        (SeqRange(1, None), SeqRange(5, 5), SeqRange(7, 9))
    )
    assert parse_sequence_set("*") == SequenceSet((SeqRange(None, None),))
    assert parse_sequence_set("$") == SequenceSet(saved=True)
    assert str(parse_sequence_set("1:*,5,7:9")) == "1:*,5,7:9"
    assert str(parse_sequence_set("9:7")) == "9:7"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("0", "nz-number"),
        ("1:0", "nz-number"),
        ("01", "nz-number"),
        ("a", "not a number"),
        ("1,", "not a number"),
        ("1::2", "not a number"),
        ("1:2:3", "not a number"),
        ("-1", "not a number"),
        ("4294967296", "32-bit"),
        ("١", "not a number"),  # Arabic-Indic digit one: isdigit() but not ASCII
        ("$,1", "not a number"),
    ],
)
def test_parse_rejects(text: str, reason: str) -> None:
    with pytest.raises(SequenceError, match=reason):
        parse_sequence_set(text)


def test_resolve_sequence_numbers() -> None:
    assert parse_sequence_set("1:*").resolve_sequence(3) == (1, 2, 3)
    assert parse_sequence_set("3:1,2").resolve_sequence(5) == (1, 2, 3)
    assert parse_sequence_set("*:4").resolve_sequence(5) == (4, 5)
    assert parse_sequence_set("*").resolve_sequence(5) == (5,)
    with pytest.raises(SequenceError, match="over the message count"):
        parse_sequence_set("6").resolve_sequence(5)
    with pytest.raises(SequenceError, match="no messages"):
        parse_sequence_set("*").resolve_sequence(0)
    with pytest.raises(SequenceError, match=r"'\$'"):
        parse_sequence_set("$").resolve_sequence(5)


def test_resolve_uids() -> None:
    uids = [3, 10, 11, 40]
    assert parse_sequence_set("1:*").resolve_uids(uids) == (3, 10, 11, 40)
    assert parse_sequence_set("11:4").resolve_uids(uids) == (10, 11)
    assert parse_sequence_set("12:20").resolve_uids(uids) == ()
    assert parse_sequence_set("50:*").resolve_uids(uids) == (40,)  # * is 40: 40:50
    assert parse_sequence_set("*").resolve_uids([]) == ()
    assert parse_sequence_set("3,40,3").resolve_uids(uids) == (3, 40)


def test_contains() -> None:
    s = parse_sequence_set("2:4,9:*")
    assert [n for n in range(1, 12) if s.contains(n, 10)] == [2, 3, 4, 9, 10]


def test_from_numbers() -> None:
    assert str(SequenceSet.from_numbers([5, 1, 2, 3, 9, 10])) == "1:3,5,9:10"
    assert str(SequenceSet.from_numbers([])) == ""
    with pytest.raises(SequenceError):
        SequenceSet.from_numbers([0])


@given(st.sets(st.integers(min_value=1, max_value=200), min_size=1))
def test_from_numbers_round_trips(numbers: set[int]) -> None:
    text = str(SequenceSet.from_numbers(numbers))
    assert parse_sequence_set(text).resolve_sequence(200) == tuple(sorted(numbers))
