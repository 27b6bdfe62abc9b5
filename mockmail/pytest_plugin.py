"""The pytest plugin (entry point `pytest11`): a mockmail server for the session, a fresh tenant per test.

- `mockmail_server` (session): an in-process server (its own trio loop on a thread, port 0 everywhere,
  TLS with a self-signed CA), or the server at `--mockmail-url` / `MOCKMAIL_URL` with `--mockmail-token`
  / `MOCKMAIL_TOKEN`.
- `mail_tenant` (function): a `mockmail.client.Tenant` made for this test alone, named for the test and
  the xdist worker, deleted at teardown.  `@pytest.mark.mockmail(profile="mailpit-legacy", **knobs)` sets
  its fault plan before the test starts.
- `mockmail_trio_server` and `trio_mail_tenant`: the same for pytest-trio tests, the server running in
  the test's own nursery and the tenant an `AsyncTenant`.
- A failed test that used a tenant gets a report section with the tenant's POP3 and SMTP transcripts
  and, when its server outlives the test, the link to the tenant on the web page.

Imports of the server and the client wait for the first fixture that needs them, so the plugin costs
nothing in test runs that do not use it.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mockmail.client import AsyncClient, AsyncTenant, Client, Tenant

__all__ = ["MockmailServer", "MockmailTrioServer", "TenantRef", "tenant_name", "tenant_page"]

TENANT = pytest.StashKey["TenantRef"]()
TRANSCRIPTS = pytest.StashKey[str]()
"""A pytest-trio tenant's transcripts, read at teardown: its server is gone by the time of the report."""
NAME_MAX = 63


@dataclass(frozen=True)
class TenantRef:
    """Where a test's tenant lives, for the failure report (read with a client of its own)."""

    url: str
    token: str | None
    name: str


@dataclass
class MockmailServer:
    """The session's server: its `url`, the `token` used (None when the API is open), and a `client`."""

    url: str
    token: str | None
    client: Client

    def tenant(self, name: str, **fields: Any) -> Tenant:
        """Create a tenant on this server (`mail_tenant` does this for each test)."""
        return self.client.create_tenant(name, **fields)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockmail", "mockmail mail server")
    group.addoption(
        "--mockmail-url",
        default=None,
        help="use the mockmail server at this URL instead of one in-process [MOCKMAIL_URL]",
    )
    group.addoption(
        "--mockmail-token",
        default=None,
        help="bearer token for --mockmail-url (the admin token) [MOCKMAIL_TOKEN]",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockmail(profile=None, **knobs): the fault plan mail_tenant starts with (a preset and knobs)",
    )


def tenant_name(test: str, worker: str | None = None) -> str:
    """A tenant name for a test: the xdist worker, the test's name and a random suffix, in at most 63
    characters of `[a-z0-9-]`, e.g. `gw1-test-login-param-1-3f9a2c`."""
    suffix = secrets.token_hex(3)
    slug = re.sub(r"[^a-z0-9]+", "-", test.lower()).strip("-")
    prefix = re.sub(r"[^a-z0-9]+", "-", (worker or "main").lower()).strip("-") or "main"
    room = NAME_MAX - len(prefix) - len(suffix) - 2
    slug = slug[:room].strip("-") or "test"
    return f"{prefix}-{slug}-{suffix}"


def _worker() -> str | None:
    return os.environ.get("PYTEST_XDIST_WORKER")


