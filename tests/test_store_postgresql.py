"""`--store postgresql://...`: a server keeps its tenants and mail in PostgreSQL (a real one, started by the
tests: tests/store/pg.py), and a server started again on the same database has everything it acknowledged.
"""

from __future__ import annotations

import contextlib
import poplib
import smtplib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import trio

from mockmail.config.settings import Settings
from mockmail.config.tenants_file import ConfigError
from mockmail.main import Running, open_catalog, parse_settings, serve
from tests.rest import Rest
from tests.store.pg import fresh_database

ADMIN = "admin-token-for-the-postgresql-tests"


@pytest.fixture
def store_url(postgresql_dsn: str) -> Iterator[str]:
    with fresh_database(postgresql_dsn) as url:
        yield url


@contextlib.asynccontextmanager
async def running(store: str, **more: Any) -> AsyncIterator[tuple[Running, Rest]]:
    """One server on the database at `store`, stopped (and its connection closed) when the block ends."""
    settings = Settings(api_port=0, store=store, admin_token=ADMIN, **more)
    async with trio.open_nursery() as nursery:
        server: Running = await nursery.start(serve, settings)
        yield server, Rest(server.api_url, ADMIN)
        server.stop.set()


async def test_a_restart_on_the_same_database_keeps_tenants_and_mail(store_url: str) -> None:
    async with running(store_url) as (_, rest):
        tenant = (await rest.post("/tenants", {"name": "acme", "smtp_auth": "none"})).json()
        assert (await rest.put("/tenants/acme/mailboxes/bob", {"password": "pw"})).status == 201
        seeded = await rest.post("/tenants/acme/mailboxes/bob/messages", [{"subject": "one", "uid": "u-1"}])
        assert seeded.status == 201
        smtp = tenant["smtp"]

        def send() -> None:
            with smtplib.SMTP(smtp["host"], smtp["port"], timeout=10) as client:
                client.sendmail("app@example.com", ["bob@example.com"], b"Subject: two\r\n\r\nhi\r\n")

        await trio.to_thread.run_sync(send)

    async with running(store_url) as (_, rest):
        tenants = (await rest.get("/tenants")).json()
        assert [(t["name"], t["state"]) for t in tenants] == [("acme", "running")]
        listed = (await rest.get("/tenants/acme/mailboxes/bob/messages")).json()
        assert [(m["uid"], m["subject"]) for m in listed][:1] == [("u-1", "one")]
        assert [m["subject"] for m in listed] == ["one", "two"]
        reused = await rest.post("/tenants/acme/mailboxes/bob/messages", {"subject": "x", "uid": "u-1"})
        assert reused.status == 409  # UIDs are never reused, also across a restart
        pop3 = tenants[0]["pop3"]

        def fetch() -> list[bytes]:
            pop = poplib.POP3(pop3["host"], pop3["port"], timeout=10)
            pop.user("bob")
            pop.pass_("pw")
            bodies = [b"\r\n".join(pop.retr(n)[1]) for n in (1, 2)]
            pop.dele(1)
            pop.quit()
            return bodies

        bodies = await trio.to_thread.run_sync(fetch)
        assert b"Subject: one" in bodies[0] and b"Subject: two" in bodies[1]

    async with running(store_url) as (_, rest):
        listed = (await rest.get("/tenants/acme/mailboxes/bob/messages")).json()
        assert [m["subject"] for m in listed] == ["two"]  # the POP3 deletion was kept


def test_store_settings_and_a_store_that_cannot_be_opened(store_url: str) -> None:
    settings = parse_settings(["serve", "--store", store_url], {})
    assert settings.store == store_url
    assert parse_settings(["serve"], {"MOCKMAIL_STORE": store_url}).store == store_url
    catalog = open_catalog(settings)
    assert catalog.persistent and catalog.check() is None
    catalog.close()
    with pytest.raises(ConfigError, match="--store and --data-dir both name a store"):
        open_catalog(parse_settings(["serve", "--store", store_url, "--data-dir", "/nowhere"], {}))
    with pytest.raises(SystemExit) as exited:  # argparse's usage error
        parse_settings(["serve", "--store", "mysql://x/y"], {})
    assert exited.value.code == 2
    missing = store_url.replace("?", "_missing?", 1)  # a database that does not exist
    with pytest.raises(
        ConfigError, match=r"--store postgresql://mockmail@.*: cannot open the PostgreSQL store"
    ):
        open_catalog(parse_settings(["serve", "--store", missing], {}))
