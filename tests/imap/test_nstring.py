"""IMAP string forms: NIL, atom, quoted and literal, octet for octet."""

from __future__ import annotations

import pytest

from mockmail.imap._nstring import astring, literal, nstring, quoted, string, string_list, without_nul


def test_plain_text_is_quoted() -> None:
    assert string(b"Lunch on Friday?") == b'"Lunch on Friday?"'


def test_quote_and_backslash_are_escaped() -> None:
    assert string(b'say "hi" \\o/') == b'"say \\"hi\\" \\\\o/"'


@pytest.mark.parametrize("value", [b"caf\xc3\xa9", b"line\r\nbreak", b"bare\rcr", b"bare\nlf"])
def test_eight_bit_cr_and_lf_go_as_a_literal(value: bytes) -> None:
    assert string(value) == b"{%d}\r\n" % len(value) + value


def test_nil_and_empty_are_distinct() -> None:
    assert nstring(None) == b"NIL"
    assert nstring(b"") == b'""'
    assert nstring(b"NIL") == b'"NIL"'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"INBOX", b"INBOX"),
        (b"a]b", b"a]b"),
        (b"nil", b'"nil"'),
        (b"", b'""'),
        (b"two words", b'"two words"'),
        (b"a(b", b'"a(b"'),
        (b"star*", b'"star*"'),
        (b"Entw\xc3\xbcrfe", b"{9}\r\nEntw\xc3\xbcrfe"),
    ],
)
def test_astring_is_an_atom_only_when_it_can_be(value: bytes, expected: bytes) -> None:
    assert astring(value) == expected


def test_quoted_refuses_what_it_cannot_carry() -> None:
    with pytest.raises(ValueError, match="quoted string"):
        quoted(b"a\r\nb")


@pytest.mark.parametrize("function", [string, literal, quoted])
def test_nul_is_refused_everywhere(function: object) -> None:
    assert callable(function)
    with pytest.raises(ValueError, match="NUL"):
        function(b"a\x00b")


def test_without_nul_makes_nul_a_space() -> None:
    assert without_nul(b"a\x00b") == b"a b"
    assert string(without_nul(b"a\x00b")) == b'"a b"'


def test_string_list() -> None:
    assert string_list([]) == b"NIL"
    assert string_list([b"en", b"de"]) == b'("en" "de")'
