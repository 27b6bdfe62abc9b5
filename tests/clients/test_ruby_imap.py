"""Ruby's bundled net-imap (0.2.3 with Ruby 3.1) doing a helpdesk's IMAP channel sequence over real sockets:
optional STARTTLS verified against the tenant's CA, LOGIN, SELECT, SORT (or SEARCH), FETCH of the metadata
and the header, FETCH RFC822, STORE \\Seen and \\Deleted, EXPUNGE, and a disconnect with no LOGOUT."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import Seeded, seed
from tests.rest import Rest

from .external import ruby
from .imap_support import imap_ports, listing, raw_message


async def helpdesk(rest: Rest, tenant: Seeded, *extra: str, folder: str = "INBOX") -> dict[str, Any]:
    ports = await imap_ports(rest, tenant)
    return await ruby(
        "helpdesk_imap.rb", ports.host, ports.imap, tenant.user, tenant.password, folder, *extra
    )


def decoded(entry: dict[str, Any], key: str) -> bytes:
    return base64.b64decode(entry[key])


@pytest.mark.parametrize("path", ["sort", "search"])
@pytest.mark.parametrize("tls", [False, True], ids=["plain", "starttls"])
async def test_helpdesk_sequence_fetches_flags_and_expunges(
    rest: Rest, tenant: Seeded, ca_file: str, tls: bool, path: str
) -> None:
    created = await seed(
        rest,
        tenant,
        {"subject": "ticket one", "text": "first\n.\nline with a dot above\n"},
        {"subject": "ticket two", "text": "x" * 5000},
        {"subject": "ticket three", "html": "<p>three</p>", "text": "three"},
    )
    raws = [await raw_message(rest, tenant, str(m["id"])) for m in created]
    extra = (["--starttls", ca_file] if tls else []) + (["--search"] if path == "search" else [])
    out = await helpdesk(rest, tenant, *extra)
    assert out["ok"], out
    assert out.get("tls", False) is tls
    assert out["command"] == path.upper()
    assert out["exists"] == 3 and sorted(out["ids"]) == [1, 2, 3]
    fetched = {e["seq"]: e for e in out["fetched"]}
    assert sorted(fetched) == [1, 2, 3]
    for seq, (message, raw) in enumerate(zip(created, raws, strict=True), start=1):
        entry = fetched[seq]
        assert entry["size"] == message["size"] == len(raw)
        assert decoded(entry, "body") == raw  # byte-exact, dot lines included
        header = decoded(entry, "header")
        assert raw.startswith(header) and header.endswith(b"\r\n\r\n")
        assert entry["flags"] == []  # seeded unseen; RFC822.HEADER does not set \Seen
        assert "Seen" in entry["after_seen"]
        assert {"Seen", "Deleted"} <= set(entry["after_deleted"])
        assert entry["internaldate"]
    assert b"Subject: ticket one\r\n" in decoded(fetched[1], "header")
    assert b"\r\n.\r\nline with a dot above" in decoded(fetched[1], "body")
    assert out["expunged"] == [1, 1, 1]  # each EXPUNGE response renumbers the rest
    assert await listing(rest, tenant) == []  # EXPUNGE took effect before the unannounced disconnect


async def test_sort_orders_by_date(rest: Rest, tenant: Seeded) -> None:
    created = await seed(
        rest,
        tenant,
        {"subject": "late", "date": "2026-03-03T10:00:00+00:00"},
        {"subject": "early", "date": "2026-03-01T10:00:00+00:00"},
        {"subject": "middle", "date": "2026-03-02T10:00:00+00:00"},
    )
    assert len(created) == 3
    out = await helpdesk(rest, tenant, "--keep")
    assert out["ok"], out
    assert out["command"] == "SORT" and out["ids"] == [2, 3, 1]


async def test_keep_on_server_leaves_messages_seen_and_skips_them_next_time(
    rest: Rest, tenant: Seeded
) -> None:
    created = await seed(rest, tenant, {"subject": "keep me"}, {"subject": "and me"})
    out = await helpdesk(rest, tenant, "--keep")
    assert out["ok"], out
    assert [e["seq"] for e in out["fetched"]] == [1, 2]
    kept = await listing(rest, tenant)
    assert [m["id"] for m in kept] == [m["id"] for m in created]
    assert all("\\Seen" in m["flags"] and "\\Deleted" not in m["flags"] for m in kept)
    again = await helpdesk(rest, tenant, "--keep")
    assert again["ok"] and again["ids"] == [1, 2] and again["fetched"] == []


async def test_empty_inbox(rest: Rest, tenant: Seeded) -> None:
    out = await helpdesk(rest, tenant)
    assert out["ok"], out
    assert out["exists"] == 0 and out["ids"] == [] and out["fetched"] == []
    assert out["expunged"] is None  # net-imap returns nil when no EXPUNGE response came


async def test_wrong_password_is_a_no_response(rest: Rest, tenant: Seeded) -> None:
    ports = await imap_ports(rest, tenant)
    out = await ruby("helpdesk_imap.rb", ports.host, ports.imap, tenant.user, "wrong", "INBOX")
    assert out["ok"] is False and out["stage"] == "login"
    assert out["error"] == "Net::IMAP::NoResponseError"


async def test_starttls_refuses_an_untrusted_certificate(rest: Rest, tenant: Seeded, tmp_path: Any) -> None:
    other_ca = tmp_path / "other.pem"
    other_ca.write_bytes(b"")  # no CA at all: the system store does not know ours
    await seed(rest, tenant, {"subject": "stays"})
    out = await helpdesk(rest, tenant, "--starttls", str(other_ca))
    # net-imap 0.2.3 runs the handshake in its receiver thread: the verify failure kills that thread, and
    # depending on the race it surfaces in STARTTLS itself or at LOGIN (EOFError, IOError, a reset), on a
    # socket that never finished the handshake.  Either way the client gets no further than LOGIN.
    assert out["ok"] is False and out["stage"] in {"starttls", "login"}, out
    assert len(await listing(rest, tenant)) == 1  # had LOGIN worked, the fetch would have deleted it
