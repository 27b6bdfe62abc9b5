"""The OAuth 2.0 bearer-token mechanisms: XOAUTH2 (Google's) and OAUTHBEARER (RFC 7628), without I/O.

Both carry a user name and a bearer token (RFC 6750) in one client message, and both check the token
against the mailbox's own, which a `TokenLookup` supplies (mailbox user -> its token, or None when it has
none): the lookup is the caller's, so where tokens are kept is not this module's business.  A session
offers these mechanisms only when it has a lookup.

A wrong token (or an unknown user, or a mailbox without a token: the client cannot tell which) is reported
the way each mechanism's servers do, with one more challenge before the failure:
- XOAUTH2: a base64 JSON error (`{"status":"401",...}`); the client answers with an empty line;
- OAUTHBEARER: the RFC 7628 section 3.2.2 error `{"status":"invalid_token",...}`; the client answers
  with a single %x01 (section 3.2.3).
`SaslExchange` sends that challenge and takes whatever the client answers as the end of a failed login.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from .sasl import Challenge, Credentials, Mechanism, SaslFailure

__all__ = ["MECHANISMS", "OAuthBearer", "TokenLookup", "XOAuth2"]

TokenLookup = Callable[[str], str | None]
"""The bearer token of a mailbox user, or None when it has none."""

_KVSEP = "\x01"


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SaslFailure(f"{what} is not valid UTF-8") from None


def _pairs(text: str, what: str) -> dict[str, str]:
    """`key=value` pairs, each ended by %x01, then one more %x01 (RFC 7628 section 3.1 `kvpair`)."""
    if not text.endswith(_KVSEP * 2):
        raise SaslFailure(f"{what} must end with two ^A characters")
    pairs = {}
    for pair in text[:-2].split(_KVSEP):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SaslFailure(f"{what} has a field that is not key=value")
        pairs[key] = value
    return pairs


def _bearer(pairs: dict[str, str], what: str) -> str:
    """The token of `auth=Bearer <token>` (the scheme is case-insensitive, RFC 6750 section 2.1)."""
    scheme, _, token = pairs.get("auth", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise SaslFailure(f"{what} needs auth=Bearer <token>")
    return token


def _token_credentials(tokens: TokenLookup, user: str, token: str) -> Credentials:
    """Credentials whose check is the mailbox's bearer token, not its password."""
    given = token.encode("utf-8")

    def verify(stored_password: str) -> bool:
        expected = tokens(user)
        return expected is not None and hmac.compare_digest(expected.encode("utf-8"), given)

    return Credentials(user, verify)


class XOAuth2(Mechanism):
    """Google's XOAUTH2: one message `user=<user>^Aauth=Bearer <token>^A^A`."""

    name = "XOAUTH2"
    failure_challenge = b'{"status":"401","schemes":"bearer","scope":"mail"}'

    def __init__(self, tokens: TokenLookup) -> None:
        self._tokens = tokens

    def start(self, initial: bytes | None) -> Challenge | Credentials:
        return Challenge(b"") if initial is None else self.step(initial)

    def step(self, response: bytes) -> Challenge | Credentials:
        pairs = _pairs(_text(response, "XOAUTH2 response"), "XOAUTH2 response")
        user = pairs.get("user", "")
        if not user:
            raise SaslFailure("XOAUTH2 response needs user=<user>")
        return _token_credentials(self._tokens, user, _bearer(pairs, "XOAUTH2 response"))


def _saslname(text: str) -> str:
    """RFC 5801 `saslname`: `=2C` is a comma and `=3D` an equals sign; any other `=` is malformed."""
    unescaped = text.replace("=2C", ",").replace("=3D", "=")
    if "=" in text.replace("=2C", "").replace("=3D", ""):
        raise SaslFailure("OAUTHBEARER user name has a bad =XX escape")
    return unescaped


class OAuthBearer(Mechanism):
    """RFC 7628 OAUTHBEARER: `n,a=<user>,^A[host=..^Aport=..^A]auth=Bearer <token>^A^A`.

    The GS2 header (RFC 5801) must name the user (`a=`): a token is checked against one mailbox's, so
    the user cannot be learnt from it.  Channel binding (`p=`) is not supported.
    """

    name = "OAUTHBEARER"
    failure_challenge = b'{"status":"invalid_token","schemes":"bearer","scope":"mail"}'

    def __init__(self, tokens: TokenLookup) -> None:
        self._tokens = tokens

    def start(self, initial: bytes | None) -> Challenge | Credentials:
        return Challenge(b"") if initial is None else self.step(initial)

    def step(self, response: bytes) -> Challenge | Credentials:
        text = _text(response, "OAUTHBEARER response")
        header, sep, rest = text.partition(_KVSEP)
        fields = header.split(",")
        if not sep or len(fields) != 3 or fields[2]:
            raise SaslFailure("OAUTHBEARER response must start with a GS2 header such as n,a=user,")
        flag, authzid, _ = fields
        if flag.startswith("p="):
            raise SaslFailure("OAUTHBEARER channel binding is not supported")
        if flag not in ("n", "y"):
            raise SaslFailure("OAUTHBEARER GS2 header must start with n, y or p=")
        if not authzid.startswith("a=") or len(authzid) == 2:
            raise SaslFailure("OAUTHBEARER GS2 header must name the user (a=user)")
        user = _saslname(authzid[2:])
        pairs = _pairs(rest, "OAUTHBEARER response")
        return _token_credentials(self._tokens, user, _bearer(pairs, "OAUTHBEARER response"))


MECHANISMS: dict[str, Callable[[TokenLookup], Mechanism]] = {
    "XOAUTH2": XOAuth2,
    "OAUTHBEARER": OAuthBearer,
}
"""Mechanism factories by name; each takes the session's token lookup."""
