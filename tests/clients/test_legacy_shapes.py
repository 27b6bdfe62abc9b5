"""Message shapes that break real clients, seeded with `mockmail.client.long_line_message`: poplib's
`_MAXLINE` (2,048 octets) against one long body line (odoo issue 10920), on a compliant server."""

from __future__ import annotations

import poplib

import pytest
import trio

from mockmail.client import POPLIB_MAXLINE, long_line_message
from tests.conftest import Seeded, stored
from tests.rest import Rest


async def seed_raw(rest: Rest, tenant: Seeded, raw: bytes) -> None:
    path = f"/tenants/{tenant.name}/mailboxes/{tenant.user}/messages"
    result = await rest.post(path, raw=raw, content_type="message/rfc822")
    assert result.status == 201, result.body


def retr_first(tenant: Seeded) -> bytes:
    pop = poplib.POP3(tenant.host, tenant.port, timeout=5)
    try:
        pop.user(tenant.user)
        pop.pass_(tenant.password)
        return b"\r\n".join(pop.retr(1)[1])
    finally:
        pop.close()


def test_the_shape_holds_one_line_of_the_length_asked() -> None:
    raw = long_line_message(5000)
    assert max(len(line) for line in raw.split(b"\r\n")) == 5000
    with pytest.raises(ValueError, match="octets"):
        long_line_message(0)


async def test_poplib_fails_on_a_line_over_its_maxline(rest: Rest, tenant: Seeded) -> None:
    await seed_raw(rest, tenant, long_line_message(POPLIB_MAXLINE + 100))
    with pytest.raises(poplib.error_proto, match="line too long"):
        await trio.to_thread.run_sync(retr_first, tenant)
    assert len(await stored(rest, tenant)) == 1  # the server kept it: the client is what breaks


async def test_poplib_reads_the_same_shape_under_its_maxline(rest: Rest, tenant: Seeded) -> None:
    raw = long_line_message(POPLIB_MAXLINE - 100)
    await seed_raw(rest, tenant, raw)
    body = await trio.to_thread.run_sync(retr_first, tenant)
    assert raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")[0] in body  # the line came through whole
