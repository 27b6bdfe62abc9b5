"""BODYSTRUCTURE and BODY, octet for octet, for realistic and broken messages."""

from __future__ import annotations

import pytest

from mockmail.imap._bodystructure import body_structure
from mockmail.imap._mime_tree import parse_message

from . import messages

SHOP = b'("Mon, 3 Feb 2025 23:30:00 +0100" "Your order has shipped" (("Shop, Inc." NIL "news" "shop.test")) (("Shop, Inc." NIL "news" "shop.test")) (("Shop, Inc." NIL "news" "shop.test")) ((NIL NIL "heidi" "example.com")) NIL NIL NIL "<inner.5@shop.test>")'

EXPECTED = {
    "PLAIN": (
        b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 47 4 NIL NIL NIL NIL)',
        b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 47 4)',
    ),
    "ALTERNATIVE": (
        b'(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 57 1 NIL NIL NIL NIL)'
        b'("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 50 0 NIL NIL NIL NIL)'
        b' "alternative" ("boundary" "==alt==") NIL NIL NIL)',
        b'(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 57 1)'
        b'("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 50 0) "alternative")',
    ),
    "ATTACHMENT": (
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 17 1 NIL NIL NIL NIL)'
        b'("application" "pdf" ("name" "report.pdf") "<report@example.com>" "Quarterly report" "base64" 72'
        b' NIL ("attachment" ("filename" "report.pdf")) ("en" "de") NIL)'
        b'("image" "png" NIL NIL NIL "base64" 12 NIL ("inline" NIL) NIL NIL)'
        b' "mixed" ("boundary" "mixed42") NIL NIL NIL)',
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 17 1)'
        b'("application" "pdf" ("name" "report.pdf") "<report@example.com>" "Quarterly report" "base64" 72)'
        b'("image" "png" NIL NIL NIL "base64" 12) "mixed")',
    ),
    "NESTED": (
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 18 1 NIL NIL NIL NIL)'
        b'("message" "rfc822" NIL NIL "forwarded message" "7bit" 381 ' + SHOP + b" "
        b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 8 0 NIL NIL NIL NIL)'
        b'("text" "html" ("charset" "utf-8") NIL NIL "7bit" 15 0 NIL NIL NIL NIL)'
        b' "alternative" ("boundary" "inner") NIL NIL NIL) 17 NIL NIL NIL NIL)'
        b' "mixed" ("boundary" "outer") NIL NIL NIL)',
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 18 1)'
        b'("message" "rfc822" NIL NIL "forwarded message" "7bit" 381 ' + SHOP + b" "
        b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 8 0)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 15 0)'
        b' "alternative") 17) "mixed")',
    ),
    "ENCODED": (
        b'("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 19 1 NIL NIL NIL NIL)',
        b'("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 19 1)',
    ),
    "NO_CONTENT_TYPE": (
        b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 37 2 NIL NIL NIL NIL)',
        b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 37 2)',
    ),
    "HOSTILE": (
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 16 0 NIL NIL NIL NIL)'
        b'("message" "rfc822" NIL NIL NIL "7bit" 24 (NIL "truncated inner" NIL NIL NIL NIL NIL NIL NIL NIL)'
        b' ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) 0 NIL NIL NIL NIL)'
        b'("text" "plain" ("charset" "") NIL NIL "x-uuencode" 28 2 NIL NIL NIL NIL)'
        b' "mixed" ("boundary" "b1") NIL NIL NIL)',
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 16 0)'
        b'("message" "rfc822" NIL NIL NIL "7bit" 24 (NIL "truncated inner" NIL NIL NIL NIL NIL NIL NIL NIL)'
        b' ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) 0)'
        b'("text" "plain" ("charset" "") NIL NIL "x-uuencode" 28 2) "mixed")',
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bodystructure(name: str) -> None:
    assert body_structure(parse_message(getattr(messages, name))) == EXPECTED[name][0]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_body(name: str) -> None:
    assert body_structure(parse_message(getattr(messages, name)), extended=False) == EXPECTED[name][1]


def test_sizes_and_lines_are_counted_from_the_octets() -> None:
    content = messages.ATTACHMENT
    for part in parse_message(content).walk():
        body = content[part.body_start : part.end]
        assert (part.size, part.lines) == (len(body), body.count(b"\n"))


def test_eight_bit_parameter_goes_as_a_literal() -> None:
    tree = parse_message('Content-Type: text/plain; name="café.txt"\r\n\r\nx\r\n'.encode())
    assert body_structure(tree) == (
        b'("text" "plain" ("name" {9}\r\ncaf\xc3\xa9.txt "charset" "us-ascii") NIL NIL "7bit" 3 1 NIL NIL NIL NIL)'
    )


def test_non_text_leaf_has_no_line_count_and_keeps_its_case() -> None:
    tree = parse_message(
        b"Content-Type: APPLICATION/Octet-Stream\r\nContent-Transfer-Encoding: BASE64\r\n"
        b"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\nContent-Location: http://example.com/a\r\n"
        b"Content-Language: en\r\nContent-Disposition: attachment; filename*=utf-8''%E2%82%AC.bin\r\n\r\nAAAA\r\n"
    )
    assert body_structure(tree) == (
        b'("APPLICATION" "Octet-Stream" NIL NIL NIL "BASE64" 6 "Q2hlY2sgSW50ZWdyaXR5IQ=="'
        b' ("attachment" ("filename*" "utf-8\'\'%E2%82%AC.bin")) ("en") "http://example.com/a")'
    )


def test_multipart_with_disposition_and_language() -> None:
    tree = parse_message(
        b"Content-Type: multipart/related; boundary=r; type=text/html\r\nContent-Disposition: inline\r\n"
        b"Content-Language: fr\r\n\r\n--r\r\n\r\nx\r\n--r--\r\n"
    )
    assert body_structure(tree) == (
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0 NIL NIL NIL NIL) "related"'
        b' ("boundary" "r" "type" "text/html") ("inline" NIL) ("fr") NIL)'
    )
