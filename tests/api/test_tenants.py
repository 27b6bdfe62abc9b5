"""api/tenants.py: /api/v1/tenants."""

from __future__ import annotations

import errno
import socket

import pytest
import trio
import trio.testing

from mockmail.server import smtp_session
from mockmail.tenancy.registry import Registry

from .conftest import Api, problem


async def test_create_list_get_delete(api: Api, registry: Registry) -> None:
    created = await api.post("/api/v1/tenants", {"name": "acme"})
    assert created.status == 201
    assert created.headers["Location"] == "/api/v1/tenants/acme"
    view = created.json()
    assert len(view.pop("token")) == 43  # shown once, at creation; never in a GET
    assert view["name"] == "acme" and view["exclusive_sessions"] is True
    assert view["pop3"]["host"] == "127.0.0.1" and view["pop3"]["port"] > 0
    assert view["pop3s"] is None  # TLS is off in these settings
    assert view["smtp"]["host"] == "127.0.0.1" and view["smtp"]["port"] not in (0, view["pop3"]["port"])
    assert view["smtps"] is None
    assert (view["smtp_auth"], view["smtp_plaintext_auth"], view["catch_all"]) == ("none", False, None)
    assert (await api.get("/api/v1/tenants")).json() == [view]
    assert (await api.get("/api/v1/tenants/acme")).json() == view
    assert (await api.delete("/api/v1/tenants/acme")).status == 204
    problem(await api.get("/api/v1/tenants/acme"), 404, "tenant")
    problem(await api.delete("/api/v1/tenants/acme"), 404, "tenant")
    assert len(registry) == 0


async def test_shared_sessions_flag_and_max_sessions(api: Api) -> None:
    view = (
        await api.post("/api/v1/tenants", {"name": "load", "exclusive_sessions": False, "max_sessions": 5})
    ).json()
    assert view["exclusive_sessions"] is False and view["max_sessions"] == 5


async def test_smtp_options_show_in_the_view(api: Api, registry: Registry) -> None:
    body = {"name": "mail", "smtp_auth": "required", "smtp_plaintext_auth": True, "catch_all": "inbox"}
    view = (await api.post("/api/v1/tenants", body)).json()
    assert (view["smtp_auth"], view["smtp_plaintext_auth"], view["catch_all"]) == ("required", True, "inbox")
    stream, _ = trio.testing.memory_stream_pair()
    session = smtp_session.open_session(stream, registry.get("mail").context, False)
    policy = session.policy  # what every SMTP session of the tenant decides by
    assert (policy.auth, policy.plaintext_auth, policy.catch_all) == ("required", True, "inbox")


async def test_duplicate_name_conflicts(api: Api) -> None:
    await api.post("/api/v1/tenants", {"name": "acme"})
    doc = problem(await api.post("/api/v1/tenants", {"name": "acme"}), 409, "$.name")
    assert doc["type"] == "urn:mockmail:problem:tenant-exists"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Acme"}, "$.name"),
        ({"name": "-acme"}, "$.name"),
        ({"name": "a" * 64}, "$.name"),
        ({"name": "acme", "pop3_port": 70000}, "$.pop3_port"),
        ({"name": "acme", "pop3_port": "110"}, "$.pop3_port"),
        ({"name": "acme", "exclusive_sessions": "no"}, "$.exclusive_sessions"),
        ({"name": "acme", "max_sessions": 0}, "$.max_sessions"),
        ({"name": "acme", "smtp_port": -1}, "$.smtp_port"),
        ({"name": "acme", "smtp_auth": "sometimes"}, "$.smtp_auth"),
        ({"name": "acme", "catch_all": "has space"}, "$.catch_all"),
        ({"name": "acme", "colour": "red"}, "$.colour"),
        ({}, "$.name"),
        (["acme"], "$"),
    ],
)
async def test_invalid_bodies_name_the_field(api: Api, body: object, field: str) -> None:
    problem(await api.post("/api/v1/tenants", body), 422, field)
    assert (await api.get("/api/v1/tenants")).json() == []


async def test_malformed_and_empty_json(api: Api) -> None:
    doc = problem(
        await api.post("/api/v1/tenants", data=b'{"name": ', headers={"Content-Type": "application/json"}),
        400,
        "$",
    )
    assert doc["title"] == "Malformed JSON"
    problem(await api.post("/api/v1/tenants", data=b""), 422, "$")


async def test_invalid_tenant_in_path(api: Api) -> None:
    problem(await api.get("/api/v1/tenants/Not_Valid"), 422, "tenant")


async def test_port_in_use(api: Api) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        doc = problem(
            await api.post("/api/v1/tenants", {"name": "acme", "pop3_port": port}), 409, "$.pop3_port"
        )
        assert doc["type"] == "urn:mockmail:problem:port-unavailable"
    assert (await api.get("/api/v1/tenants")).json() == []
    # The name was not kept by the failed attempt.
    assert (await api.post("/api/v1/tenants", {"name": "acme"})).status == 201


async def test_delete_closes_the_listener(api: Api) -> None:
    port = (await api.post("/api/v1/tenants", {"name": "acme"})).json()["pop3"]["port"]
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.aclose()
    await api.delete("/api/v1/tenants/acme")
    with pytest.raises(OSError) as refused:
        await trio.open_tcp_stream("127.0.0.1", port)
    assert refused.value.errno in (errno.ECONNREFUSED, None)


async def test_a_failed_listener_shows_in_the_tenant_json(api: Api, registry: Registry) -> None:
    from tests.test_tenants import shut_down_listener

    created = (await api.post("/api/v1/tenants", {"name": "acme"})).json()
    assert created["state"] == "running" and created["failure"] is None
    shut_down_listener(created["pop3"]["port"])
    with trio.fail_after(5):
        await registry.get("acme").done.wait()
    shown = (await api.get("/api/v1/tenants/acme")).json()
    assert shown["state"] == "failed" and "Invalid argument" in shown["failure"]
    assert [t["state"] for t in (await api.get("/api/v1/tenants")).json()] == ["failed"]
    assert (await api.delete("/api/v1/tenants/acme")).status == 204
    assert (await api.post("/api/v1/tenants", {"name": "acme"})).status == 201
