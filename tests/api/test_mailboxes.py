"""api/mailboxes.py: /api/v1/tenants/{tenant}/mailboxes."""

from __future__ import annotations

import pytest

from mockmail.tenancy.registry import Registry

from .conftest import Api, problem

BASE = "/api/v1/tenants/acme/mailboxes"


@pytest.fixture(name="api")
async def _api_with_acme(api: Api) -> Api:
    """The API with tenant acme (pytest-trio does not run autouse async fixtures, so override `api`)."""
    assert (await api.post("/api/v1/tenants", {"name": "acme"})).status == 201
    return api


async def test_put_creates_then_rekeys(api: Api, registry: Registry) -> None:
    created = await api.put(f"{BASE}/alice", {"password": "one"})
    assert created.status == 201
    assert created.headers["Location"] == f"{BASE}/alice"
    assert created.json() == {"user": "alice", "messages": 0, "octets": 0, "sessions": 0, "locked": False}
    again = await api.put(f"{BASE}/alice", {"password": "two"})
    assert again.status == 200
    assert registry.get("acme").store.get("alice").password == "two"


async def test_list_get_delete(api: Api) -> None:
    await api.put(f"{BASE}/alice", {"password": "p"})
    await api.put(f"{BASE}/bob@example.com", {"password": "p"})
    users = [m["user"] for m in (await api.get(BASE)).json()]
    assert users == ["alice", "bob@example.com"]
    assert (await api.get(f"{BASE}/alice")).json()["user"] == "alice"
    assert (await api.delete(f"{BASE}/alice")).status == 204
    problem(await api.get(f"{BASE}/alice"), 404, "user")
    problem(await api.delete(f"{BASE}/alice"), 404, "user")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "$.password"),
        ({"password": ""}, "$.password"),
        ({"password": "tab\there"}, "$.password"),
        ({"password": "x" * 256}, "$.password"),
        ({"password": 5}, "$.password"),
        ({"password": "ok", "quota": 1}, "$.quota"),
    ],
)
async def test_invalid_password_bodies(api: Api, body: object, field: str) -> None:
    problem(await api.put(f"{BASE}/alice", body), 422, field)
    assert (await api.get(BASE)).json() == []


@pytest.mark.parametrize("user", ["with space", "semi;colon", "x" * 129])
async def test_invalid_user_names(api: Api, user: str) -> None:
    problem(await api.put(f"{BASE}/{user}", {"password": "p"}), 422, "user")


async def test_unknown_tenant(api: Api) -> None:
    problem(await api.put("/api/v1/tenants/nope/mailboxes/alice", {"password": "p"}), 404, "tenant")
    problem(await api.get("/api/v1/tenants/nope/mailboxes"), 404, "tenant")
