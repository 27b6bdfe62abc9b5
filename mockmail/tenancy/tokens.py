"""Who may use the control API: the admin token, tenant tokens, and the principal a request acts as.

- Tokens are `secrets.token_urlsafe(32)` (43 URL-safe characters, 256 random bits), shown once when issued.
- Only their SHA-256 digests are kept.  A slow password hash buys nothing for 256 random bits, and a digest
  is what the SQLite store will keep too.  A presented token is hashed, then compared with
  `hmac.compare_digest` (the admin token) or looked up by digest (tenant tokens).  The lookup's timing
  depends on the digest, which an attacker cannot steer toward a stored one.
- A token never appears in a log line, a transcript, a repr or an error.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ADMIN", "OPEN", "Keyring", "Principal", "digest", "new_token"]

TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh random token (43 URL-safe characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> bytes:
    """What is kept of a token: its SHA-256."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: the admin (every tenant), or one tenant (`tenant` names it)."""

    tenant: str | None = None
    """None for the admin; else the only tenant this principal may touch."""

    @property
    def admin(self) -> bool:
        return self.tenant is None

    def may_manage(self, tenant: str) -> bool:
        return self.tenant is None or self.tenant == tenant


ADMIN = Principal()
OPEN = ADMIN
"""Without an admin token the API is open: every request acts as the admin."""


class Keyring:
    """The admin token's digest and each tenant's token digest.

    Args:
        admin_token: the `--admin-token`; None runs the API open (loopback only, unless `--insecure`).
    """

    __slots__ = ("_admin", "_by_digest", "_by_tenant", "lookup")

    def __init__(self, admin_token: str | None) -> None:
        self._admin = digest(admin_token) if admin_token is not None else None
        self._by_digest: dict[bytes, str] = {}
        self._by_tenant: dict[str, bytes] = {}
        self.lookup: Callable[[bytes], str | None] | None = None
        """Where a digest of a tenant this process does not serve is looked up (replicas: the database,
        so that a token rotated through one replica counts on every one at once)."""

    @property
    def enforced(self) -> bool:
        """True when requests must present a token (an admin token is set)."""
        return self._admin is not None

    def issue(self, tenant: str) -> str:
        """A new token for `tenant`; the one it had stops working at once."""
        token = new_token()
        self.restore(tenant, digest(token))
        return token

    def restore(self, tenant: str, token_digest: bytes) -> None:
        """Make `token_digest` the tenant's (a store bringing back what it kept)."""
        self.forget(tenant)
        self._by_digest[token_digest] = tenant
        self._by_tenant[tenant] = token_digest

    def forget(self, tenant: str) -> None:
        """The tenant's token stops working (the tenant was deleted, or is getting a new one)."""
        old = self._by_tenant.pop(tenant, None)
        if old is not None:
            self._by_digest.pop(old, None)

    def digest_of(self, tenant: str) -> bytes | None:
        return self._by_tenant.get(tenant)

    def principal(self, token: str) -> Principal | None:
        """Who `token` is, or None when it is no token of this server."""
        presented = digest(token)
        if self._admin is not None and hmac.compare_digest(presented, self._admin):
            return ADMIN
        tenant = self._by_digest.get(presented)
        if tenant is None and self.lookup is not None:
            tenant = self.lookup(presented)
        return Principal(tenant) if tenant is not None else None

    def __repr__(self) -> str:
        return f"Keyring(enforced={self.enforced}, tenants={len(self._by_tenant)})"
