"""Bearer tokens on the control API (`--admin-token`): who a request acts as, and what it may reach.

Checked before routing, for every path but `EXEMPT`:
- no `Authorization: Bearer` header, or a token the server does not know: 401 with `WWW-Authenticate`;
- a tenant token reaches only `/api/v1/tenants/{its name}/...`, the tenant list (which then shows only
  its tenant) and the fault profiles.  Any other tenant's path is 403 with one problem document, whether
  that tenant exists or not, so a token cannot probe for names.  Creating tenants is the admin's.
`/metrics` needs the admin token unless `--metrics-public`.
Without an admin token every request acts as the admin (`mockmail.tenancy.tokens.OPEN`); `main` refuses to serve
such an API beyond loopback unless `--insecure` is given.
"""

from __future__ import annotations

from quart import g, request

from mockmail.errors import DomainError
from mockmail.tenancy.service import Service
from mockmail.tenancy.tokens import OPEN, Principal

__all__ = [
    "EXEMPT",
    "Forbidden",
    "Unauthorized",
    "bearer_token",
    "check_reach",
    "install",
    "principal",
    "tenant_in_path",
]

PREFIX = "/api/v1"
EXEMPT = frozenset(f"{PREFIX}/{name}" for name in ("health", "ready", "openapi.yaml", "tls/ca.pem"))
"""Paths any caller may read: probes, the contract, and the CA a client needs to trust the listeners."""
_TENANT_PATHS = f"{PREFIX}/tenants/"
WEB_PREFIX = "/ui/"
_TENANT_READABLE = frozenset({f"{PREFIX}/fault-profiles"})


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="mockmail"'}


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


def principal() -> Principal:
    """Who the current request acts as (set by the check below)."""
    found: Principal = g.get("principal", OPEN)
    return found


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer TOKEN` header's value.

    Raises:
        Unauthorized: no header, or one of another scheme or without a token.
    """
    if header is None:
        raise Unauthorized("this server needs a bearer token: send 'Authorization: Bearer TOKEN'")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be 'Bearer TOKEN'", field="Authorization")
    return token


def tenant_in_path(path: str) -> str | None:
    """The tenant a `/api/v1/tenants/{name}/...` path is about (as written, unchecked), else None."""
    if not path.startswith(_TENANT_PATHS):
        return None
    return path[len(_TENANT_PATHS) :].partition("/")[0]


def check_reach(who: Principal, path: str, method: str) -> None:
    tenant = who.tenant
    if tenant is None:
        return
    name = tenant_in_path(path)
    if name is not None:
        if name != tenant:
            # The same words for a tenant that exists and one that does not: no existence oracle.
            raise Forbidden("a tenant token reaches only its own tenant")
        return
    if path == f"{PREFIX}/tenants":
        if method not in ("GET", "HEAD"):
            raise Forbidden("only the admin token creates tenants")
        return
    if path in _TENANT_READABLE and method in ("GET", "HEAD"):
        return
    raise Forbidden("this path needs the admin token")


def _page(path: str) -> bool:
    """The web page and its script and style sheet: they hold no data (the page asks for a token)."""
    return path == "/" or path.startswith(WEB_PREFIX)


def install(app: object, service: Service) -> None:
    """Check every request's token before it is routed."""
    keys = service.keys
    exempt = EXEMPT | ({"/metrics"} if service.settings.metrics_public else set())

    async def check() -> None:
        if not keys.enforced or request.path in exempt or _page(request.path):
            return
        who = keys.principal(bearer_token(request.headers.get("Authorization")))
        if who is None:
            raise Unauthorized("the bearer token is not valid here (a rotated or deleted tenant's?)")
        g.principal = who
        check_reach(who, request.path, request.method)

    app.before_request(check)  # type: ignore[attr-defined]
