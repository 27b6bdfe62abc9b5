"""BODY[section]<partial> and BINARY[section] octets (RFC 9051 section 6.4.5, RFC 3516)."""

from __future__ import annotations

import base64
import email
import email.policy
from email.message import Message

import pytest

from mockmail.imap._mime_tree import MessageView
from mockmail.imap._section import Section, SectionText
from mockmail.imap._sections import UnknownCteError, binary_section, binary_size, resolve_part, section_bytes

from . import messages

H, T, HF, HFN, MIME = (
    SectionText.HEADER,
    SectionText.TEXT,
    SectionText.HEADER_FIELDS,
    SectionText.HEADER_FIELDS_NOT,
    SectionText.MIME,
)


def _body(
    content: bytes, parts: tuple[int, ...] = (), text: SectionText | None = None, **kw: object
) -> bytes:
    return section_bytes(MessageView.parse(content), Section(parts=parts, text=text, **kw))  # type: ignore[arg-type]


def test_whole_header_and_text_of_the_message() -> None:
    content = messages.PLAIN
    split = content.index(b"\r\n\r\n") + 4
    assert _body(content) == content
    assert _body(content, text=H) == content[:split]
    assert _body(content, text=T) == content[split:]


def test_part_one_of_a_single_part_message_is_its_body() -> None:
    content = messages.PLAIN
    split = content.index(b"\r\n\r\n") + 4
    assert _body(content, (1,)) == content[split:]
    assert _body(content, (1,), MIME) == content[:split]
    assert _body(content, (2,)) == b""
    assert _body(content, (1, 1)) == b""


def test_parts_of_a_multipart_match_python_email() -> None:
    content = messages.ATTACHMENT
    python = email.message_from_bytes(content, policy=email.policy.compat32)
    payload = python.get_payload()
    assert isinstance(payload, list)
    for number, part in enumerate(payload, 1):
        assert isinstance(part, Message)
        assert _body(content, (number,)) == str(part.get_payload()).encode()
        assert binary_section(MessageView.parse(content), Section(parts=(number,))) == part.get_payload(
            decode=True
        )


def test_mime_header_of_a_part() -> None:
    assert _body(messages.ATTACHMENT, (3,), MIME) == (
        b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: inline\r\n\r\n"
    )


def test_nested_message_parts() -> None:
    content = messages.NESTED
    forwarded = _body(content, (2,))
    assert forwarded.startswith(b'From: "Shop, Inc."') and forwarded.endswith(b"--inner--\r\n")
    assert _body(content, (2,), H) == forwarded[: forwarded.index(b"\r\n\r\n") + 4]
    assert _body(content, (2,), T) == forwarded[forwarded.index(b"\r\n\r\n") + 4 :]
    assert _body(content, (2, 1)) == b"Shipped."
    assert _body(content, (2, 2)) == b"<p>Shipped.</p>"
    assert _body(content, (2, 2), MIME) == b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    assert (
        _body(content, (2,), MIME)
        == b"Content-Type: message/rfc822\r\nContent-Description: forwarded message\r\n\r\n"
    )
    assert _body(content, (2, 3)) == b""
    assert _body(content, (1,), H) == b""  # HEADER of a part that is no message


def test_header_fields_and_not() -> None:
    content = messages.ENCODED
    assert _body(content, text=HF, fields=("SUBJECT", "MESSAGE-ID")) == (
        b"Subject: Re: [lista] Fwd: =?utf-8?b?Q2Fmw6kgeSB0b3N0YWRhcw==?=\r\n (fwd)\r\n"
        b"Message-ID: <enc.6@example.es>\r\n\r\n"
    )
    assert _body(content, text=HF, fields=("X-NONE",)) == b"\r\n"
    kept = _body(content, text=HFN, fields=("SUBJECT", "DATE", "FROM", "TO", "REPLY-TO", "IN-REPLY-TO"))
    assert kept == (
        b"Message-ID: <enc.6@example.es>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )


def test_header_fields_of_a_nested_message() -> None:
    assert (
        _body(messages.NESTED, (2,), HF, fields=("MESSAGE-ID",)) == b"Message-ID: <inner.5@shop.test>\r\n\r\n"
    )


@pytest.mark.parametrize(("start", "length"), [(0, 10), (5, 3), (300, 100), (10_000, 5), (0, 0)])
def test_partial(start: int, length: int) -> None:
    content = messages.PLAIN
    assert _body(content, partial=(start, length)) == content[start : start + length]


def test_binary_decodes_quoted_printable_and_base64() -> None:
    view = MessageView.parse(messages.ALTERNATIVE)
    assert (
        binary_section(view, Section(parts=(1,)))
        == "Your order € 12 has shipped. \r\nTrack it online.".encode()
    )
    view = MessageView.parse(messages.ATTACHMENT)
    pdf = base64.b64decode(b"JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==")
    assert binary_section(view, Section(parts=(2,))) == pdf
    assert binary_size(view, Section(parts=(2,))) == len(pdf)
    assert binary_section(view, Section(parts=(2,), partial=(1, 3))) == pdf[1:4]
    assert binary_section(view, Section()) == messages.ATTACHMENT


def test_lenient_base64() -> None:
    content = b"Content-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8*\r\n"
    assert binary_section(MessageView.parse(content), Section(parts=(1,))) == b"hello"


def test_unknown_transfer_encoding_is_its_own_failure() -> None:
    view = MessageView.parse(messages.HOSTILE)
    with pytest.raises(UnknownCteError, match="x-uuencode") as caught:
        binary_section(view, Section(parts=(3,)))
    assert caught.value.encoding == b"x-uuencode"
    with pytest.raises(UnknownCteError):
        binary_size(view, Section(parts=(3,)))
    assert binary_section(view, Section(parts=(9,))) == b""  # no such part: empty, not a failure


def test_resolve_part_through_a_message_that_is_not_multipart() -> None:
    content = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: inner\r\n\r\ninner body\r\n--b--\r\n"
    )
    view = MessageView.parse(content)
    inner = resolve_part(view.tree, (1, 1))
    assert inner is not None and inner.envelope is not None
    assert section_bytes(view, Section(parts=(1, 1))) == b"inner body"
    assert section_bytes(view, Section(parts=(1, 1), text=MIME)) == b"Subject: inner\r\n\r\n"
    assert resolve_part(view.tree, (1, 2)) is None
