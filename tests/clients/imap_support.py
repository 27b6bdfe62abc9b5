"""What the IMAP client tests share: a tenant's IMAP ports, raw stored bytes and flags over REST."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import trio

from tests.conftest import Seeded
from tests.rest import Rest


@dataclass(frozen=True)
class ImapPorts:
    host: str
    imap: int
    imaps: int


async def imap_ports(rest: Rest, tenant: Seeded) -> ImapPorts:
    """The tenant's `imap` (STARTTLS when TLS is on) and `imaps` endpoints, as GET /tenants/{name} lists them."""
    view = await rest.get(f"/tenants/{tenant.name}")
    assert view.status == 200, view.body
    body = view.json()
    assert "imap" in body and "imaps" in body, f"the tenant view lists no imap/imaps endpoints: {body}"
    return ImapPorts(body["imap"]["host"], body["imap"]["port"], body["imaps"]["port"])


async def raw_message(rest: Rest, tenant: Seeded, message_id: str, user: str | None = None) -> bytes:
    """The stored bytes of one message (GET with `Accept: message/rfc822`)."""
    url = f"{rest.base}/tenants/{tenant.name}/mailboxes/{user or tenant.user}/messages/{message_id}"

    def get() -> bytes:
        request = urllib.request.Request(url, headers={"Accept": "message/rfc822"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body: bytes = response.read()
            return body

    return await trio.to_thread.run_sync(get)


async def listing(rest: Rest, tenant: Seeded, folder: str = "INBOX", query: str = "") -> list[dict[str, Any]]:
    """A folder's messages over REST (with `query`, e.g. `wait=30&count=2`, a long-poll)."""
    result = await rest.get(
        f"/tenants/{tenant.name}/mailboxes/{tenant.user}/messages?folder={quote(folder)}{query}"
    )
    assert result.status == 200, result.body
    found: list[dict[str, Any]] = result.json()
    return found


async def set_flags(rest: Rest, tenant: Seeded, message_id: str, *flags: str) -> None:
    result = await rest.put(
        f"/tenants/{tenant.name}/mailboxes/{tenant.user}/messages/{message_id}/flags", {"flags": list(flags)}
    )
    assert result.status == 200, result.body
