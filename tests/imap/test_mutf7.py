"""mockmail/imap/_mutf7.py: modified UTF-7 round trips and strict rejections."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockmail.imap._mutf7 import MUtf7Error, decode_mutf7, encode_mutf7


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("INBOX", "INBOX"),
        ("&", "&-"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501 section 5.1.3
        ("Entwürfe", "Entw&APw-rfe"),
        ("Gesendete Objekte", "Gesendete Objekte"),
        ("Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"),
        ("😀", "&2D3eAA-"),
        ("a\tb", "a&AAk-b"),
    ],
)
def test_known_encodings(name: str, wire: str) -> None:
    assert encode_mutf7(name) == wire
    assert decode_mutf7(wire) == name
    assert decode_mutf7(wire.encode()) == name


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        ("&U,BTFw", "never closed"),
        ("&U/BTFw-", "invalid modified BASE64"),
        ("&U,BTFw=-", "invalid modified BASE64"),
        ("&AGE-", "printable US-ASCII encoded"),
        ("&APw-&APw-", "back to back"),
        ("&APx-", "non-zero padding bits"),
        ("&A-", "truncated"),
        ("&AA-", "odd number"),
        ("&2D0-", "unpaired"),
        ("caf\u00e9", "outside printable"),
        ("a\x01b", "outside printable"),
    ],
)
def test_rejects_malformed(wire: str, reason: str) -> None:
    with pytest.raises(MUtf7Error, match=reason):
        decode_mutf7(wire)


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",))))
def test_round_trip(name: str) -> None:
    wire = encode_mutf7(name)
    assert all(" " <= ch <= "~" for ch in wire)
    assert decode_mutf7(wire) == name


@given(st.binary(max_size=40))
def test_random_bytes_decode_or_raise_mutf7error(data: bytes) -> None:
    try:
        name = decode_mutf7(data)
    except MUtf7Error:
        return
    assert encode_mutf7(name).encode() == data  # what decodes is canonical: it encodes back the same
