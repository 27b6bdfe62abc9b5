"""mockmail/smtp/_parser.py: command lines to commands, or the reply code that refuses them."""

from __future__ import annotations

import pytest

from mockmail.smtp import (
    Auth,
    BadCommand,
    Bdat,
    Data,
    Ehlo,
    Helo,
    Help,
    Mail,
    Noop,
    Quit,
    Rcpt,
    Rset,
    StartTls,
    Vrfy,
    parse_command,
    parse_path,
)


@pytest.mark.parametrize(
    ("line", "command"),
    [
        (b"EHLO client.example", Ehlo("client.example")),
        (b"ehlo [127.0.0.1]", Ehlo("[127.0.0.1]")),
        (b"HELO c", Helo("c")),
        (b"MAIL FROM:<a@b.test>", Mail("a@b.test")),
        (
            b"mail from: <a@b.test> SIZE=12 BODY=8BITMIME",
            Mail("a@b.test", {"SIZE": "12", "BODY": "8BITMIME"}),
        ),
        (b"MAIL FROM:<>", Mail("")),
        (b"MAIL FROM:<@relay.test,@r2.test:a@b.test>", Mail("a@b.test")),
        (b'MAIL FROM:<"john doe"@b.test>', Mail('"john doe"@b.test')),
        ("MAIL FROM:<ü@bücher.test> SMTPUTF8".encode(), Mail("ü@bücher.test", {"SMTPUTF8": None})),
        (b"RCPT TO:<bob@x.test>", Rcpt("bob@x.test")),
        (b"RCPT TO:<Postmaster>", Rcpt("Postmaster")),
        (b"DATA", Data()),
        (b"BDAT 100", Bdat(100, False, b"")),
        (b"BDAT 0 last", Bdat(0, True, b"")),
        (b"RSET", Rset()),
        (b"NOOP anything", Noop()),
        (b"QUIT", Quit()),
        (b"VRFY bob", Vrfy("bob")),
        (b"HELP", Help("")),
        (b"HELP MAIL", Help("MAIL")),
        (b"STARTTLS", StartTls()),
        (b"AUTH plain AGJvYgBwdw==", Auth("PLAIN", "AGJvYgBwdw==")),
        (b"AUTH LOGIN", Auth("LOGIN")),
    ],
)
def test_commands(line: bytes, command: object) -> None:
    assert parse_command(line) == command


@pytest.mark.parametrize(
    ("line", "code", "enhanced", "reason"),
    [
        (b"FROB", 500, "5.5.1", "not recognized"),
        (b"", 500, "5.5.2", "empty"),
        (b"EXPN staff", 502, "5.5.1", "not implemented"),
        (b"EHLO", 501, "5.5.4", "needs your domain"),
        (b"EHLO two words", 501, "5.5.4", "one domain"),
        (b"MAIL TO:<a@b.test>", 501, "5.5.4", "syntax"),
        (b"MAIL FROM:a@b.test", 501, "5.1.7", "angle brackets"),
        (b"RCPT TO:<>", 501, "5.1.3", "null path"),
        (b"RCPT TO:<no-at-sign>", 501, "5.1.3", "not an address"),
        (b"RCPT TO:<" + b"x" * 65 + b"@b.test>", 501, "5.1.3", "local part"),
        (b"MAIL FROM:<a@b.test> =x", 501, "5.5.4", "malformed"),
        (b"DATA now", 501, "5.5.4", "no arguments"),
        (b"BDAT ten", 501, "5.5.4", "BDAT size"),
        (b"BDAT 10 FIRST", 501, "5.5.4", "BDAT size"),
        (b"BDAT " + b"9" * 19, 501, "5.5.4", "out of range"),
        (b"VRFY", 501, "5.5.4", "needs"),
        (b"AUTH", 501, "5.5.4", "AUTH mechanism"),
        (b"\xff\xfe", 500, "5.5.2", "UTF-8"),
    ],
)
def test_refusals_name_the_rule(line: bytes, code: int, enhanced: str, reason: str) -> None:
    bad = parse_command(line)
    assert isinstance(bad, BadCommand)
    assert (bad.code, bad.enhanced) == (code, enhanced)
    assert reason in bad.reason


def test_the_path_length_limit() -> None:
    domain = ".".join(["a" * 60] * 4) + ".test"  # 249 octets: a valid domain
    assert parse_path(f"<b@{domain}>", null_ok=False) == f"b@{domain}"
    with pytest.raises(ValueError, match="over 256"):
        parse_path(f"<bbbbbbbbbb@{domain}>", null_ok=False)
