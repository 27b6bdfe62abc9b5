"""api/messages.py: seeding, listing, fetching and deleting messages."""

from __future__ import annotations

import base64
import email
import email.policy

import pytest
import trio
import trio.testing

from mockmail.tenancy.registry import Registry

from .conftest import Api, problem

BASE = "/api/v1/tenants/acme/mailboxes/alice/messages"


@pytest.fixture(name="api")
async def _api_with_alice(api: Api) -> Api:
    """The API with tenant acme and mailbox alice (pytest-trio does not run autouse async fixtures)."""
    assert (await api.post("/api/v1/tenants", {"name": "acme"})).status == 201
    assert (await api.put("/api/v1/tenants/acme/mailboxes/alice", {"password": "p"})).status == 201
    return api


async def listing(api: Api) -> list[dict[str, object]]:
    result: list[dict[str, object]] = (await api.get(BASE)).json()
    return result


async def test_compose_one_message(api: Api, registry: Registry) -> None:
    created = await api.post(
        BASE,
        {
            "from": "Billing <billing@example.com>",
            "subject": "Invoice 42 — €",
            "text": "Please pay.",
            "html": "<p>Please pay.</p>",
            "headers": {"X-Ticket": "42"},
            "attachments": [
                {
                    "filename": "a.pdf",
                    "content_type": "application/pdf",
                    "content": base64.b64encode(b"%PDF").decode(),
                }
            ],
            "date": "2026-01-02T03:04:05+01:00",
        },
    )
    assert created.status == 201
    info = created.json()
    stored = registry.get("acme").store.get("alice").get(info["id"])
    assert info == {"id": stored.id, "uid": stored.uid, "size": stored.size}
    msg = email.message_from_bytes(stored.content, policy=email.policy.default)
    assert msg["Subject"] == "Invoice 42 — €"
    assert msg["To"] == "alice@mockmail.test"
    assert msg["X-Ticket"] == "42"
    assert msg["Date"] == "Fri, 02 Jan 2026 03:04:05 +0100"
    assert [part.get_filename() for part in msg.iter_attachments()] == ["a.pdf"]
    assert msg.get_body(("html",)).get_content().strip() == "<p>Please pay.</p>"
    summary = (await listing(api))[0]
    assert summary["subject"] == "Invoice 42 — €" and summary["from"] == "Billing <billing@example.com>"


async def test_bulk_json_keeps_order(api: Api) -> None:
    created = await api.post(BASE, [{"subject": f"m{i}"} for i in range(5)])
    assert created.status == 201
    ids = [c["id"] for c in created.json()]
    assert [m["id"] for m in await listing(api)] == ids
    assert [m["subject"] for m in await listing(api)] == [f"m{i}" for i in range(5)]


async def test_raw_upload_with_uid(api: Api) -> None:
    raw = b"Subject: raw\nFrom: x@y\n\nbody\n"
    created = await api.post(BASE + "?uid=custom-1", data=raw, headers={"Content-Type": "message/rfc822"})
    assert created.status == 201
    assert created.json()["uid"] == "custom-1"
    assert created.json()["size"] == len(raw.replace(b"\n", b"\r\n"))
    fetched = await api.get(f"{BASE}/{created.json()['id']}", headers={"Accept": "message/rfc822"})
    assert fetched.content_type == "message/rfc822"
    assert fetched.body == raw.replace(b"\n", b"\r\n")


async def test_mbox_upload(api: Api) -> None:
    mbox = b"From a@b Thu Jan  1 00:00:00 2026\nSubject: one\n\n>From quoted\n\nFrom c@d Thu Jan  1 00:00:00 2026\nSubject: two\n\nbody\n"
    created = await api.post(BASE, data=mbox, headers={"Content-Type": "application/mbox"})
    assert created.status == 201
    assert len(created.json()) == 2
    first = await api.get(f"{BASE}/{created.json()[0]['id']}", headers={"Accept": "message/rfc822"})
    assert first.body == b"Subject: one\r\n\r\nFrom quoted\r\n"


async def test_detail_lists_headers(api: Api) -> None:
    info = (await api.post(BASE, {"subject": "hi", "headers": {"X-A": "1"}})).json()
    detail = (await api.get(f"{BASE}/{info['id']}")).json()
    assert detail["subject"] == "hi"
    assert ["X-A", "1"] in detail["headers"]
    assert (detail["via"], detail["envelope"]) == ("api", None)  # seeded over REST: no SMTP envelope


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": "a\r\nBcc: injected"}, "$.subject"),
        ({"headers": {"Bad:Name": "v"}}, "$.headers"),
        ({"headers": {"X-Ok": "v\nw"}}, "$.headers[...]"),  # msgspec names dict values so
        ({"date": "2026-01-02T03:04:05"}, "$.date"),  # no time zone offset
        ({"date": "yesterday"}, "$.date"),
        ({"attachments": [{"filename": "a", "content": "!!"}]}, "$.attachments[0].content"),
        ({"to": "not-a-list"}, "$.to"),
        ({"uid": "has space"}, "$.uid"),
        ({"subjec": "typo"}, "$.subjec"),
        ([{"subject": "fine"}, {"subject": 5}], "$[1].subject"),
        ([], "$"),
    ],
)
async def test_invalid_json_messages_store_nothing(api: Api, body: object, field: str) -> None:
    problem(await api.post(BASE, body), 422, field)
    assert await listing(api) == []


