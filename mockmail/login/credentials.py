"""Credentials for every protocol: one place decides who a login is, against a tenant's store.

POP3 (USER/PASS, APOP, AUTH) and SMTP (AUTH) turn what the client sent into `Credentials` (a user name
and a `verify(stored_password)` check, from `mockmail.login.sasl` or `password_credentials` here), and
`authenticate` looks the user up and runs the check.  What a login then grants (the POP3 maildrop lock,
an SMTP sender) is the protocol's business, not this module's.  Passwords are compared in constant time;
challenges (APOP timestamps, CRAM-MD5) are unique per process without a syscall per session.
"""

from __future__ import annotations

import itertools
import os
import secrets

from ..store import Mailbox, MailStore
from .sasl import Credentials

__all__ = ["authenticate", "challenge", "password_credentials"]

_CHALLENGE_PREFIX = f"<{os.getpid():d}.{secrets.token_hex(4)}."
_challenge_counter = itertools.count(1)


def challenge(hostname: str) -> str:
    """An RFC 1939 APOP / RFC 2195 CRAM-MD5 challenge: unique, in angle brackets, ending in @host.

    Process id and a random nonce chosen at start, then a counter: unique without a syscall per session.
    """
    return f"{_CHALLENGE_PREFIX}{next(_challenge_counter):d}@{hostname}>"


def password_credentials(user: str, password: str) -> Credentials:
    """A plain user name and password (POP3 USER/PASS, SASL PLAIN and LOGIN), checked in constant time."""
    given = password.encode("utf-8")
    return Credentials(user, lambda stored: secrets.compare_digest(stored.encode("utf-8"), given))


def authenticate(store: MailStore, credentials: Credentials) -> Mailbox | None:
    """The mailbox `credentials` prove access to, or None (unknown user or failed check alike)."""
    mailbox = store.find(credentials.user)
    if mailbox is None or not credentials.verify(mailbox.password):
        return None
    return mailbox
