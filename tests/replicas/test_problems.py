"""A write fenced out under a REST request (the replica's lease ran out meanwhile) answers a 503 problem
naming the tenant, not a 500: `tenant-unavailable`, the type the replica router answers for a tenant
between owners, so a client retries on one type."""

from __future__ import annotations

from mockmail.api import create_app
from mockmail.config.settings import Settings
from mockmail.store import FencedOut
from mockmail.tenancy.registry import Registry
from mockmail.tenancy.service import Service


async def test_a_fenced_out_write_is_a_503_problem() -> None:
    app = create_app(Service(Registry(Settings())))

    async def fenced() -> str:
        raise FencedOut("acme")

    app.route("/fenced")(fenced)
    response = await app.test_client().get("/fenced")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    problem = await response.get_json()
    assert problem["type"] == "urn:mockmail:problem:tenant-unavailable"
    assert problem["title"] == "Tenant unavailable" and problem["field"] == "tenant"
    assert problem["instance"] == "/fenced"
    assert problem["detail"].startswith("tenant 'acme' is not served right now: this replica's lease ran out")