async def test_raw_that_is_not_a_message(api: Api) -> None:
    for raw in (b"", b"just some text\n", b"\n\nbody"):
        problem(await api.post(BASE, data=raw, headers={"Content-Type": "message/rfc822"}), 422, "body")
    problem(
        await api.post(BASE, data=b"Subject: x\n\n", headers={"Content-Type": "application/mbox"}),
        422,
        "body",
    )
    assert await listing(api) == []


async def test_unsupported_content_type(api: Api) -> None:
    doc = problem(
        await api.post(BASE, data=b"x", headers={"Content-Type": "text/plain"}), 415, "Content-Type"
    )
    assert "message/rfc822" in doc["detail"]


async def test_message_size_limit(api: Api) -> None:
    big = b"Subject: big\r\n\r\n" + b"x" * (64 * 1024)
    problem(await api.post(BASE, data=big, headers={"Content-Type": "message/rfc822"}), 413, "body")
    problem(await api.post(BASE, [{"subject": "ok"}, {"text": "y" * 70_000}]), 413, "$[1]")
    assert await listing(api) == []


async def test_request_size_limit(api: Api) -> None:
    huge = b"Subject: huge\r\n\r\n" + b"x" * (300 * 1024)
    response = await api.post(BASE, data=huge, headers={"Content-Type": "message/rfc822"})
    problem(response, 413)


async def test_uid_conflicts_are_all_or_nothing(api: Api) -> None:
    assert (await api.post(BASE, {"uid": "u1"})).status == 201
    problem(await api.post(BASE, {"uid": "u1"}), 409, "$.uid")
    problem(await api.post(BASE, [{"uid": "u2"}, {"uid": "u2"}]), 409, "$[1].uid")
    problem(await api.post(BASE, [{"uid": "u3"}, {"uid": "u1"}]), 409, "$[1].uid")
    assert [m["uid"] for m in await listing(api)] == ["u1"]


async def test_uid_is_never_reused_after_deletion(api: Api) -> None:
    info = (await api.post(BASE, {"uid": "once"})).json()
    assert (await api.delete(f"{BASE}/{info['id']}")).status == 204
    problem(await api.post(BASE, {"uid": "once"}), 409, "$.uid")


async def test_delete_one_and_purge(api: Api) -> None:
    ids = [
        c["id"] for c in (await api.post(BASE, [{"subject": "a"}, {"subject": "b"}, {"subject": "c"}])).json()
    ]
    assert (await api.delete(f"{BASE}/{ids[1]}")).status == 204
    assert [m["id"] for m in await listing(api)] == [ids[0], ids[2]]
    problem(await api.delete(f"{BASE}/{ids[1]}"), 404)
    problem(await api.get(f"{BASE}/{ids[1]}"), 404)
    assert (await api.delete(BASE)).status == 204
    assert await listing(api) == []


async def test_unknown_mailbox(api: Api) -> None:
    problem(await api.post("/api/v1/tenants/acme/mailboxes/bob/messages", {"subject": "x"}), 404, "user")


async def test_long_poll_answers_when_the_mail_arrives(api: Api, registry: Registry) -> None:
    box = registry.get("acme").store.get("alice")
    got: list[list[dict[str, object]]] = []

    async def poll() -> None:
        got.append((await api.get(f"{BASE}?wait=60&count=2")).json())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(poll)
        await trio.testing.wait_all_tasks_blocked()
        box.add(b"Subject: first\r\n\r\n")
        await trio.testing.wait_all_tasks_blocked()
        assert got == []  # one of two: still waiting
        box.add(b"Subject: second\r\n\r\n")
    assert [m["subject"] for m in got[0]] == ["first", "second"]


async def test_long_poll_times_out_with_what_is_there(
    api: Api, registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    registry.get("acme").store.get("alice").add(b"Subject: only\r\n\r\n")
    start = trio.current_time()
    found = (await api.get(f"{BASE}?wait=30&count=5")).json()
    assert [m["subject"] for m in found] == ["only"]
    assert trio.current_time() - start >= 30  # the fake clock: no real waiting


async def test_long_poll_ends_with_404_when_the_mailbox_goes(api: Api, registry: Registry) -> None:
    got = []

    async def poll() -> None:
        got.append(await api.get(f"{BASE}?wait=60"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(poll)
        await trio.testing.wait_all_tasks_blocked()
        store = registry.get("acme").store
        store.delete("alice")
        store.put("bob", "pw")[0].add(b"Subject: elsewhere\r\n\r\n")  # an arrival wakes the poll
    problem(got[0], 404, "user")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("wait=-1", "wait"),
        ("wait=301", "wait"),
        ("wait=soon", "wait"),
        ("wait=nan", "wait"),
        ("count=0", "count"),
    ],
)
async def test_long_poll_arguments_are_checked(api: Api, query: str, field: str) -> None:
    problem(await api.get(f"{BASE}?{query}"), 422, field)


async def test_arrivals_with_no_long_poll_waiting_make_no_new_event(api: Api, registry: Registry) -> None:
    tenant = registry.get("acme")
    event = tenant.arrived
    tenant.store.get("alice").add(b"Subject: nobody waits\r\n\r\n")
    assert tenant.arrived is event and not event.is_set()  # nothing allocated per message
