"""mockmail/login/exchange.py: one SASL exchange, driven the way any protocol's framing drives it."""

from __future__ import annotations

import base64
import hashlib
import hmac

from mockmail.login.credentials import authenticate
from mockmail.login.exchange import (
    Cancelled,
    Denied,
    Granted,
    Malformed,
    Refused,
    SaslExchange,
    Step,
    offered,
    open_exchange,
)
from mockmail.login.sasl import Challenge, Credentials
from mockmail.store import Mailbox, MemoryStore


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _store() -> tuple[MemoryStore, Mailbox]:
    store = MemoryStore()
    box, _ = store.put("bob", "s3cret")
    return store, box


def _open(name: str, store: MemoryStore) -> SaslExchange[Mailbox]:
    exchange = open_exchange(name, lambda credentials: authenticate(store, credentials), hostname="h.test")
    assert exchange is not None
    return exchange


def test_plain_with_an_initial_response_is_granted_in_one_step() -> None:
    store, box = _store()
    assert _open("PLAIN", store).start(b64(b"\0bob\0s3cret")) == Granted("bob", box)


def test_a_wrong_password_and_an_unknown_user_are_both_denied() -> None:
    store, _ = _store()
    assert _open("PLAIN", store).start(b64(b"\0bob\0nope")) == Denied("bob")
    assert _open("PLAIN", store).start(b64(b"\0nobody\0s3cret")) == Denied("nobody")


def test_login_asks_twice_then_decides() -> None:
    store, box = _store()
    exchange = _open("LOGIN", store)
    assert exchange.start(None) == Challenge(b"Username:")
    assert exchange.respond(b64(b"bob")) == Challenge(b"Password:")
    assert exchange.respond(b64(b"s3cret")) == Granted("bob", box)


def test_cram_md5_challenges_with_the_hostname() -> None:
    store, box = _store()
    exchange = _open("CRAM-MD5", store)
    first = exchange.start(None)
    assert isinstance(first, Challenge) and first.data.endswith(b"@h.test>")
    digest = hmac.new(b"s3cret", first.data, hashlib.md5).hexdigest()
    assert exchange.respond(b64(f"bob {digest}".encode())) == Granted("bob", box)


def test_bad_base64_is_malformed_and_a_broken_message_is_refused() -> None:
    store, _ = _store()
    assert _open("PLAIN", store).start("not base64!") == Malformed("invalid base64 in SASL response")
    exchange = _open("LOGIN", store)
    exchange.start(None)
    assert exchange.respond("!!") == Malformed("invalid base64 in SASL response")
    refused = _open("PLAIN", store).start(b64(b"no separators"))
    assert isinstance(refused, Refused) and "authzid NUL authcid NUL password" in refused.reason


def test_the_empty_initial_response_is_an_equals_sign() -> None:
    # RFC 4959 (IMAP SASL-IR), RFC 4954, RFC 5034: `=` is an initial response of zero octets.
    store, _ = _store()
    assert isinstance(_open("PLAIN", store).start("="), Refused)
    assert _open("PLAIN", store).start(None) == Challenge(b"")


def test_cancel_ends_the_exchange() -> None:
    store, _ = _store()
    exchange = _open("LOGIN", store)
    exchange.start(None)
    assert exchange.cancel() == Cancelled()


def test_the_check_decides_and_its_grant_is_handed_back() -> None:
    seen: list[Credentials] = []

    def check(credentials: Credentials) -> str | None:
        seen.append(credentials)
        return "anything goes"

    exchange = open_exchange("PLAIN", check, hostname="h")
    assert exchange is not None
    assert exchange.start(b64(b"\0eve\0whatever")) == Granted("eve", "anything goes")
    assert [c.user for c in seen] == ["eve"]


def test_only_offered_mechanisms_open() -> None:
    assert offered() == ("PLAIN", "LOGIN", "CRAM-MD5")
    assert open_exchange("GSSAPI", lambda c: None, hostname="h") is None
    assert open_exchange("plain", lambda c: None, hostname="h") is None  # the cores upper-case the name


def _imap_authenticate(store: MemoryStore, line: str, answers: list[str]) -> list[str]:
    """A sketch of IMAP's framing (RFC 3501 AUTHENTICATE, RFC 4959 SASL-IR) over the same exchange."""
    _tag, _verb, mechanism, *initial = line.split(" ")
    exchange = _open(mechanism, store)
    step: Step[Mailbox] = exchange.start(initial[0] if initial else None)
    wire = []
    while isinstance(step, Challenge):
        wire.append(f"+ {step.encoded()}")
        answer = answers.pop(0)
        step = exchange.cancel() if answer == "*" else exchange.respond(answer)
    if isinstance(step, Granted):
        wire.append("a OK authenticated")
    elif isinstance(step, Denied):
        wire.append("a NO [AUTHENTICATIONFAILED] invalid credentials")
    else:
        wire.append("a BAD authentication aborted")
    return wire


def test_an_imap_framing_plugs_in_without_a_copy() -> None:
    store, _ = _store()
    initial = b64(b"\0bob\0s3cret")
    assert _imap_authenticate(store, f"a AUTHENTICATE PLAIN {initial}", []) == ["a OK authenticated"]
    assert _imap_authenticate(store, "a AUTHENTICATE LOGIN", [b64(b"bob"), b64(b"x")]) == [
        f"+ {b64(b'Username:')}",
        f"+ {b64(b'Password:')}",
        "a NO [AUTHENTICATIONFAILED] invalid credentials",
    ]
    assert _imap_authenticate(store, "a AUTHENTICATE PLAIN", ["*"]) == ["+ ", "a BAD authentication aborted"]
