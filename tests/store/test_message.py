"""mockmail/store/_message.py: the content and UID rules every store keeps."""

from __future__ import annotations

import pytest

from mockmail.errors import InvalidInput
from mockmail.store import check_uid, normalize_crlf


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        (b"", b""),
        (b"a", b"a\r\n"),
        (b"a\nb\n", b"a\r\nb\r\n"),
        (b"a\rb", b"a\r\nb\r\n"),
        (b"a\r\nb\r\n", b"a\r\nb\r\n"),
        (b"a\n\rb", b"a\r\n\r\nb\r\n"),
        (b"a\r\r\nb", b"a\r\n\r\nb\r\n"),
    ],
)
def test_normalize_crlf_leaves_no_bare_cr_or_lf(raw: bytes, normalized: bytes) -> None:
    result = normalize_crlf(raw)
    assert result == normalized
    assert result.count(b"\r") == result.count(b"\n") == result.count(b"\r\n")


def test_already_normalized_text_is_returned_without_a_copy() -> None:
    text = b"Subject: x\r\n\r\nbody\r\n"
    assert normalize_crlf(text) is text
    assert normalize_crlf(b"mixed\r\nbare\n") == b"mixed\r\nbare\r\n"


@pytest.mark.parametrize("uid", ["a", "x" * 70, "!~"])
def test_well_formed_uids_pass(uid: str) -> None:
    assert check_uid(uid, "uid") == uid


@pytest.mark.parametrize("uid", ["", "x" * 71, "has space", "caf\u00e9", "line\n"])
def test_malformed_uids_name_the_field(uid: str) -> None:
    with pytest.raises(InvalidInput, match="not 1 to 70 printable ASCII") as err:
        check_uid(uid, "$.uid")
    assert err.value.field == "$.uid"
