"""SORT keys (RFC 5256, RFC 5957) and the base subject."""

from __future__ import annotations

import pytest

from mockmail.imap._mime_tree import MessageView
from mockmail.imap._sort import (
    ascii_casemap,
    base_subject,
    sort_cc,
    sort_date,
    sort_display_from,
    sort_display_to,
    sort_from,
    sort_subject,
    sort_to,
)

from . import messages


@pytest.mark.parametrize(
    ("subject", "base"),
    [
        ("Lunch", "Lunch"),
        ("Re: Lunch", "Lunch"),
        ("RE: re:  Fwd:Lunch", "Lunch"),
        ("Re[2]: Lunch", "Lunch"),  # subj-refwd allows a blob between "re" and ":"
        ("Rex: Lunch", "Rex: Lunch"),
        ("Re [2]: Lunch", "Lunch"),
        ("[list] Re: Lunch", "Lunch"),
        ("[list] [other] Lunch", "Lunch"),
        ("[list]", "[list]"),  # a blob that would leave nothing stays
        ("Lunch (fwd)", "Lunch"),
        ("Lunch (FWD) (fwd)  ", "Lunch"),
        ("[Fwd: Re: Lunch]", "Lunch"),
        ("[fwd: [list] Lunch (fwd)]", "Lunch"),
        ("\tLunch\t\tat  noon ", "Lunch at noon"),
        ("Fw: Fwd: Re:", ""),
        ("", ""),
    ],
)
def test_base_subject(subject: str, base: str) -> None:
    assert base_subject(subject) == base


def test_sort_subject_decodes_and_casemaps() -> None:
    assert sort_subject(MessageView.parse(messages.ENCODED)) == ascii_casemap("Café y tostadas")
    assert ascii_casemap("Café y") == "CAFé Y".encode()
    assert sort_subject(MessageView.parse(b"\r\n")) == b""


def test_address_keys() -> None:
    view = MessageView.parse(messages.ALTERNATIVE)
    assert sort_from(view) == b"NEWS"
    assert sort_to(view) == b"CAROL"
    assert sort_cc(view) == b"EVE"
    assert sort_display_from(view) == b"SHOP, INC."
    assert sort_cc(MessageView.parse(messages.PLAIN)) == b""


def test_display_decodes_the_name_or_falls_back_to_the_address() -> None:
    view = MessageView.parse(messages.ENCODED)
    assert sort_display_from(view) == ascii_casemap("José García")
    assert sort_display_to(view) == b""  # only a group with nobody in it
    assert sort_display_to(MessageView.parse(messages.PLAIN)) == b"BOB@EXAMPLE.ORG"
    assert sort_to(MessageView.parse(messages.ENCODED)) == b""


def test_date_key_is_utc_and_falls_back_to_the_internal_date() -> None:
    assert sort_date(MessageView.parse(messages.PLAIN), 0.0) == 880127706.0  # 1997-11-21 15:55:06 UTC
    assert sort_date(MessageView.parse(b"Date: garbage\r\n\r\n"), 1234.5) == 1234.5
    assert sort_date(MessageView.parse(b"\r\n"), 99.0) == 99.0


def test_keys_order_messages() -> None:
    views = [MessageView.parse(m) for m in (messages.NESTED, messages.PLAIN, messages.ALTERNATIVE)]
    assert sorted(views, key=sort_from) == [views[1], views[0], views[2]]  # alice, heidi, news
    assert [sort_subject(v) for v in views] == [
        b"YOUR ORDER HAS SHIPPED",
        b"LUNCH ON FRIDAY?",
        b"YOUR ORDER HAS SHIPPED",
    ]
