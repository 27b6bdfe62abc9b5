"""mockmail/imap/_arguments.py: mailbox names by the session's encoding."""

from __future__ import annotations

import pytest

from mockmail.imap._arguments import decode_name
from mockmail.imap._reader import ParseError


@pytest.mark.parametrize(
    ("raw", "utf8", "name"),
    [
        (b"inbox", False, "INBOX"),
        (b"InBoX", True, "INBOX"),
        (b"INBOX/sub", False, "INBOX/sub"),  # only the name INBOX itself is case-insensitive
        (b"Entw&APw-rfe", False, "Entwürfe"),
        (b"Entw&APw-rfe", True, "Entw&APw-rfe"),  # UTF-8 sessions take `&` literally
        ("Entwürfe".encode(), True, "Entwürfe"),
        (b"", False, ""),
    ],
)
def test_decode_name(raw: bytes, utf8: bool, name: str) -> None:
    assert decode_name(raw, utf8) == name


@pytest.mark.parametrize(
    ("raw", "utf8", "reason"),
    [
        ("Entwürfe".encode(), False, "not modified UTF-7"),
        (b"\xff", True, "not valid UTF-8"),
        (b"a\tb", True, "control character"),
        (b"a&AAo-b", False, "control character"),
    ],
)
def test_decode_name_refusals(raw: bytes, utf8: bool, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        decode_name(raw, utf8)
