"""api/faults.py: fault plans over REST."""

from __future__ import annotations

import pytest

from mockmail.tenancy.registry import Registry

from .conftest import Api, problem

T = "/api/v1/tenants/acme"


@pytest.fixture(name="api")
async def _api_with_acme(api: Api) -> Api:
    assert (await api.post("/api/v1/tenants", {"name": "acme"})).status == 201
    assert (await api.put(f"{T}/mailboxes/alice", {"password": "p"})).status == 201
    return api


async def test_profiles_are_listed_with_sources(api: Api) -> None:
    profiles = (await api.get("/api/v1/fault-profiles")).json()
    names = [p["name"] for p in profiles]
    assert names[:2] == ["compliant", "mailpit-legacy"]
    legacy = profiles[1]
    assert "ce7dcce" in legacy["source"]
    assert legacy["plan"]["quit"] == {"times": None, "probability": 1.0, "reply": "drop", "commit": True}


async def test_default_plan_is_empty(api: Api) -> None:
    assert (await api.get(f"{T}/faults")).json() == {}


async def test_put_profile_expands_and_reaches_the_tenant(api: Api, registry: Registry) -> None:
    stored = (await api.put(f"{T}/faults", {"profile": "mailpit-legacy", "seed": 3})).json()
    assert stored["profile"] == "mailpit-legacy" and stored["seed"] == 3
    assert stored["size_format"] == {"times": None, "probability": 1.0, "format": "go-float"}
    assert (await api.get(f"{T}/faults")).json() == stored
    assert registry.get("acme").faults.active


async def test_patch_merges_and_null_removes(api: Api) -> None:
    await api.put(f"{T}/faults", {"quit": {"reply": "hang"}, "case_sensitive": {}})
    patched = (await api.call("PATCH", f"{T}/faults", {"quit": None, "size_format": {"times": 2}})).json()
    assert "quit" not in patched
    assert patched["case_sensitive"] == {"times": None, "probability": 1.0}
    assert patched["size_format"] == {"times": 2, "probability": 1.0, "format": "go-float"}


async def test_delete_goes_back_to_compliant(api: Api, registry: Registry) -> None:
    await api.put(f"{T}/faults", {"profile": "mailpit-legacy"})
    assert (await api.delete(f"{T}/faults")).status == 204
    assert registry.get("acme").faults.plan == registry.get("acme").faults.plan.__class__()


async def test_mailbox_plans(api: Api, registry: Registry) -> None:
    stored = (await api.put(f"{T}/mailboxes/alice/faults", {"quit": {"reply": "drop"}})).json()
    assert stored == {"quit": {"times": None, "probability": 1.0, "reply": "drop", "commit": True}}
    assert "alice" in registry.get("acme").faults.mailbox_plans
    patched = (await api.call("PATCH", f"{T}/mailboxes/alice/faults", {"errors_close": {}})).json()
    assert patched["quit"]["reply"] == "drop" and patched["errors_close"] == {
        "times": None,
        "probability": 1.0,
    }
    assert (await api.delete(f"{T}/mailboxes/alice/faults")).status == 204
    assert "alice" not in registry.get("acme").faults.mailbox_plans
    problem(await api.put(f"{T}/mailboxes/alice/faults", {"seed": 1}), 422, "$.seed")
    problem(await api.get(f"{T}/mailboxes/bob/faults"), 404, "user")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"profile": "nope"}, "$.profile"),
        ({"quit": {"reply": "later"}}, "$.quit.reply"),
        ({"replies": [{"command": "RETR", "line": "+OK"}]}, "$.replies[0].line"),
        ({"dot_stuffing": {"mode": "some"}}, "$.dot_stuffing.mode"),
        ({"bogus": 1}, "$.bogus"),
    ],
)
async def test_invalid_plans_are_refused_and_change_nothing(
    api: Api, registry: Registry, body: object, field: str
) -> None:
    version = registry.get("acme").faults.version
    problem(await api.put(f"{T}/faults", body), 422, field)
    assert registry.get("acme").faults.version == version


async def test_patch_needs_an_object(api: Api) -> None:
    problem(await api.call("PATCH", f"{T}/faults", ["quit"]), 422, "$")
    problem(await api.call("PATCH", f"{T}/faults", {"quit": {"reply": 5}}), 422, "$.quit.reply")


async def test_unknown_tenant(api: Api) -> None:
    problem(await api.get("/api/v1/tenants/nope/faults"), 404, "tenant")


async def test_the_smtp_part_of_a_plan(api: Api, registry: Registry) -> None:
    body = {
        "smtp": {
            "replies": [
                {"command": "RCPT", "line": "452 4.2.2 mailbox full", "rcpt_to": "*@full.test", "times": 1}
            ],
            "greylisting": {"retry_after": 5},
        }
    }
    stored = (await api.put(f"{T}/faults", body)).json()
    assert stored["smtp"]["replies"][0]["rcpt_to"] == "*@full.test"
    assert stored["smtp"]["greylisting"] == {"times": None, "probability": 1.0, "retry_after": 5.0}
    assert registry.get("acme").faults.smtp.active
    mailbox = (await api.put(f"{T}/mailboxes/alice/faults", {"smtp": {"accept_and_lose": {}}})).json()
    assert mailbox == {"smtp": {"accept_and_lose": {"times": None, "probability": 1.0}}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"smtp": {"replies": [{"command": "RCPT", "line": "-ERR no"}]}}, "$.smtp.replies[0].line"),
        ({"smtp": {"replies": [{"command": "RETR", "line": "450 x"}]}}, "$.smtp.replies[0].command"),
        ({"smtp": {"greeting": {"code": 220}}}, "$.smtp.greeting.code"),
        ({"smtp": {"rate_limit": {"messages": 0, "per_seconds": 1}}}, "$.smtp.rate_limit.messages"),
        (
            {"smtp": {"missing_extensions": {"extensions": ["STARTTLS"]}}},
            "$.smtp.missing_extensions.extensions[0]",
        ),
        ({"transport": [{"kind": "latency", "ms": 1, "protocol": "nntp"}]}, "$.transport[0].protocol"),
    ],
)
async def test_bad_smtp_parts_name_the_field(api: Api, body: dict[str, object], field: str) -> None:
    problem(await api.put(f"{T}/faults", body), 422, field)
