"""Fixtures shared by the layers that need a whole running server on 127.0.0.1 with port 0 everywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import trio

from mockmail.config.settings import Settings
from mockmail.main import Running, serve
from tests.rest import Rest
from tests.store.pg import postgresql_cluster

pytest_plugins = ["pytester"]  # tests/test_pytest_plugin.py runs suites of its own


@dataclass
class Seeded:
    """A tenant created over REST with one mailbox."""

    name: str
    host: str
    port: int
    pop3s_port: int
    user: str
    password: str
    smtp_port: int = 0
    smtps_port: int = 0


@pytest.fixture(name="server")
async def _server(nursery: trio.Nursery) -> AsyncIterator[Running]:
    running: Running = await nursery.start(serve, Settings(api_port=0, tls="auto"))
    yield running
    running.stop.set()


@pytest.fixture(name="rest")
def _rest(server: Running) -> Rest:
    return Rest(server.api_url)


@pytest.fixture(name="ca_file")
async def _ca_file(rest: Rest, tmp_path: object) -> str:
    from pathlib import Path

    result = await rest.get("/tls/ca.pem")
    assert result.status == 200
    path = Path(str(tmp_path)) / "ca.pem"
    path.write_bytes(result.body)
    return str(path)


async def make_tenant(
    rest: Rest, name: str, user: str = "alice", password: str = "s3cret", **spec: object
) -> Seeded:
    created = await rest.post("/tenants", {"name": name, **spec})
    assert created.status == 201, created.body
    view = created.json()
    assert (await rest.put(f"/tenants/{name}/mailboxes/{user}", {"password": password})).status == 201
    return Seeded(
        name,
        view["pop3"]["host"],
        view["pop3"]["port"],
        view["pop3s"]["port"],
        user,
        password,
        view["smtp"]["port"],
        view["smtps"]["port"],
    )


@pytest.fixture(name="tenant")
async def _tenant(rest: Rest) -> Seeded:
    return await make_tenant(rest, "acme")


async def seed(rest: Rest, tenant: Seeded, *messages: dict[str, object]) -> list[dict[str, object]]:
    result = await rest.post(f"/tenants/{tenant.name}/mailboxes/{tenant.user}/messages", list(messages))
    assert result.status == 201, result.body
    created: list[dict[str, object]] = result.json()
    return created


async def stored(rest: Rest, tenant: Seeded) -> list[dict[str, object]]:
    result = await rest.get(f"/tenants/{tenant.name}/mailboxes/{tenant.user}/messages")
    assert result.status == 200
    listing: list[dict[str, object]] = result.json()
    return listing


@pytest.fixture(scope="session")
def postgresql_dsn() -> Iterator[str]:
    """The URL of this test process's own PostgreSQL cluster (tests/store/pg.py), stopped at the end."""
    with postgresql_cluster() as url:
        yield url
