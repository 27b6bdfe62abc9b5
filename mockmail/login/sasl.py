"""SASL mechanisms (RFC 4422) and the APOP digest (RFC 1939 section 7), without I/O or protocol.

A mechanism is a small state object: `start(initial_response)` and `step(response)` each return either a
`Challenge` to send (base64, in the protocol's continuation line) or `Credentials` holding the user name
and a `verify(password)` function, so that the caller looks up the password of that user and never hands
secrets to the mechanism.  Anything malformed raises `SaslFailure` with the text for the error reply.
Sessions do not drive mechanisms themselves: `mockmail.login.exchange.SaslExchange` does, for every protocol.

Mechanisms: PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "MECHANISMS",
    "Challenge",
    "CramMd5",
    "Credentials",
    "Login",
    "Mechanism",
    "Plain",
    "SaslFailure",
    "apop_credentials",
    "decode_response",
]


class SaslFailure(Exception):
    """The exchange cannot go on; the message is the `-ERR` text."""


@dataclass(frozen=True, slots=True)
class Challenge:
    """Bytes to send to the client, base64-encoded, in a `+ ` continuation line."""

    data: bytes

    def encoded(self) -> str:
        return base64.b64encode(self.data).decode("ascii")


@dataclass(frozen=True, slots=True)
class Credentials:
    """The outcome of a finished exchange: who claims to log in, and how to check the claim."""

    user: str
    verify: Callable[[str], bool]


def decode_response(text: str) -> bytes:
    """Decode a client's base64 SASL data; `=` is the empty initial response (RFC 5034 section 4)."""
    if text == "=":
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SaslFailure("invalid base64 in SASL response") from None


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SaslFailure(f"{what} is not valid UTF-8") from None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class Mechanism:
    """Base of the mechanisms; subclasses set `name`."""

    name = ""
    failure_challenge: bytes | None = None
    """Sent as a last challenge when the credentials fail the check (RFC 7628 section 3.2.2); the
    client's answer to it ends the exchange.  None ends it at once."""

    def start(self, initial: bytes | None) -> Challenge | Credentials:
        raise NotImplementedError

    def step(self, response: bytes) -> Challenge | Credentials:
        raise NotImplementedError


class Plain(Mechanism):
    """RFC 4616: one message `authzid NUL authcid NUL passwd`."""

    name = "PLAIN"

    def start(self, initial: bytes | None) -> Challenge | Credentials:
        return Challenge(b"") if initial is None else self.step(initial)

    def step(self, response: bytes) -> Challenge | Credentials:
        parts = response.split(b"\0")
        if len(parts) != 3:
            raise SaslFailure("PLAIN response must be authzid NUL authcid NUL password")
        authzid, authcid, passwd = (_text(part, "PLAIN response") for part in parts)
        if not authcid:
            raise SaslFailure("PLAIN response has an empty user name")
        if authzid and authzid != authcid:
            raise SaslFailure("PLAIN authorization identity must be empty or equal the user name")
        return Credentials(authcid, lambda password: _same(password, passwd))


class Login(Mechanism):
    """The LOGIN mechanism: the server asks `Username:` then `Password:`."""

    name = "LOGIN"

    def __init__(self) -> None:
        self._user: str | None = None

    def start(self, initial: bytes | None) -> Challenge | Credentials:
        if initial is None:
            return Challenge(b"Username:")
        return self.step(initial)

    def step(self, response: bytes) -> Challenge | Credentials:
        if self._user is None:
            self._user = _text(response, "LOGIN user name")
            if not self._user:
                raise SaslFailure("LOGIN user name is empty")
            return Challenge(b"Password:")
        password = _text(response, "LOGIN password")
        return Credentials(self._user, lambda stored: _same(stored, password))


class CramMd5(Mechanism):
    """RFC 2195: the client answers `user SP hex(HMAC-MD5(password, challenge))`."""

    name = "CRAM-MD5"

    def __init__(self, challenge: str) -> None:
        self._challenge = challenge.encode("ascii")

    def start(self, initial: bytes | None) -> Challenge | Credentials:
        if initial is not None:
            raise SaslFailure("CRAM-MD5 takes no initial response")
        return Challenge(self._challenge)

    def step(self, response: bytes) -> Challenge | Credentials:
        user, _, digest = _text(response, "CRAM-MD5 response").rpartition(" ")
        digest = digest.lower()
        if not user or len(digest) != 32 or any(ch not in "0123456789abcdef" for ch in digest):
            raise SaslFailure("CRAM-MD5 response must be 'user digest'")
        challenge = self._challenge

        def verify(password: str) -> bool:
            expected = hmac.new(password.encode("utf-8"), challenge, hashlib.md5).hexdigest()
            return hmac.compare_digest(expected, digest)

        return Credentials(user, verify)


MECHANISMS: dict[str, Callable[[str], Mechanism]] = {
    "PLAIN": lambda challenge: Plain(),
    "LOGIN": lambda challenge: Login(),
    "CRAM-MD5": CramMd5,
}
"""Mechanism factories by RFC name; each takes the session's challenge string (only CRAM-MD5 uses it)."""


def apop_credentials(user: str, timestamp: str, digest: str) -> Credentials:
    """APOP: digest = lower-case hex MD5 of the greeting timestamp followed by the shared secret."""

    def verify(password: str) -> bool:
        expected = hashlib.md5((timestamp + password).encode("utf-8")).hexdigest()
        return hmac.compare_digest(expected, digest.lower())

    return Credentials(user, verify)
