"""Finding mail over REST: the mailbox listing's filters (and its long-poll's), tenant-wide search
(api/search.py, api/filters.py) and the links of a message's detail."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from mockmail.tenancy.registry import Registry

from .conftest import Api, problem

TENANT = "/api/v1/tenants/acme"
BASE = f"{TENANT}/mailboxes/alice/messages"
TOKEN = "Zx9-tok-81f2"


@pytest.fixture(name="api")
async def _api_with_mail(api: Api) -> Api:
    """Tenant acme; alice holds a verification mail, a welcome and a newsletter; bob holds one."""
    assert (await api.post("/api/v1/tenants", {"name": "acme"})).status == 201
    for user in ("alice", "bob"):
        assert (await api.put(f"{TENANT}/mailboxes/{user}", {"password": "p"})).status == 201
    seeded = [
        {"subject": f"verify {TOKEN}", "from": "App <noreply@app.test>", "text": f"Your code: {TOKEN}"},
        {"subject": "Welcome, Alice!", "from": "team@app.test", "html": "<p>Glad to <b>have</b> you</p>"},
        {"subject": "News", "from": "news@other.test", "cc": ["archive@other.test"], "text": "Nothing new"},
    ]
    assert (await api.post(BASE, seeded)).status == 201
    bob = {"subject": "Welcome, Bob!", "from": "team@app.test", "text": "hello bob"}
    assert (await api.post(f"{TENANT}/mailboxes/bob/messages", bob)).status == 201
    return api


async def subjects(api: Api, path: str) -> list[str]:
    response = await api.get(path)
    assert response.status == 200, response.body
    return [m["subject"] for m in response.json()]


async def test_subject_is_a_substring_of_the_subject(api: Api) -> None:
    assert await subjects(api, f"{BASE}?subject={TOKEN}") == [f"verify {TOKEN}"]
    assert await subjects(api, f"{BASE}?subject=Welcome") == ["Welcome, Alice!"]
    assert await subjects(api, f"{BASE}?subject=WELCOME,%20alice") == ["Welcome, Alice!"]  # any case
    assert await subjects(api, f"{BASE}?subject=Welcome,%20Bob") == []  # bob's is in bob's mailbox


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sender=NOREPLY@app", [f"verify {TOKEN}"]),
        ("sender=app.test", [f"verify {TOKEN}", "Welcome, Alice!"]),
        ("to=archive@", ["News"]),
        ("to=alice@mockmail.test", [f"verify {TOKEN}", "Welcome, Alice!", "News"]),
        ("text=glad%20to%20have", ["Welcome, Alice!"]),  # the HTML's text, not its markup
        ("text=code:", [f"verify {TOKEN}"]),
        ("q=app.test%20welcome", ["Welcome, Alice!"]),
        ("q=nothing", ["News"]),
        ("sender=app.test&text=code", [f"verify {TOKEN}"]),
        ("subject=News&sender=app.test", []),
    ],
)
async def test_filters_narrow_the_listing(api: Api, query: str, expected: list[str]) -> None:
    assert await subjects(api, f"{BASE}?{query}") == expected


async def test_the_long_poll_waits_for_a_message_that_passes_the_filters(
    api: Api, registry: Registry
) -> None:
    box = registry.get("acme").store.get("alice")
    got: list[list[dict[str, object]]] = []

    async def poll() -> None:
        got.append((await api.get(f"{BASE}?wait=60&subject=reset&sender=noreply")).json())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(poll)
        await trio.testing.wait_all_tasks_blocked()
        box.add(b"From: spam@other.test\r\nSubject: reset your luck\r\n\r\nx\r\n")
        box.add(b"From: noreply@app.test\r\nSubject: welcome again\r\n\r\nx\r\n")
        await trio.testing.wait_all_tasks_blocked()
        assert got == []  # neither passes both filters: still waiting
        box.add(b"From: noreply@app.test\r\nSubject: Reset your password\r\n\r\nx\r\n")
    assert [m["subject"] for m in got[0]] == ["Reset your password"]  # nothing else fetched


async def test_the_long_poll_counts_only_what_passes(
    api: Api, registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    registry.get("acme").store.get("alice").add(b"Subject: verify again\r\n\r\nx\r\n")
    start = trio.current_time()
    found = (await api.get(f"{BASE}?wait=30&count=3&subject=verify")).json()
    assert [m["subject"] for m in found] == [f"verify {TOKEN}", "verify again"]
    assert trio.current_time() - start >= 30  # two of three: it waited the whole time (a fake clock)
    found = (await api.get(f"{BASE}?wait=30&count=2&subject=verify")).json()
    assert len(found) == 2


@pytest.mark.parametrize("path", [BASE, f"{TENANT}/messages"])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("subjet=verify", "subjet"),  # a typo is not a filter silently ignored
        ("subject=", "subject"),
        ("q=", "q"),
        ("to=" + "x" * 1001, "to"),
        ("text=a&text=b", "text"),
        ("sender=a&sender=a", "sender"),
    ],
)
async def test_query_parameters_are_strict(api: Api, path: str, query: str, field: str) -> None:
    doc = problem(await api.get(f"{path}?{query}"), 422, field)
    assert field in doc["detail"]


async def test_the_tenant_search_does_not_take_the_long_poll(api: Api) -> None:
    problem(await api.get(f"{TENANT}/messages?wait=1"), 422, "wait")


async def test_a_filter_of_the_longest_length_is_taken(api: Api) -> None:
    assert await subjects(api, f"{BASE}?text={'y' * 1000}") == []


async def test_search_across_the_tenant_names_each_mailbox(api: Api) -> None:
    found = (await api.get(f"{TENANT}/messages?q=welcome")).json()
    assert [(m["mailbox"], m["subject"]) for m in found] == [
        ("alice", "Welcome, Alice!"),
        ("bob", "Welcome, Bob!"),
    ]
    detail = (await api.get(f"{TENANT}/mailboxes/bob/messages/{found[1]['id']}")).json()
    assert detail["id"] == found[1]["id"]
    every = (await api.get(f"{TENANT}/messages")).json()
    assert [m["mailbox"] for m in every] == ["alice", "alice", "alice", "bob"]  # arrival order
    assert await subjects(api, f"{TENANT}/messages?text=HELLO%20bob&sender=team") == ["Welcome, Bob!"]
    assert await subjects(api, f"{TENANT}/messages?q=zebra") == []


async def test_search_in_a_tenant_that_is_not_there(api: Api) -> None:
    problem(await api.get("/api/v1/tenants/nobody/messages?q=x"), 404, "tenant")


async def test_the_detail_lists_the_links(api: Api) -> None:
    html = (
        '<p><a href="https://app.test/verify?token=t1&amp;next=%2Fhome">Verify</a>'
        ' <a href="#x">top</a> <a href="mailto:help@app.test">help</a></p>'
    )
    text = "Verify: https://app.test/verify?token=t1&next=%2Fhome\nOr read https://app.test/faq."
    created = (await api.post(BASE, {"subject": "links", "text": text, "html": html})).json()
    detail = (await api.get(f"{BASE}/{created['id']}")).json()
    assert detail["links"] == [
        "https://app.test/verify?token=t1&next=%2Fhome",
        "mailto:help@app.test",
        "https://app.test/faq",
    ]
    plain = (await api.post(BASE, {"subject": "none"})).json()
    assert (await api.get(f"{BASE}/{plain['id']}")).json()["links"] == []