def _plan(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    marker = request.node.get_closest_marker("mockmail")
    if marker is None:
        return None
    if marker.args:
        raise pytest.UsageError("@pytest.mark.mockmail takes keywords only: profile=..., knob=...")
    return dict(marker.kwargs)


@pytest.fixture(scope="session")
def mockmail_server(request: pytest.FixtureRequest) -> Iterator[MockmailServer]:
    """The session's mockmail server (in-process unless --mockmail-url / MOCKMAIL_URL is given)."""
    from mockmail.client import Client

    url = request.config.getoption("mockmail_url") or os.environ.get("MOCKMAIL_URL")
    token = request.config.getoption("mockmail_token") or os.environ.get("MOCKMAIL_TOKEN") or None
    if url:
        with Client(url, token) as client:
            client.get_health()  # fail here, not in each test, when the server is not there
            yield MockmailServer(url, token, client)
        return
    from mockmail.embedded import EmbeddedServer

    with EmbeddedServer(tls="auto") as server, Client(server.url) as client:
        yield MockmailServer(server.url, None, client)


@pytest.fixture
def mail_tenant(request: pytest.FixtureRequest, mockmail_server: MockmailServer) -> Iterator[Tenant]:
    """A fresh tenant for this test (with the `mockmail` marker's fault plan), deleted afterwards."""
    from mockmail.client import ApiError

    tenant = mockmail_server.tenant(tenant_name(request.node.name, _worker()))
    request.node.stash[TENANT] = TenantRef(mockmail_server.url, mockmail_server.token, tenant.name)
    try:
        plan = _plan(request)
        if plan is not None:
            tenant.faults.set(**plan)
        yield tenant
    finally:
        try:
            tenant.delete()
        except ApiError as exc:
            if exc.status != 404:  # the test may have deleted it itself
                raise


@dataclass
class MockmailTrioServer:
    """A server in the test's own nursery (pytest-trio), with an `AsyncClient`."""

    url: str
    client: AsyncClient
    running: Any
    """The server's `mockmail.main.Running`: its registry, and `stop` to end it early."""


@pytest.fixture
async def mockmail_trio_server(nursery: Any) -> AsyncIterator[MockmailTrioServer]:
    """pytest-trio: a mockmail server started in the test's nursery, stopped after it."""
    from mockmail.client import AsyncClient
    from mockmail.config.settings import Settings
    from mockmail.main import serve

    running = await nursery.start(serve, Settings(api_port=0, tls="auto", log_level="warning"))
    async with AsyncClient(running.api_url) as client:
        yield MockmailTrioServer(running.api_url, client, running)
    running.stop.set()


@pytest.fixture
async def trio_mail_tenant(
    request: pytest.FixtureRequest, mockmail_trio_server: MockmailTrioServer
) -> AsyncIterator[AsyncTenant]:
    """pytest-trio: a fresh `AsyncTenant` on `mockmail_trio_server` (with the `mockmail` marker's plan)."""
    import trio

    from mockmail.client import transcript_text

    tenant = await mockmail_trio_server.client.create_tenant(tenant_name(request.node.name, _worker()))
    request.node.stash[TENANT] = TenantRef(mockmail_trio_server.url, None, tenant.name)
    plan = _plan(request)
    if plan is not None:
        await tenant.faults.set(**plan)
    yield tenant  # the server, and the tenant with it, ends with the test
    with trio.CancelScope(shield=True), trio.move_on_after(10):  # also when the test failed
        request.node.stash[TRANSCRIPTS] = transcript_text(await tenant.sessions())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    ref = item.stash.get(TENANT, None)
    if ref is not None and report.when == "call" and report.failed:
        kept = item.stash.get(TRANSCRIPTS, None)  # a pytest-trio tenant's: its server is gone, and its page
        text = kept or f"web page: {tenant_page(ref)}\n{_fetch_transcripts(ref)}"
        report.sections.append((f"mockmail transcripts: tenant {ref.name}", text))
    return report


def tenant_page(ref: TenantRef) -> str:
    """The web page's address for the tenant: its mailboxes, mail, fault plan and live transcript."""
    from urllib.parse import quote

    return f"{ref.url.rstrip('/')}/#/t/{quote(ref.name, safe='')}"


def _fetch_transcripts(ref: TenantRef) -> str:
    from mockmail.client import Client, transcript_text

    try:
        with Client(ref.url, ref.token, timeout=10.0) as client:
            return transcript_text(client.tenant(ref.name).sessions())
    except Exception as exc:  # ApiError, httpx's: the report says why, and the test's own failure stands
        return f"(transcripts unavailable: {type(exc).__name__}: {exc})"
