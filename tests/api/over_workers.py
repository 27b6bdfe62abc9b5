"""The REST API suite against a real `mockmail serve --workers N` (`MOCKMAIL_API_WORKERS=N pytest tests/api`).

With that variable set, the `api` fixture is an `Api` over httpx to one server per test process (started
once, with the suite's default settings), and every tenant is deleted after each test.  Tests that need
what only an in-process app gives are left out at collection, by rule rather than by a list of names:
- they use the `registry` (the server's internals) or a controlled clock;
- their module or class sets its own `settings` (the shared server runs the suite's defaults);
- their file starts servers of its own or checks the app object (`SELF_CONTAINED`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.workers.supervised import Supervised, supervised

from .conftest import Api  # imported at the end of conftest, once these exist

__all__ = ["WORKERS", "deselect", "fixtures"]

WORKERS = int(os.environ.get("MOCKMAIL_API_WORKERS", "0") or 0)
SELF_CONTAINED = frozenset(
    {"test_keepalive.py", "test_schemathesis.py", "test_openapi.py", "test_capacity.py"}
)
IN_PROCESS_ONLY = frozenset({"registry", "autojump_clock", "mock_clock"})
DEFAULT_ARGS = ("--max-message-size", "65536", "--max-request-size", "262144")
"""The suite's default `Settings` (tests/api/conftest.py) as options."""


class HttpApi(Api):
    """`Api` over a real HTTP connection; every response is still checked against the contract."""

    async def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, Any, bytes]:
        response = await self._client.request(method, path, content=body, headers=headers)
        return response.status_code, response.headers.get("content-type", ""), response.headers, response.content


def deselect(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the tests that cannot run against a server in other processes (see the module)."""
    kept, dropped = [], []
    for item in items:
        if "tests/api/" not in item.nodeid and not item.nodeid.startswith("api/"):
            kept.append(item)
            continue
        names = set(getattr(item, "fixturenames", ()))
        info = getattr(item, "_fixtureinfo", None)
        settings = info.name2fixturedefs.get("settings") if info is not None else None
        own_settings = settings is not None and len(settings) > 1  # overridden below the conftest
        if (
            item.nodeid.split("::")[0].rsplit("/", 1)[-1] in SELF_CONTAINED
            or names & IN_PROCESS_ONLY
            or own_settings
        ):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


class SharedServer:
    """The test process's server; started again when a test leaves a tenant it cannot delete (one whose
    `api_rps` the test spent refuses the DELETE with 429)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stack = ExitStack()
        self.url = self._start()

    def _start(self) -> str:
        server: Supervised = self._stack.enter_context(
            supervised(self.folder, *DEFAULT_ARGS, workers=WORKERS)
        )
        return server.url

    def restart(self) -> None:
        self._stack.close()  # SIGTERM: exit 0 and no worker left, or the test fails
        self._stack = ExitStack()
        self.url = self._start()

    def close(self) -> None:
        self._stack.close()


def fixtures() -> tuple[Any, Any]:
    """The `workers_server` (session) and `api` fixtures of this mode."""

    @pytest.fixture(name="workers_server", scope="session")
    def _workers_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedServer]:
        shared = SharedServer(tmp_path_factory.mktemp("workers"))
        yield shared
        shared.close()

    @pytest.fixture(name="api")
    async def _api(settings: Any, workers_server: SharedServer) -> AsyncIterator[Api]:
        async with httpx.AsyncClient(base_url=workers_server.url, timeout=60) as client:
            yield HttpApi(client)
            left = [view["name"] for view in (await client.get("/api/v1/tenants")).json()]
            deleted = [(await client.delete(f"/api/v1/tenants/{name}")).status_code for name in left]
        if any(status != 204 for status in deleted):
            workers_server.restart()

    return _workers_server, _api
