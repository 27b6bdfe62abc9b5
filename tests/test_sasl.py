"""mockmail/sasl.py: the mechanisms without any I/O."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from mockmail.login.sasl import (
    MECHANISMS,
    Challenge,
    CramMd5,
    Credentials,
    Login,
    Plain,
    SaslFailure,
    apop_credentials,
    decode_response,
)


def test_plain_initial_response() -> None:
    result = Plain().start(b"\0bob\0pw")
    assert isinstance(result, Credentials) and result.user == "bob"
    assert result.verify("pw") and not result.verify("PW")


def test_plain_without_initial_response_asks_with_an_empty_challenge() -> None:
    mech = Plain()
    assert mech.start(None) == Challenge(b"")
    result = mech.step(b"bob\0bob\0pw")
    assert isinstance(result, Credentials) and result.verify("pw")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"bob\0pw", "authzid NUL authcid NUL password"),
        (b"\0\0pw", "empty user"),
        (b"eve\0bob\0pw", "authorization identity"),
        (b"\0\xff\0pw", "UTF-8"),
    ],
)
def test_plain_rejects(data: bytes, reason: str) -> None:
    with pytest.raises(SaslFailure, match=reason):
        Plain().step(data)


def test_login_two_steps() -> None:
    mech = Login()
    assert mech.start(None) == Challenge(b"Username:")
    assert mech.step(b"bob") == Challenge(b"Password:")
    result = mech.step(b"pw")
    assert isinstance(result, Credentials) and result.user == "bob" and result.verify("pw")


def test_cram_md5() -> None:
    challenge = "<1.2@host>"
    mech = CramMd5(challenge)
    assert mech.start(None) == Challenge(challenge.encode())
    digest = hmac.new(b"pw", challenge.encode(), hashlib.md5).hexdigest()
    result = mech.step(f"bob {digest}".encode())
    assert isinstance(result, Credentials) and result.user == "bob"
    assert result.verify("pw") and not result.verify("other")
    with pytest.raises(SaslFailure, match="no initial response"):
        CramMd5(challenge).start(b"x")
    with pytest.raises(SaslFailure, match="user digest"):
        CramMd5(challenge).step(b"bob nothex")


def test_apop_digest() -> None:
    stamp = "<1896.697170952@dbc.mtview.ca.us>"  # the RFC 1939 example
    creds = apop_credentials("mrose", stamp, "c4c9334bac560ecc979e58001b3e22fb")
    assert creds.verify("tanstaaf")
    assert not creds.verify("tanstaafl")


def test_decode_response() -> None:
    assert decode_response("=") == b""
    assert decode_response("Ym9i") == b"bob"
    with pytest.raises(SaslFailure, match="base64"):
        decode_response("Ym9i!")


def test_mechanism_names() -> None:
    assert list(MECHANISMS) == ["PLAIN", "LOGIN", "CRAM-MD5"]
    assert all(factory("<c@h>").name == name for name, factory in MECHANISMS.items())
