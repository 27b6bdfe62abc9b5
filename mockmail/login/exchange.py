"""`SaslExchange`: one SASL exchange (RFC 4422), sans-IO, for every protocol's framing.

A protocol session opens an exchange for the mechanism the client named, feeds it the client's base64
lines (the initial response, then each answer to a challenge) and turns every step it gets back into its
own wire format.  The exchange knows no protocol: POP3 (RFC 5034) frames a `Challenge` as `+ data` and a
`Denied` as `-ERR [AUTH]`, SMTP (RFC 4954) as `334 data` and `535 5.7.8`, IMAP (RFC 3501, SASL-IR RFC 4959)
as `+ data` and `NO [AUTHENTICATIONFAILED]`.

Steps:
- `Challenge`: send it and feed the client's answer to `respond` (or call `cancel` on `*`);
- `Granted`: the credentials passed the session's `check`; `grant` is what the check returned;
- `Denied`: well-formed credentials that failed the check: a failed login, which counts against
  `mockmail.login.policy`; the reply must not tell an unknown user from a wrong password;
- `Malformed`: the client's line is not base64 (a syntax error of the framing: SMTP 501, IMAP BAD);
- `Refused`: the mechanism cannot go on with what was sent (SMTP 535, IMAP NO); no login was tried;
- `Cancelled`: the client gave up with `*`.

The session's `check` (usually `authenticate` against its store) runs inside the exchange, so that a
mechanism that reports failure with a challenge of its own (OAUTHBEARER's JSON error, RFC 7628 section
3.2.2) can send it before the final `Denied`.  Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from . import oauth
from .credentials import challenge
from .oauth import TokenLookup
from .sasl import MECHANISMS, Challenge, Credentials, Mechanism, SaslFailure, decode_response

__all__ = [
    "Cancelled",
    "Denied",
    "Granted",
    "Malformed",
    "Refused",
    "SaslExchange",
    "Step",
    "offered",
    "open_exchange",
]

G = TypeVar("G")


@dataclass(frozen=True, slots=True)
class Granted(Generic[G]):
    """The exchange ended in a login: `user` passed the session's check, which returned `grant`."""

    user: str
    grant: G


@dataclass(frozen=True, slots=True)
class Denied:
    """The exchange ended in a failed login (wrong password or token, or no such user)."""

    user: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """The client's line is not base64; `reason` is the text for the error reply."""

    reason: str


@dataclass(frozen=True, slots=True)
class Refused:
    """The mechanism refused what the client sent; `reason` is the text for the error reply."""

    reason: str


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The client cancelled the exchange (`*`, RFC 4422 section 3.5)."""


Step = Challenge | Granted[G] | Denied | Malformed | Refused | Cancelled
"""What the session answers next: a challenge to send, or how the exchange ended."""


class SaslExchange(Generic[G]):
    """One exchange of one mechanism, from the client's first line to a final step.

    Args:
        mechanism: the mechanism object (fresh per exchange; it keeps the exchange's state).
        check: decides the credentials the mechanism produced: what the login grants, or None.
    """

    __slots__ = ("_check", "_denied", "mechanism")

    def __init__(self, mechanism: Mechanism, check: Callable[[Credentials], G | None]) -> None:
        self.mechanism = mechanism
        self._check = check
        self._denied: str | None = None
        """The user of a failed check whose error challenge was sent: the next line only ends it."""

    def start(self, initial: str | None) -> Step[G]:
        """The first step: `initial` is the client's initial response (base64, `=` for empty) or None."""
        try:
            data = None if initial is None else decode_response(initial)
        except SaslFailure as exc:
            return Malformed(str(exc))
        try:
            return self._settle(self.mechanism.start(data))
        except SaslFailure as exc:
            return Refused(str(exc))

    def respond(self, text: str) -> Step[G]:
        """The next step, after the client answered the last challenge with `text` (base64)."""
        if self._denied is not None:
            return Denied(self._denied)  # the client's dummy answer to an error challenge (RFC 7628)
        try:
            data = decode_response(text)
        except SaslFailure as exc:
            return Malformed(str(exc))
        try:
            return self._settle(self.mechanism.step(data))
        except SaslFailure as exc:
            return Refused(str(exc))

    def cancel(self) -> Denied | Cancelled:
        """The client sent `*`: cancelled, unless the login had already failed (then it still counts)."""
        return Cancelled() if self._denied is None else Denied(self._denied)

    def _settle(self, outcome: Challenge | Credentials) -> Step[G]:
        if isinstance(outcome, Challenge):
            return outcome
        grant = self._check(outcome)
        if grant is not None:
            return Granted(outcome.user, grant)
        error = self.mechanism.failure_challenge
        if error is not None:
            self._denied = outcome.user
            return Challenge(error)
        return Denied(outcome.user)


_PASSWORD_MECHANISMS = tuple(MECHANISMS)
_ALL_MECHANISMS = _PASSWORD_MECHANISMS + tuple(oauth.MECHANISMS)


def offered(tokens: TokenLookup | None = None) -> tuple[str, ...]:
    """The mechanism names a session offers, in the order of its capability line.

    The bearer-token mechanisms (XOAUTH2, OAUTHBEARER) only with a lookup of the mailboxes' tokens.
    """
    return _PASSWORD_MECHANISMS if tokens is None else _ALL_MECHANISMS


def open_exchange(
    name: str,
    check: Callable[[Credentials], G | None],
    *,
    hostname: str,
    tokens: TokenLookup | None = None,
) -> SaslExchange[G] | None:
    """A new exchange of the mechanism `name` (as the client spelled it), or None if it is not offered.

    Args:
        name: the mechanism the client asked for.
        check: decides finished credentials (see `SaslExchange`).
        hostname: ends the CRAM-MD5 challenge (RFC 2195).
        tokens: the mailboxes' bearer tokens; None offers no bearer-token mechanism.
    """
    factory = MECHANISMS.get(name)
    if factory is not None:
        return SaslExchange(factory(challenge(hostname)), check)
    if tokens is not None:
        bearer = oauth.MECHANISMS.get(name)
        if bearer is not None:
            return SaslExchange(bearer(tokens), check)
    return None
