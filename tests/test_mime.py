"""mockmail/mime.py: a message's bodies and attachments, whatever a client sent."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mockmail.message.mime import attachment, parts

PIECES = st.sampled_from(
    [
        b"Content-Type: multipart/mixed; boundary=b\r\n",
        b'Content-Type: multipart/alternative; boundary="b"\r\n',
        b"\r\n",
        b"--b\r\n",
        b"--b--\r\n",
        b"Content-Type: text/plain; charset=x-unknown\r\n",
        b"Content-Type: text/html; charset=utf-8\r\n",
        b'Content-Type: text/plain; charset="utf-8\r\n',
        b"Content-Type: message/rfc822\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Content-Disposition: attachment; filename*=utf-8''%ff%fe\r\n",
        b"Content-Disposition: attachment; filename*0*=bad'x'%zz; filename*1=y\r\n",
        b"Subject: =?utf-8?b?////?=\r\n",
        b"\xff\xfe\x00hello=\r\n",
        b"aGVsbG8=\r\n",
        b"=ZZ=\r\n",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(PIECES, st.binary(max_size=20)), max_size=30))
def test_any_bytes_give_parts_never_an_error(chunks: list[bytes]) -> None:
    raw = b"".join(chunks)
    found = parts(raw)
    for info in found.attachments:
        got = attachment(raw, info.index)
        assert got is not None and len(got[0]) == info.size
    assert attachment(raw, len(found.attachments)) is None


def test_an_unknown_charset_reads_as_utf8_with_replacements() -> None:
    raw = b"Content-Type: text/plain; charset=x-unknown\r\n\r\ncaf\xc3\xa9 \xff\r\n"
    assert parts(raw).text == "caf\u00e9 \ufffd\n"


def test_alternative_bodies_and_a_nested_attachment() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\n'
        b'Content-Type: multipart/alternative; boundary="i"\r\n\r\n'
        b"--i\r\nContent-Type: text/plain\r\n\r\nplain\r\n--i\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--i--\r\n"
        b"--o\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--o--\r\n"
    )
    found = parts(raw)
    assert (found.text, found.html) == ("plain", "<b>html</b>")  # the CRLF before a boundary is its own
    assert [(a.filename, a.content_type, a.size) for a in found.attachments] == [
        ("a.pdf", "application/pdf", 4)
    ]
    assert attachment(raw, 0) == (b"%PDF", "application/pdf", "a.pdf")
