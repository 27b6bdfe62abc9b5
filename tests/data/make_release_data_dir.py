"""Write tests/data/release-1/: a --data-dir as the release before folders (schema version 1) leaves it.

Run once with the release checkout, not with this tree (it imports the release's own modules):

    cd RELEASE_CHECKOUT && .venv/bin/python PATH/TO/tests/data/make_release_data_dir.py OUT_DIR

It serves on port 0, makes a tenant with two mailboxes over REST (messages with chosen and default UIDs,
one sent over SMTP, one deleted), sets a fault plan, and stops (closing the database leaves
one file).  tests/store/test_migration.py opens a copy and checks it upgrades in place.
"""

from __future__ import annotations

import json
import smtplib
import sys
from pathlib import Path

import trio
from mockmail.settings import Settings

from mockmail.main import Running, serve
from tests.rest import Rest

ADMIN = "admin-token-for-the-release-data-dir"


async def main(out: Path) -> None:
    settings = Settings(api_port=0, data_dir=str(out), admin_token=ADMIN)
    async with trio.open_nursery() as nursery:
        server: Running = await nursery.start(serve, settings)
        rest = Rest(server.api_url, ADMIN)
        tenant = (await rest.post("/tenants", {"name": "acme", "smtp_auth": "none"})).json()
        for user in ("bob", "carol"):
            assert (
                await rest.put(f"/tenants/acme/mailboxes/{user}", {"password": f"{user}-pw"})
            ).status == 201
        seeded = await rest.post(
            "/tenants/acme/mailboxes/bob/messages",
            [{"subject": "one", "uid": "u-1"}, {"subject": "two"}, {"subject": "gone", "uid": "u-gone"}],
        )
        assert seeded.status == 201, seeded.body
        smtp = tenant["smtp"]

        def send() -> None:
            with smtplib.SMTP(smtp["host"], smtp["port"], timeout=10) as client:
                client.sendmail("app@example.com", ["bob@example.com"], b"Subject: three\r\n\r\nhi\r\n")

        await trio.to_thread.run_sync(send)
        gone = seeded.json()[2]["id"]
        assert (await rest.delete(f"/tenants/acme/mailboxes/bob/messages/{gone}")).status == 204
        carol = await rest.post(
            "/tenants/acme/mailboxes/carol/messages?uid=c-raw",
            raw=b"Subject: raw\r\n\r\nbody\r\n",
            content_type="message/rfc822",
        )
        assert carol.status == 201, carol.body
        faults = await rest.put("/tenants/acme/faults", {"quit": {"reply": "drop", "times": 2}})
        assert faults.status == 200, faults.body
        listed = {
            user: [
                (m["id"], m["uid"], m["subject"])
                for m in (await rest.get(f"/tenants/acme/mailboxes/{user}/messages")).json()
            ]
            for user in ("bob", "carol")
        }
        server.stop.set()
    # The server closed its database: the log is checkpointed and gone, one file is left as it would be.
    assert sorted(p.name for p in out.iterdir()) == ["mockmail.sqlite3"]
    print(json.dumps({"token": tenant["token"], "messages": listed}, indent=1))


if __name__ == "__main__":
    trio.run(main, Path(sys.argv[1]))
