"""mockmail/message/links.py: the links of a message's bodies, and the text its HTML shows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockmail.message.links import html_text, links, text_links
from mockmail.message.mime import bodies
from tests.test_mime import PIECES


def test_html_hrefs_are_decoded_and_only_web_and_mail_links_count() -> None:
    html = (
        '<p>Hi <a href="https://app.test/verify?token=t1&amp;user=alice">verify</a>'
        ' <a href="#top">top</a> <a href="javascript:alert(1)">x</a> <a href="/relative">r</a>'
        ' <a HREF=" MAILTO:help@app.test ">mail</a> <area href="http://map.test/a"></p>'
        ' <link href="https://cdn.test/style.css">'
    )
    assert links(None, html) == [
        "https://app.test/verify?token=t1&user=alice",
        "MAILTO:help@app.test",
        "http://map.test/a",
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Confirm: https://app.test/verify?t=abc.", ["https://app.test/verify?t=abc"]),
        ("(see https://app.test/a)", ["https://app.test/a"]),
        (
            "https://en.wikipedia.org/wiki/Mail_(disambiguation)",
            ["https://en.wikipedia.org/wiki/Mail_(disambiguation)"],
        ),
        (
            "<https://app.test/reset/9f>, then mailto:help@app.test!",
            ["https://app.test/reset/9f", "mailto:help@app.test"],
        ),
        ('href "http://a.test/x" and HTTPS://B.TEST/Y', ["http://a.test/x", "HTTPS://B.TEST/Y"]),
        ("ftp://files.test/a and https:// alone and http:nothing", []),
        ("no links here", []),
    ],
)
def test_urls_are_found_in_text_without_the_sentence_around_them(text: str, found: list[str]) -> None:
    assert text_links(text) == found


def test_html_links_come_first_then_the_texts_each_once() -> None:
    text = "Verify: https://app.test/v?t=1&u=2\nHelp: https://app.test/help\nAgain https://app.test/help"
    html = '<a href="https://app.test/v?t=1&amp;u=2">Verify</a> <a href="https://app.test/about">About</a>'
    assert links(text, html) == [
        "https://app.test/v?t=1&u=2",
        "https://app.test/about",
        "https://app.test/help",
    ]
    assert links(None, None) == []


def test_quoted_printable_bodies_are_decoded_before_links_are_found() -> None:
    raw = (
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b'<a href=3D"https://app.test/verify?token=3Dlong-token-that-wraps-over-the-seventy-six-=\r\n'
        b'column-limit">go</a>\r\n'
    )
    assert links(*bodies(raw)) == [
        "https://app.test/verify?token=long-token-that-wraps-over-the-seventy-six-column-limit"
    ]


def test_html_text_is_what_a_reader_sees() -> None:
    html = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<p>Welcome,&nbsp;<b>Al</b>ice!</p><p>Your code is <code>4 2</code></p>"
        "<script>var hidden = 1;</script><br/>Bye</body></html>"
    )
    assert html_text(html) == "Welcome, Alice! Your code is 4 2 Bye"  # &nbsp; is white space too


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(PIECES, st.binary(max_size=20), st.sampled_from([b"<a href=", b"https://x", b"<"])),
        max_size=30,
    )
)
def test_any_bytes_give_links_never_an_error(chunks: list[bytes]) -> None:
    found = links(*bodies(b"".join(chunks)))
    assert all(url.lower().startswith(("http://", "https://", "mailto:")) for url in found)
    assert len(found) == len(set(found))
