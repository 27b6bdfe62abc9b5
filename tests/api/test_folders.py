"""The REST side of folders and flags: `?folder=` on api/messages.py, `PUT .../flags`, and
`GET .../folders` in api/mailboxes.py."""

from __future__ import annotations

import datetime
from urllib.parse import quote

import pytest

from mockmail.tenancy.registry import Registry

from .conftest import Api, problem

MAILBOX = "/api/v1/tenants/acme/mailboxes/alice"
BASE = f"{MAILBOX}/messages"


@pytest.fixture(name="api")
async def _api_with_alice(api: Api) -> Api:
    assert (await api.post("/api/v1/tenants", {"name": "acme"})).status == 201
    assert (await api.put(MAILBOX, {"password": "p"})).status == 201
    return api


async def test_messages_show_folder_flags_uid_and_internaldate(api: Api, registry: Registry) -> None:
    created = (await api.post(BASE, [{"subject": "a"}, {"subject": "b"}])).json()
    (listed_a, listed_b) = (await api.get(BASE)).json()
    stored = registry.get("acme").store.get("alice").get(created[0]["id"])
    assert (listed_a["folder"], listed_a["flags"], listed_a["imap_uid"]) == ("INBOX", [], 1)
    assert listed_b["imap_uid"] == 2
    when = datetime.datetime.fromisoformat(listed_a["internaldate"])
    assert when.utcoffset() == datetime.timedelta(0) and when.timestamp() == pytest.approx(
        stored.internaldate
    )
    detail = (await api.get(f"{BASE}/{created[0]['id']}")).json()
    assert {k: detail[k] for k in ("folder", "flags", "imap_uid", "internaldate")} == {
        k: listed_a[k] for k in ("folder", "flags", "imap_uid", "internaldate")
    }


async def test_seed_into_a_folder_with_flags_and_list_it(api: Api, registry: Registry) -> None:
    box = registry.get("acme").store.get("alice")
    box.create_folder("Archive/2024")
    folder = quote("Archive/2024", safe="")
    flags = quote("\\seen $Label", safe="")
    created = await api.post(
        f"{BASE}?folder={folder}&flags={flags}", [{"subject": "old"}, {"subject": "older"}]
    )
    assert created.status == 201, created.body
    raw = await api.post(
        f"{BASE}?folder={folder}",
        data=b"Subject: raw\r\n\r\nx\r\n",
        headers={"Content-Type": "message/rfc822"},
    )
    assert raw.status == 201
    assert (await api.get(BASE)).json() == []  # INBOX by default
    listed = (await api.get(f"{BASE}?folder={folder}")).json()
    assert [(m["subject"], m["folder"], m["flags"], m["imap_uid"]) for m in listed] == [
        ("old", "Archive/2024", ["$Label", "\\Seen"], 1),
        ("older", "Archive/2024", ["$Label", "\\Seen"], 2),
        ("raw", "Archive/2024", [], 3),
    ]
    assert [m.id for m in box.folder_snapshot("Archive/2024")] == [m["id"] for m in listed]
    assert (await api.get(f"{BASE}?folder=inbox")).json() == []


async def test_an_unknown_folder_is_a_404_naming_it(api: Api) -> None:
    problem(await api.get(f"{BASE}?folder=Nowhere"), 404, "folder")
    problem(await api.post(f"{BASE}?folder=Nowhere", {"subject": "x"}), 404, "folder")
    problem(await api.get(f"{BASE}?folder=a//b"), 422, "folder")
    assert (await api.get(BASE)).json() == []


async def test_bad_seed_flags_store_nothing(api: Api) -> None:
    bad = quote("\\Seen \\Recent", safe="")
    problem(await api.post(f"{BASE}?flags={bad}", {"subject": "x"}), 422, "flags[1]")
    assert (await api.get(BASE)).json() == []


async def test_put_flags_replaces_them(api: Api, registry: Registry) -> None:
    message_id = (await api.post(BASE, {"subject": "x"})).json()["id"]
    path = f"{BASE}/{message_id}/flags"
    done = await api.put(path, {"flags": ["\\SEEN", "$Label", "\\Flagged"]})
    assert done.status == 200, done.body
    assert done.json()["flags"] == ["$Label", "\\Flagged", "\\Seen"] and done.json()["id"] == message_id
    assert registry.get("acme").store.get("alice").get(message_id).flags == {"$Label", "\\Flagged", "\\Seen"}
    assert (await api.put(path, {"flags": []})).json()["flags"] == []
    problem(await api.put(path, {"flags": ["\\Seen", "two words"]}), 422, "$.flags[1]")
    problem(await api.put(path, {"flags": "\\Seen"}), 422, "$.flags")
    problem(await api.put(path, {"flags": [], "extra": 1}), 422)
    problem(await api.put(f"{BASE}/nope/flags", {"flags": []}), 404)
    assert (await api.get(f"{BASE}/{message_id}")).json()["flags"] == []


async def test_messages_of_other_folders_are_found_and_deleted_by_id(api: Api, registry: Registry) -> None:
    box = registry.get("acme").store.get("alice")
    box.create_folder("Sent")
    message = box.add(b"Subject: s\r\n\r\n", folder="Sent")
    assert (await api.get(f"{BASE}/{message.id}")).json()["folder"] == "Sent"
    flagged = await api.put(f"{BASE}/{message.id}/flags", {"flags": ["\\Answered"]})
    assert flagged.json()["folder"] == "Sent"
    assert (await api.delete(f"{BASE}/{message.id}")).status == 204
    assert box.folder_snapshot("Sent") == ()
    problem(await api.get(f"{BASE}/{message.id}"), 404)


async def test_list_folders(api: Api, registry: Registry) -> None:
    box = registry.get("acme").store.get("alice")
    box.create_folder("Sent", special_use="\\Sent", subscribed=True)
    sent = box.add(b"Subject: s\r\n\r\n", folder="Sent")
    await api.post(BASE, {"subject": "in"})
    folders = (await api.get(f"{MAILBOX}/folders")).json()
    assert [(f["name"], f["messages"], f["uidnext"], f["special_use"], f["subscribed"]) for f in folders] == [
        ("INBOX", 1, 2, None, True),
        ("Sent", 1, 2, "\\Sent", True),
    ]
    assert folders[1]["octets"] == sent.size
    assert [f["uidvalidity"] for f in folders] == [f.uidvalidity for f in box.folders()]
    problem(await api.get("/api/v1/tenants/acme/mailboxes/nobody/folders"), 404, "user")


async def test_long_poll_on_a_folder(api: Api, registry: Registry) -> None:
    box = registry.get("acme").store.get("alice")
    box.create_folder("Spam")
    box.add(b"Subject: s\r\n\r\n", folder="Spam")
    listed = (await api.get(f"{BASE}?folder=Spam&wait=5&count=1")).json()  # there already: no wait
    assert [m["subject"] for m in listed] == ["s"]


async def test_every_folder_counts_against_the_storage_limits(api: Api, registry: Registry) -> None:
    created = await api.post("/api/v1/tenants", {"name": "small", "limits": {"messages": 2}})
    assert created.status == 201, created.body
    assert (await api.put("/api/v1/tenants/small/mailboxes/bob", {"password": "p"})).status == 201
    registry.get("small").store.get("bob").create_folder("Archive")
    base = "/api/v1/tenants/small/mailboxes/bob/messages"
    assert (await api.post(base, {"subject": "in"})).status == 201
    assert (await api.post(f"{base}?folder=Archive", {"subject": "archived"})).status == 201
    full = problem(await api.post(base, {"subject": "over"}), 507)
    assert full["limit"] == "messages"
