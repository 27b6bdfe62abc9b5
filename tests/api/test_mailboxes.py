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
    assert created.json() == {
        "user": "alice",
        "messages": 0,
        "octets": 0,
        "sessions": 0,
        "locked": False,
        "oauth": False,
    }
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


async def test_a_bearer_token_is_set_shown_as_a_flag_and_replaced_with_the_credentials(
    api: Api, registry: Registry
) -> None:
    token = "ya29.A0-x_y~z+/Q=="
    created = await api.put(f"{BASE}/alice", {"password": "one", "bearer_token": token})
    assert created.status == 201 and created.json()["oauth"] is True
    assert token not in created.body.decode()
    shown = await api.get(f"{BASE}/alice")
    assert shown.json()["oauth"] is True and token not in shown.body.decode()
    assert [m["oauth"] for m in (await api.get(BASE)).json()] == [True]
    assert registry.get("acme").store.get("alice").bearer_token == token
    rotated = await api.put(f"{BASE}/alice", {"password": "one", "bearer_token": "t2"})
    assert rotated.status == 200 and registry.get("acme").store.get("alice").bearer_token == "t2"
    for body in ({"password": "one", "bearer_token": None}, {"password": "one"}):
        await api.put(f"{BASE}/alice", {"password": "one", "bearer_token": "t3"})
        cleared = await api.put(f"{BASE}/alice", body)
        assert cleared.status == 200 and cleared.json()["oauth"] is False
        assert registry.get("acme").store.get("alice").bearer_token is None


@pytest.mark.parametrize(
    "token",
    ["", "has space", "a=b", "line\n", "tab\t", "é", "x" * 4097, 5, "Bearer:x", "a\x01"],
)
async def test_invalid_bearer_tokens(api: Api, token: object) -> None:
    problem(await api.put(f"{BASE}/alice", {"password": "p", "bearer_token": token}), 422, "$.bearer_token")
    assert (await api.get(BASE)).json() == []


async def test_the_longest_bearer_token_is_taken(api: Api) -> None:
    token = "A" * 4094 + "=="
    assert (await api.put(f"{BASE}/alice", {"password": "p", "bearer_token": token})).status == 201


@pytest.mark.parametrize("user", ["with space", "semi;colon", "x" * 129])
async def test_invalid_user_names(api: Api, user: str) -> None:
    problem(await api.put(f"{BASE}/{user}", {"password": "p"}), 422, "user")


async def test_unknown_tenant(api: Api) -> None:
    problem(await api.put("/api/v1/tenants/nope/mailboxes/alice", {"password": "p"}), 404, "tenant")
    problem(await api.get("/api/v1/tenants/nope/mailboxes"), 404, "tenant")
