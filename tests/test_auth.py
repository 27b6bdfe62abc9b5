"""mockmail/auth.py: one authenticator for every protocol."""

from __future__ import annotations

import re

from mockmail.login.credentials import authenticate, challenge, password_credentials
from mockmail.login.sasl import MECHANISMS, Credentials, apop_credentials
from mockmail.store import MemoryStore as Store


def test_passwords_are_checked_against_the_store() -> None:
    store = Store()
    box, _ = store.put("alice@example.com", "s3cret")
    assert authenticate(store, password_credentials("alice@example.com", "s3cret")) is box
    assert authenticate(store, password_credentials("alice@example.com", "S3CRET")) is None
    assert authenticate(store, password_credentials("nobody", "s3cret")) is None
    assert authenticate(store, password_credentials("alice@example.com", "")) is None


def test_every_credential_kind_goes_through_the_same_lookup() -> None:
    import hashlib

    store = Store()
    box, _ = store.put("bob", "pw")
    stamp = challenge("mockmail.test")
    digest = hashlib.md5((stamp + "pw").encode()).hexdigest()
    assert authenticate(store, apop_credentials("bob", stamp, digest)) is box
    plain = MECHANISMS["PLAIN"](challenge("h")).start(b"\x00bob\x00pw")
    assert isinstance(plain, Credentials) and authenticate(store, plain) is box
    assert authenticate(store, Credentials("bob", lambda stored: False)) is None


def test_challenges_are_unique_and_shaped_as_rfc_1939_asks() -> None:
    seen = {challenge("mail.example") for _ in range(1000)}
    assert len(seen) == 1000
    assert all(re.fullmatch(r"<\d+\.[0-9a-f]{8}\.\d+@mail\.example>", c) for c in seen)
