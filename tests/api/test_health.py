"""api/health.py and api/problems.py: health, the served contract, the CA, and errors for unknown routes."""

from __future__ import annotations

from .conftest import Api, problem
from .contract import DOCUMENT


async def test_health(api: Api) -> None:
    response = await api.get("/api/v1/health")
    assert response.status == 200
    body = response.json()
    assert body["status"] == "ok" and body["tenants"] == 0 and body["tls"] is False


async def test_health_counts_tenants(api: Api) -> None:
    await api.post("/api/v1/tenants", {"name": "a"})
    await api.post("/api/v1/tenants", {"name": "b"})
    assert (await api.get("/api/v1/health")).json()["tenants"] == 2


async def test_serves_the_contract_file(api: Api) -> None:
    response = await api.get("/api/v1/openapi.yaml")
    assert response.status == 200
    assert response.body == DOCUMENT.read_bytes()


async def test_no_ca_without_tls(api: Api) -> None:
    problem(await api.get("/api/v1/tls/ca.pem"), 404)


async def test_unknown_route_and_method_are_problems(api: Api) -> None:
    problem(await api.get("/api/v1/nope"), 404)
    problem(await api.call("PATCH", "/api/v1/tenants"), 405)
