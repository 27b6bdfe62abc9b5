"""Numbers in query and path parameters (`limit`, `count`, an attachment's `index`): anything but a short
run of ASCII digits in range is a 422 naming the parameter, never a 500 (`int` refuses a superscript,
reads Arabic-Indic digits, and raises past 4,300 digits)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.conftest import Seeded, seed
from tests.rest import Rest

BAD = ["\u00b2", "\u0661", "1" + "0" * 5000, "-1", "1.0", " 1", "0x10", ""]


@pytest.mark.parametrize("raw", BAD)
async def test_bad_numbers_are_422_naming_the_parameter(rest: Rest, tenant: Seeded, raw: str) -> None:
    (created,) = await seed(rest, tenant, {"subject": "one"})
    box = f"/tenants/{tenant.name}/mailboxes/{tenant.user}"
    asks = [
        (f"/tenants/{tenant.name}/sessions?limit={quote(raw)}", "limit"),
        (f"{box}/messages?wait=0.1&count={quote(raw)}", "count"),
    ]
    if raw:  # an empty path segment is another route
        asks.append((f"{box}/messages/{created['id']}/attachments/{quote(raw)}", "index"))
    for path, field in asks:
        answer = await rest.get(path)
        assert answer.status == 422, (path, answer.body[:200])
        assert answer.json()["field"] == field


async def test_numbers_in_range_still_work(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "one"})
    box = f"/tenants/{tenant.name}/mailboxes/{tenant.user}"
    assert (await rest.get(f"/tenants/{tenant.name}/sessions?limit=100000")).status == 200
    assert (await rest.get(f"/tenants/{tenant.name}/sessions?limit=100001")).status == 422
    assert len((await rest.get(f"{box}/messages?wait=0.1&count=1")).json()) == 1
