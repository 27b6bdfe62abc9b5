"""Header blocks: where they end, their fields, and MIME parameters (RFC 2045, RFC 2231)."""

from __future__ import annotations

import pytest

from mockmail.imap._headers import (
    MAX_FIELDS,
    header_end,
    mime_token,
    parse_parameterized,
    scan_fields,
    unfold,
)


def _end(content: bytes) -> int:
    return header_end(content, 0, len(content))


def test_header_ends_after_the_blank_line() -> None:
    content = b"Subject: a\r\nFrom: b\r\n\r\nbody\r\n"
    assert content[: _end(content)] == b"Subject: a\r\nFrom: b\r\n\r\n"


def test_empty_header_is_the_blank_line_alone() -> None:
    assert _end(b"\r\nbody\r\n") == 2


def test_a_line_that_is_no_field_begins_the_body() -> None:
    content = b"Subject: a\r\nthis is text\r\n"
    assert content[_end(content) :] == b"this is text\r\n"


def test_text_with_no_header_is_all_body() -> None:
    assert _end(b"just text\r\n") == 0


def test_header_without_a_blank_line_runs_to_the_end() -> None:
    content = b"Subject: a\r\n Folded\r\n"
    assert _end(content) == len(content)


def test_header_end_never_looks_past_the_range() -> None:
    content = b"Subject: a\r\n\r\nbody"
    assert header_end(content, 0, 12) == 12  # the blank line lies outside the range


def test_fields_keep_their_folded_lines() -> None:
    content = b"Subject: one\r\n two\r\nX-Empty:\r\nTo : x@y\r\n\r\n"
    fields = scan_fields(content, 0, _end(content))
    assert [f.name for f in fields] == [b"subject", b"x-empty", b"to"]
    assert [content[f.start : f.end] for f in fields] == [
        b"Subject: one\r\n two\r\n",
        b"X-Empty:\r\n",
        b"To : x@y\r\n",
    ]
    assert [unfold(content[f.value_start : f.end]) for f in fields] == [b"one two", b"", b"x@y"]


def test_unfold_removes_only_crlf_before_white_space() -> None:
    assert unfold(b" a\r\n\tb \r\n") == b"a\tb"


def test_content_type_with_quoted_and_commented_parameters() -> None:
    value = b'Text/HTML (a comment) ; Charset="utf-8";format=flowed; name="a \\"b\\".txt"'
    assert parse_parameterized(value, True) == (
        b"Text",
        b"HTML",
        ((b"charset", b"utf-8"), (b"format", b"flowed"), (b"name", b'a "b".txt')),
    )


@pytest.mark.parametrize("value", [b"", b"text", b"/plain", b"text/", b"; charset=x"])
def test_unparsable_content_type_is_none(value: bytes) -> None:
    assert parse_parameterized(value, True) is None


def test_rfc2231_continuations_are_joined() -> None:
    value = b'attachment; filename*1="two.txt"; filename*0="part one "; size=3'
    assert parse_parameterized(value, False) == (
        b"attachment",
        b"",
        ((b"filename", b"part one two.txt"), (b"size", b"3")),
    )


def test_rfc2231_encoded_parameter_keeps_its_star() -> None:
    value = b"attachment; filename*0*=utf-8''%E2%82%AC; filename*1=.txt"
    assert parse_parameterized(value, False) == (
        b"attachment",
        b"",
        ((b"filename*", b"utf-8''%E2%82%AC.txt"),),
    )


def test_garbage_between_parameters_is_skipped() -> None:
    assert parse_parameterized(b"text/plain; ===; charset=us-ascii junk; x", True) == (
        b"text",
        b"plain",
        ((b"charset", b"us-ascii"),),
    )


def test_mime_token() -> None:
    assert mime_token(b" (c) Base64 (comment)") == b"Base64"
    assert mime_token(b"  ") is None


def test_fields_of_a_hostile_header_are_capped() -> None:
    content = b"X-H: v\r\n" * (MAX_FIELDS + 10) + b"Subject: late\r\n\r\n"
    fields = scan_fields(content, 0, header_end(content, 0, len(content)))
    assert len(fields) == MAX_FIELDS
    assert all(f.name == b"x-h" for f in fields)
