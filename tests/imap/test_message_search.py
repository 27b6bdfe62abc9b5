"""SEARCH over content: decoded header fields, BODY, TEXT and the SENT* dates."""

from __future__ import annotations

import datetime

import pytest

from mockmail.imap._dates import parse_date
from mockmail.imap._message_search import (
    body_contains,
    decode_words,
    header_contains,
    header_values,
    sent_date,
    text_contains,
)
from mockmail.imap._mime_tree import MessageView

from . import messages


def _view(content: bytes) -> MessageView:
    return MessageView.parse(content)


def test_header_values_are_decoded_and_unfolded() -> None:
    assert header_values(_view(messages.ENCODED), "subject") == ["Re: [lista] Fwd: Café y tostadas (fwd)"]


@pytest.mark.parametrize(
    ("name", "needle", "found"),
    [
        ("FROM", "josé garcía", True),  # decoded and case-folded
        ("FROM", "JOSE@EXAMPLE", True),
        ("SUBJECT", "CAFÉ Y", True),
        ("SUBJECT", "=?utf-8?b?", False),  # the encoded form is not what is searched
        ("TO", "undisclosed", True),
        ("CC", "", False),  # no Cc field at all
        ("IN-REPLY-TO", "", True),  # an empty string matches a field that exists
        ("X-Missing", "a", False),
    ],
)
def test_header_contains(name: str, needle: str, found: bool) -> None:
    assert header_contains(_view(messages.ENCODED), name, needle) is found


def test_body_decodes_transfer_encoding_and_charset() -> None:
    assert body_contains(_view(messages.ENCODED), "CAFÉ CON")  # quoted-printable ISO-8859-1
    assert body_contains(_view(messages.ALTERNATIVE), "order € 12")  # quoted-printable UTF-8
    assert not body_contains(_view(messages.ALTERNATIVE), "=E2=82=AC")


def test_body_searches_text_parts_of_nested_messages_but_not_attachments() -> None:
    assert body_contains(_view(messages.NESTED), "<p>shipped.</p>")
    assert not body_contains(_view(messages.ATTACHMENT), "JVBERi0")  # base64 of a PDF is no text
    assert not body_contains(_view(messages.PLAIN), "Lunch on Friday?")  # the subject is no body


def test_text_searches_header_and_body() -> None:
    view = _view(messages.PLAIN)
    assert text_contains(view, "lunch on friday?")
    assert text_contains(view, "noon")
    assert text_contains(view, "Return-Path")
    assert not text_contains(view, "dinner")


def test_body_of_a_message_with_an_unknown_charset_and_encoding() -> None:
    content = b"Content-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: x-foo\r\n\r\nplain words\r\n"
    assert body_contains(_view(content), "PLAIN WORDS")


def test_decode_words_leaves_malformed_words_alone() -> None:
    assert decode_words(b"=?utf-8?q?broken") == "=?utf-8?q?broken"
    assert decode_words(b"=?x-nonsense?q?abc?=") == "abc"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"Fri, 21 Nov 1997 09:55:06 -0600", datetime.datetime(1997, 11, 21, 15, 55, 6, tzinfo=datetime.UTC)),
        (b"21 Nov 97 09:55:06 GMT", datetime.datetime(1997, 11, 21, 9, 55, 6, tzinfo=datetime.UTC)),
        (b"1 Jan 49 00:00 EST", datetime.datetime(2049, 1, 1, 5, 0, tzinfo=datetime.UTC)),
        (b"Thu, 6 Mar 2025 10:15:00 +0100 (CET)", datetime.datetime(2025, 3, 6, 9, 15, tzinfo=datetime.UTC)),
        (b"Mon,  3 Feb 2025 23:30 +0100", datetime.datetime(2025, 2, 3, 22, 30, tzinfo=datetime.UTC)),
    ],
)
def test_parse_date(value: bytes, expected: datetime.datetime) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", [None, b"", b"yesterday", b"31 Feb 2025 10:00 +0000", b"1 Foo 2025 10:00"])
def test_unreadable_dates(value: bytes | None) -> None:
    assert parse_date(value) is None


def test_sent_date_is_the_date_as_written_in_its_own_zone() -> None:
    # 23:30 +0100 on 3 February is 22:30 UTC, still the 3rd; the written date counts either way.
    assert sent_date(_view(messages.ALTERNATIVE)) == datetime.date(2025, 2, 3)
    late = b"Date: Mon, 3 Feb 2025 23:30:00 -0800\r\n\r\n"  # 4 February in UTC
    assert sent_date(_view(late)) == datetime.date(2025, 2, 3)
    assert sent_date(_view(b"Subject: no date\r\n\r\n")) is None
