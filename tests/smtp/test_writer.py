"""mockmail/smtp/_writer.py: reply lines as RFC 5321 section 4.2 and RFC 2034 want them."""

from __future__ import annotations

import pytest

from mockmail.smtp import MAX_REPLY_LINE, LocalProtocolError, Reply, write


def test_multi_line_replies_use_dash_continuation() -> None:
    assert write(Reply(250, ["mock greets c", "PIPELINING", "SIZE 10"], None)) == (
        b"250-mock greets c\r\n250-PIPELINING\r\n250 SIZE 10\r\n"
    )


def test_enhanced_codes_go_on_every_line() -> None:
    assert write(Reply(214, ["one", "two"], "2.0.0")) == b"214-2.0.0 one\r\n214 2.0.0 two\r\n"
    assert write(Reply.of(550, "5.1.1", "no such user")) == b"550 5.1.1 no such user\r\n"


def test_bare_code() -> None:
    assert write(Reply.of(250, None)) == b"250\r\n"


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (Reply.of(250, None, "a\r\nb"), "line break"),
        (Reply.of(250, None, "x" * MAX_REPLY_LINE), "over the 512"),
        (Reply.of(199, None, "x"), "200 to 599"),
        (Reply(250, [], None), "at least one line"),
    ],
)
def test_malformed_replies_are_bugs(reply: Reply, match: str) -> None:
    with pytest.raises(LocalProtocolError, match=match):
        write(reply)


def test_a_float_code_is_refused() -> None:
    with pytest.raises(LocalProtocolError):
        write(Reply(250.0, ["x"], None))  # type: ignore[arg-type]


def test_an_empty_auth_challenge_keeps_its_space() -> None:
    assert write(Reply.of(334, None, "")) == b"334 \r\n"  # RFC 4954 section 4: "334" SP [base64]
