"""ENVELOPE, octet for octet: NIL rules, defaults, groups, and raw header text."""

from __future__ import annotations

from mockmail.imap._envelope import MAX_ADDRESS_OCTETS, write_envelope
from mockmail.imap._mime_tree import parse_message

from . import messages


def _envelope(content: bytes) -> bytes:
    envelope = parse_message(content).envelope
    assert envelope is not None
    return write_envelope(envelope)


def test_plain() -> None:
    alice = b'(("Alice Example" NIL "alice" "example.com"))'
    assert _envelope(messages.PLAIN) == (
        b'("Fri, 21 Nov 1997 09:55:06 -0600" "Lunch on Friday?" ' + alice + b" " + alice + b" " + alice
        + b' ((NIL NIL "bob" "example.org")) NIL NIL NIL "<plain.1@example.com>")'
    )  # fmt: skip


def test_encoded_words_stay_and_groups_are_marked() -> None:
    jose = b'(("=?utf-8?q?Jos=C3=A9_Garc=C3=ADa?=" NIL "jose" "example.es"))'
    assert _envelope(messages.ENCODED) == (
        b'("Thu, 6 Mar 2025 10:15:00 +0100 (CET)"'
        b' "Re: [lista] Fwd: =?utf-8?b?Q2Fmw6kgeSB0b3N0YWRhcw==?= (fwd)" '
        + jose + b" " + jose + b' (("Lists" NIL "list" "example.es"))'
        b' ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL "<orig@example.es>" "<enc.6@example.es>")'
    )  # fmt: skip


def test_absent_is_nil_and_empty_is_empty() -> None:
    assert _envelope(b"Subject:\r\n\r\n") == b'(NIL "" NIL NIL NIL NIL NIL NIL NIL NIL)'
    assert _envelope(b"") == b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"


def test_empty_sender_defaults_to_from() -> None:
    assert _envelope(b"From: a@b.test\r\nSender:\r\nReply-To: \r\n\r\n") == (
        b'(NIL NIL ((NIL NIL "a" "b.test")) ((NIL NIL "a" "b.test")) ((NIL NIL "a" "b.test")) NIL NIL NIL NIL NIL)'
    )


def test_every_occurrence_of_an_address_field_counts_but_the_first_subject_wins() -> None:
    content = b"To: a@x.test\r\nSubject: first\r\nTo: b@x.test\r\nSubject: second\r\n\r\n"
    assert _envelope(content) == (
        b'(NIL "first" NIL NIL NIL ((NIL NIL "a" "x.test")(NIL NIL "b" "x.test")) NIL NIL NIL NIL)'
    )


def test_folded_subject_is_unfolded_and_8bit_goes_as_a_literal() -> None:
    content = "Subject: Grüße\r\n\taus Köln\r\n\r\n".encode()
    value = "Grüße\taus Köln".encode()
    assert _envelope(content) == b"(NIL {%d}\r\n%s NIL NIL NIL NIL NIL NIL NIL NIL)" % (len(value), value)


def test_quotes_and_backslashes_in_a_subject_are_escaped() -> None:
    assert _envelope(b'Subject: say "hi" \\ bye\r\n\r\n') == (
        b'(NIL "say \\"hi\\" \\\\ bye" NIL NIL NIL NIL NIL NIL NIL NIL)'
    )


def test_nul_in_a_header_cannot_break_the_response() -> None:
    assert _envelope(b"Subject: a\x00b\r\n\r\n") == b'(NIL "a b" NIL NIL NIL NIL NIL NIL NIL NIL)'


def test_address_fields_are_read_up_to_a_budget() -> None:
    content = b"From: a@b.test\r\nTo: " + b"x@y.test, " * 20_000 + b"\r\nCc: late@y.test\r\n\r\n"
    envelope = parse_message(content).envelope
    assert envelope is not None
    assert 0 < len(envelope.to) < 20_000
    assert len(envelope.to) * len(b"x@y.test, ") <= MAX_ADDRESS_OCTETS
    assert envelope.from_ and not envelope.cc  # the budget is spent in order
