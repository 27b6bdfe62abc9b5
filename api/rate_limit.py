"""The tenants' `api_rps`: every request on a tenant's paths takes one token from that tenant's bucket.

Checked after the token check (a request refused 401 or 403 never counts, and a tenant token learns nothing
of another tenant's rate), before the request is routed.  Over the rate: 429 with `Retry-After`, a problem
document whose `limit` is `api_rps`.
"""

from __future__ import annotations

from quart import request

from mockmail.tenancy.service import Service

from .bearer import tenant_in_path

__all__ = ["install"]


def install(app: object, service: Service) -> None:
    """Install the rate check (after `auth.install`, so that it runs after the token check)."""

    async def check() -> None:
        name = tenant_in_path(request.path)
        if name is None:
            return
        service.take_request(name)

    app.before_request(check)  # type: ignore[attr-defined]
