"""mockmail/login/oauth.py: XOAUTH2 and OAUTHBEARER, alone and through the exchange."""

from __future__ import annotations

import base64
import json

import pytest

from mockmail.login.credentials import authenticate
from mockmail.login.exchange import Cancelled, Denied, Granted, Refused, SaslExchange, offered, open_exchange
from mockmail.login.oauth import OAuthBearer, XOAuth2
from mockmail.login.sasl import Challenge, Credentials, SaslFailure
from mockmail.store import Mailbox, MemoryStore

TOKENS = {"bob": "tok-bob", "a,b=c": "tok-odd"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def xoauth2(user: str, token: str) -> bytes:
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer(user: str, token: str, *, extra: str = "host=h.test\x01port=143\x01") -> bytes:
    return f"n,a={user},\x01{extra}auth=Bearer {token}\x01\x01".encode()


def _store() -> tuple[MemoryStore, Mailbox]:
    store = MemoryStore()
    box, _ = store.put("bob", "s3cret")
    store.put("carol", "pw")  # a mailbox without a token
    return store, box


def _open(name: str, store: MemoryStore) -> SaslExchange[Mailbox]:
    exchange = open_exchange(
        name, lambda credentials: authenticate(store, credentials), hostname="h", tokens=TOKENS.get
    )
    assert exchange is not None
    return exchange


def test_xoauth2_message_yields_the_user_and_a_token_check() -> None:
    result = XOAuth2(TOKENS.get).start(xoauth2("bob", "tok-bob"))
    assert isinstance(result, Credentials) and result.user == "bob"
    assert result.verify("any stored password")  # the token is checked, not the password
    wrong = XOAuth2(TOKENS.get).step(xoauth2("bob", "tok-eve"))
    assert isinstance(wrong, Credentials) and not wrong.verify("s3cret")


def test_oauthbearer_reads_the_gs2_header_and_its_escapes() -> None:
    result = OAuthBearer(TOKENS.get).start(oauthbearer("a=2Cb=3Dc", "tok-odd"))
    assert isinstance(result, Credentials) and result.user == "a,b=c" and result.verify("")
    minimal = OAuthBearer(TOKENS.get).step(oauthbearer("bob", "tok-bob", extra=""))
    assert isinstance(minimal, Credentials) and minimal.verify("")
    assert OAuthBearer(TOKENS.get).start(None) == Challenge(b"")


def test_a_user_without_a_token_never_passes() -> None:
    result = XOAuth2(TOKENS.get).start(xoauth2("carol", "tok-bob"))
    assert isinstance(result, Credentials) and not result.verify("pw")


@pytest.mark.parametrize(
    ("mechanism", "data", "reason"),
    [
        (XOAuth2, b"user=bob\x01auth=Bearer t\x01", r"two \^A"),
        (XOAuth2, b"auth=Bearer t\x01\x01", "user=<user>"),
        (XOAuth2, b"user=bob\x01auth=Basic t\x01\x01", "auth=Bearer <token>"),
        (XOAuth2, b"user=bob\x01auth=Bearer \x01\x01", "auth=Bearer <token>"),
        (XOAuth2, b"user=bob\x01junk\x01\x01", "key=value"),
        (XOAuth2, b"user=\xff\x01\x01", "UTF-8"),
        (OAuthBearer, b"n,,\x01auth=Bearer t\x01\x01", r"name the user \(a=user\)"),
        (OAuthBearer, b"p=tls-unique,a=bob,\x01auth=Bearer t\x01\x01", "channel binding"),
        (OAuthBearer, b"x,a=bob,\x01auth=Bearer t\x01\x01", "n, y or p="),
        (OAuthBearer, b"n,a=bob\x01auth=Bearer t\x01\x01", "GS2 header"),
        (OAuthBearer, b"n,a=b=ob,\x01auth=Bearer t\x01\x01", "escape"),
        (OAuthBearer, b"n,a=bob,\x01\x01", r"two \^A"),
        (OAuthBearer, b"\x01", "GS2 header"),
    ],
)
def test_malformed_messages_are_refused(
    mechanism: type[XOAuth2 | OAuthBearer], data: bytes, reason: str
) -> None:
    with pytest.raises(SaslFailure, match=reason):
        mechanism(TOKENS.get).step(data)


def test_the_mechanisms_are_offered_only_with_a_token_lookup() -> None:
    assert offered() == ("PLAIN", "LOGIN", "CRAM-MD5")
    assert offered(TOKENS.get) == ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER")
    assert open_exchange("XOAUTH2", lambda c: None, hostname="h") is None
    assert open_exchange("OAUTHBEARER", lambda c: None, hostname="h") is None


@pytest.mark.parametrize(
    ("name", "message"),
    [("XOAUTH2", xoauth2("bob", "tok-bob")), ("OAUTHBEARER", oauthbearer("bob", "tok-bob"))],
)
def test_the_right_token_is_granted(name: str, message: bytes) -> None:
    store, box = _store()
    assert _open(name, store).start(b64(message)) == Granted("bob", box)
    exchange = _open(name, store)
    assert exchange.start(None) == Challenge(b"")
    assert exchange.respond(b64(message)) == Granted("bob", box)


@pytest.mark.parametrize(
    ("name", "message", "dummy", "status"),
    [
        ("XOAUTH2", xoauth2("bob", "stolen"), b"", "401"),
        ("XOAUTH2", xoauth2("carol", "tok-bob"), b"", "401"),  # a mailbox without a token
        ("OAUTHBEARER", oauthbearer("bob", "stolen"), b"\x01", "invalid_token"),
        ("OAUTHBEARER", oauthbearer("nobody", "tok-bob"), b"\x01", "invalid_token"),
    ],
)
def test_a_wrong_token_gets_an_error_challenge_then_fails(
    name: str, message: bytes, dummy: bytes, status: str
) -> None:
    store, _ = _store()
    exchange = _open(name, store)
    error = exchange.start(b64(message))
    assert isinstance(error, Challenge)
    assert json.loads(error.data)["status"] == status
    assert isinstance(exchange.respond(b64(dummy)), Denied)


def test_cancelling_after_the_error_challenge_still_fails_the_login() -> None:
    store, _ = _store()
    exchange = _open("OAUTHBEARER", store)
    assert isinstance(exchange.start(b64(oauthbearer("bob", "stolen"))), Challenge)
    assert exchange.cancel() == Denied("bob")
    fresh = _open("OAUTHBEARER", store)
    assert fresh.start(None) == Challenge(b"")
    assert fresh.cancel() == Cancelled()


def test_a_malformed_message_is_refused_without_an_error_challenge() -> None:
    store, _ = _store()
    refused = _open("OAUTHBEARER", store).start(b64(b"n,,\x01auth=Bearer t\x01\x01"))
    assert isinstance(refused, Refused)
