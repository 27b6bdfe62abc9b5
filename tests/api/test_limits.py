"""Tenant `limits` over REST: 507 for storage, 413 for message size, 429 with Retry-After for the request
rate, each a problem document naming the `limit`; a bulk upload that would cross a limit stores nothing.
mockmail/limits.py's pieces are checked directly below."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from mockmail.config.settings import Settings
from mockmail.errors import RateLimited
from mockmail.tenancy.quotas import RateLimiter, effective
from mockmail.tenancy.specs import TenantLimits

from .conftest import Api, problem

RAW = "message/rfc822"


async def tenant(api: Api, **limits: Any) -> dict[str, Any]:
    created = await api.post("/api/v1/tenants", {"name": "acme", "limits": limits})
    assert created.status == 201, created.body
    assert (await api.put("/api/v1/tenants/acme/mailboxes/bob", {"password": "pw"})).status == 201
    view: dict[str, Any] = created.json()
    return view


async def stored(api: Api) -> list[str]:
    return [m["subject"] for m in (await api.get("/api/v1/tenants/acme/mailboxes/bob/messages")).json()]


async def test_messages_limit_refuses_a_crossing_batch_whole(api: Api) -> None:
    view = await tenant(api, messages=3)
    assert view["limits"]["messages"] == 3 and view["limits"]["bytes"] is None
    path = "/api/v1/tenants/acme/mailboxes/bob/messages"
    doc = problem(await api.post(path, [{"subject": f"m{i}"} for i in range(4)]), 507)
    assert doc["limit"] == "messages" and "nothing was stored" in doc["detail"]
    assert await stored(api) == []
    assert (await api.post(path, [{"subject": f"m{i}"} for i in range(3)])).status == 201
    assert problem(await api.post(path, {"subject": "one more"}), 507)["limit"] == "messages"
    assert await stored(api) == ["m0", "m1", "m2"]
    first = (await api.get(path)).json()[0]["id"]
    assert (await api.delete(f"{path}/{first}")).status == 204  # a deletion makes room again
    assert (await api.post(path, {"subject": "room"})).status == 201


async def test_bytes_limit_counts_every_mailbox_of_the_tenant(api: Api) -> None:
    await tenant(api, bytes=3000)
    await api.put("/api/v1/tenants/acme/mailboxes/eve", {"password": "pw"})
    body = b"Subject: s\r\n\r\n" + b"x" * 1000 + b"\r\n"
    for user in ("bob", "eve"):
        url = f"/api/v1/tenants/acme/mailboxes/{user}/messages"
        assert (await api.post(url, data=body, headers={"Content-Type": RAW})).status == 201
    over = await api.post(
        "/api/v1/tenants/acme/mailboxes/bob/messages", data=body, headers={"Content-Type": RAW}
    )
    assert problem(over, 507)["limit"] == "bytes"


async def test_mailboxes_limit(api: Api) -> None:
    await tenant(api, mailboxes=1)
    doc = problem(await api.put("/api/v1/tenants/acme/mailboxes/eve", {"password": "pw"}), 507)
    assert doc["limit"] == "mailboxes"
    assert (await api.put("/api/v1/tenants/acme/mailboxes/bob", {"password": "new"})).status == 200


async def test_message_size_limit_is_413_and_never_above_the_server_maximum(api: Api) -> None:
    view = await tenant(api, message_size=2048)
    assert view["limits"]["message_size"] == 2048
    big = b"Subject: s\r\n\r\n" + (b"x" * 70 + b"\r\n") * 40
    doc = problem(
        await api.post(
            "/api/v1/tenants/acme/mailboxes/bob/messages", data=big, headers={"Content-Type": RAW}
        ),
        413,
    )
    assert doc["limit"] == "message_size"
    roomy = await api.post("/api/v1/tenants", {"name": "roomy", "limits": {"message_size": 1 << 30}})
    assert roomy.json()["limits"]["message_size"] == 64 * 1024  # the server's --max-message-size


async def test_api_rps_answers_429_with_retry_after_and_spares_other_tenants(api: Api) -> None:
    await tenant(api, api_rps=0.01)  # a burst of one, then one request per 100 s
    await api.post("/api/v1/tenants", {"name": "calm"})
    # The PUT in `tenant` took the one request of the burst.
    limited = await api.get("/api/v1/tenants/acme")
    doc = problem(limited, 429)
    assert doc["limit"] == "api_rps"
    assert 1 <= int(limited.headers["Retry-After"]) <= 100
    for _ in range(3):
        assert (await api.get("/api/v1/tenants/calm")).status == 200


class TestServerDefaults:
    @pytest.fixture(name="settings")
    def _settings(self) -> Settings:
        return Settings(api_port=0, max_message_size=64 * 1024, tenant_limit_messages=1)

    async def test_a_tenant_without_limits_takes_the_defaults_and_its_own_win(self, api: Api) -> None:
        view = await tenant(api)
        assert view["limits"]["messages"] == 1
        path = "/api/v1/tenants/acme/mailboxes/bob/messages"
        assert (await api.post(path, {"subject": "a"})).status == 201
        assert problem(await api.post(path, {"subject": "b"}), 507)["limit"] == "messages"
        own = await api.post("/api/v1/tenants", {"name": "own", "limits": {"messages": 5}})
        assert own.json()["limits"]["messages"] == 5


def test_effective_limits() -> None:
    settings = Settings(max_message_size=10_000, tenant_limit_bytes=500, tenant_limit_api_rps=3.0)
    limits = effective(TenantLimits(bytes=100, message_size=50_000), settings)
    assert (limits.bytes, limits.message_size, limits.api_rps, limits.messages) == (100, 10_000, 3.0, None)


@pytest.mark.parametrize("name", TenantLimits.__struct_fields__)
def test_server_defaults_take_the_range_of_their_tenant_field(name: str) -> None:
    """`--tenant-limit-NAME` refuses what `limits.NAME` refuses, so a tenant never shows a limit that its
    own schema would not accept."""
    schema = msgspec.json.schema(TenantLimits)["$defs"]["TenantLimits"]["properties"][name]["anyOf"][0]
    too_big, too_small = schema["maximum"] * 2, schema.get("minimum", 0) - 1
    for value in (too_big, too_small):
        with pytest.raises(msgspec.ValidationError, match=f"tenant_limit_{name}"):
            msgspec.convert({f"tenant_limit_{name}": value}, Settings)
    msgspec.convert({f"tenant_limit_{name}": schema["maximum"]}, Settings)


def test_rate_limiter_is_a_token_bucket() -> None:
    bucket = RateLimiter(2.0, clock=0.0)
    assert [bucket.wait(0.0), bucket.wait(0.0)] == [0.0, 0.0]  # a second's worth of burst
    assert bucket.wait(0.0) == pytest.approx(0.5)
    assert bucket.wait(0.5) == 0.0  # refilled by then
    slow = RateLimiter(0.5, clock=0.0)
    assert slow.wait(0.0) == 0.0 and slow.wait(1.0) == pytest.approx(1.0)
    rare = RateLimiter(0.001)
    rare.take("acme")
    with pytest.raises(RateLimited) as raised:
        rare.take("acme")
    assert raised.value.limit == "api_rps"
    assert 999 <= int(raised.value.response_headers["Retry-After"]) <= 1000


async def test_limits_out_of_range_are_422_naming_the_field(api: Api) -> None:
    for limits, field in (
        ({"api_rps": 1e-300}, "$.limits.api_rps"),
        ({"message_size": 10}, "$.limits.message_size"),
    ):
        problem(await api.post("/api/v1/tenants", {"name": "acme", "limits": limits}), 422, field)
