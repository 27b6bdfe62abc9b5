"""Bearer tokens on the control API: the admin token, tenant tokens, rotation, and no existence oracle."""

from __future__ import annotations

import re

import pytest

from mockmail.config.settings import Settings
from mockmail.tenancy.tokens import Keyring, digest

from .conftest import Api, problem

ADMIN = "admin-token-for-tests-0123456789"
AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture(name="settings")
def _settings() -> Settings:
    return Settings(api_port=0, admin_token=ADMIN, max_message_size=64 * 1024, max_request_size=256 * 1024)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create(api: Api, name: str) -> str:
    response = await api.post("/api/v1/tenants", {"name": name}, headers=AS_ADMIN)
    assert response.status == 201, response.body
    token: str = response.json()["token"]
    return token


async def test_without_a_token_everything_but_the_probes_is_401(api: Api) -> None:
    for path in ("/api/v1/health", "/api/v1/ready", "/api/v1/openapi.yaml"):
        assert (await api.get(path)).status == 200, path
    for method, path in (
        ("GET", "/api/v1/tenants"),
        ("POST", "/api/v1/tenants"),
        ("GET", "/api/v1/fault-profiles"),
    ):
        response = await api.call(method, path)
        problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer wrong-token", "Basic YWRtaW46cHc=", "Bearer", f"Token {ADMIN}", ADMIN]
)
async def test_a_wrong_token_or_scheme_is_401(api: Api, header: str) -> None:
    response = await api.get("/api/v1/tenants", headers={"Authorization": header})
    doc = problem(response, 401)
    assert ADMIN not in doc["detail"] and "wrong-token" not in doc["detail"]  # never echoed
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_the_admin_manages_everything_and_a_tenant_token_only_its_tenant(api: Api) -> None:
    token_a = await create(api, "alpha")
    await create(api, "beta")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token_a)
    listed = (await api.get("/api/v1/tenants", headers=AS_ADMIN)).json()
    assert sorted(t["name"] for t in listed) == ["alpha", "beta"]
    as_a = bearer(token_a)
    assert [t["name"] for t in (await api.get("/api/v1/tenants", headers=as_a)).json()] == ["alpha"]
    assert (await api.get("/api/v1/tenants/alpha", headers=as_a)).status == 200
    put = await api.put("/api/v1/tenants/alpha/mailboxes/bob", {"password": "pw"}, headers=as_a)
    assert put.status in (200, 201)
    assert (await api.get("/api/v1/fault-profiles", headers=as_a)).status == 200
    problem(await api.post("/api/v1/tenants", {"name": "gamma"}, headers=as_a), 403)
    assert "gamma" not in [t["name"] for t in (await api.get("/api/v1/tenants", headers=AS_ADMIN)).json()]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("DELETE", ""),
        ("GET", "/mailboxes"),
        ("PUT", "/faults"),
        ("POST", "/token"),
        ("GET", "/sessions"),
    ],
)
async def test_another_tenant_is_403_alike_whether_it_exists_or_not(
    api: Api, method: str, suffix: str
) -> None:
    token_a = await create(api, "alpha")
    await create(api, "beta")
    existing = await api.call(
        method, f"/api/v1/tenants/beta{suffix}", {} if method == "PUT" else None, headers=bearer(token_a)
    )
    missing = await api.call(
        method, f"/api/v1/tenants/nosuch{suffix}", {} if method == "PUT" else None, headers=bearer(token_a)
    )
    a, b = problem(existing, 403), problem(missing, 403)
    assert {k: v for k, v in a.items() if k != "instance"} == {k: v for k, v in b.items() if k != "instance"}
    assert (await api.get("/api/v1/tenants/beta", headers=AS_ADMIN)).status == 200  # untouched


async def test_rotation_stops_the_old_token_at_once(api: Api) -> None:
    old = await create(api, "alpha")
    rotated = await api.post("/api/v1/tenants/alpha/token", headers=bearer(old))
    assert rotated.status == 200
    new = rotated.json()["token"]
    assert new != old and rotated.json()["tenant"] == "alpha"
    problem(await api.get("/api/v1/tenants/alpha", headers=bearer(old)), 401)
    assert (await api.get("/api/v1/tenants/alpha", headers=bearer(new))).status == 200
    by_admin = await api.post("/api/v1/tenants/alpha/token", headers=AS_ADMIN)
    problem(await api.get("/api/v1/tenants/alpha", headers=bearer(new)), 401)
    assert (await api.get("/api/v1/tenants/alpha", headers=bearer(by_admin.json()["token"]))).status == 200


async def test_a_deleted_tenants_token_dies_with_it(api: Api) -> None:
    token = await create(api, "alpha")
    assert (await api.delete_as("/api/v1/tenants/alpha", AS_ADMIN)).status == 204
    await create(api, "alpha")  # the same name again: a new tenant, a new token
    problem(await api.get("/api/v1/tenants/alpha", headers=bearer(token)), 401)


def test_the_keyring_keeps_digests_only() -> None:
    keys = Keyring("the-admin-token-000")
    token = keys.issue("alpha")
    assert keys.digest_of("alpha") == digest(token) and len(digest(token)) == 32
    assert token not in repr(keys) and "the-admin-token" not in repr(keys)
    assert keys.principal(token) is not None and keys.principal(token).tenant == "alpha"  # type: ignore[union-attr]
    assert keys.principal("the-admin-token-000") is not None and keys.principal("the-admin-token-000").admin  # type: ignore[union-attr]
    assert keys.principal("nope") is None
    assert not Keyring(None).enforced and Keyring(None).principal(token) is None
