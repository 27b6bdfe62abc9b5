"""The app from `create_app(Service(registry))`, driven through Quart's test client; every response is checked
against openapi.yaml."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import trio

from mockmail.api import create_app
from mockmail.config.settings import Settings
from mockmail.tenancy.registry import Registry
from mockmail.tenancy.service import Service

from .contract import check_response


@dataclass
class ApiResponse:
    status: int
    content_type: str
    headers: Any  # werkzeug Headers: case-insensitive
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Api:
    """A test client that checks each response against the contract before handing it back."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        headers = dict(headers or {})
        body = data
        if payload is not None:
            body = json.dumps(payload).encode()
            headers.setdefault("Content-Type", "application/json")
        status, content_type, got_headers, raw = await self._send(method, path, body, headers)
        check_response(method, path, status, content_type, raw)
        return ApiResponse(status, content_type.split(";")[0].strip(), got_headers, raw)

    async def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, Any, bytes]:
        """The request as the app gets it: (status, content type, headers, body) of its answer."""
        response = await self._client.open(path, method=method, data=body, headers=headers)
        return response.status_code, response.content_type or "", response.headers, await response.get_data()

    async def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, payload: Any = None, **kwargs: Any) -> ApiResponse:
        return await self.call("POST", path, payload, **kwargs)

    async def put(self, path: str, payload: Any = None, **kwargs: Any) -> ApiResponse:
        return await self.call("PUT", path, payload, **kwargs)

    async def delete(self, path: str) -> ApiResponse:
        return await self.call("DELETE", path)

    async def delete_as(self, path: str, headers: dict[str, str]) -> ApiResponse:
        return await self.call("DELETE", path, headers=headers)


@pytest.fixture(name="settings")
def _settings() -> Settings:
    return Settings(api_port=0, max_message_size=64 * 1024, max_request_size=256 * 1024)


@pytest.fixture(name="registry")
async def _registry(nursery: trio.Nursery, settings: Settings) -> AsyncIterator[Registry]:
    registry: Registry = await nursery.start(Registry(settings).run)
    yield registry
    registry.shutdown()


@pytest.fixture(name="api")
def _api(registry: Registry) -> Api:
    return Api(create_app(Service(registry)).test_client())


def problem(response: ApiResponse, status: int, field: str | None = None) -> dict[str, Any]:
    """Assert an RFC 9457 problem document with this status (and field) and return it."""
    assert response.status == status, response.body
    assert response.content_type == "application/problem+json"
    doc: dict[str, Any] = response.json()
    assert doc["status"] == status
    assert doc["type"].startswith("urn:mockmail:problem:")
    assert doc["title"] and doc["detail"]
    if field is not None:
        assert doc.get("field") == field, doc
    return doc


# MOCKMAIL_API_WORKERS=N: the same tests against a real `mockmail serve --workers N` (see over_workers.py).
from . import over_workers  # noqa: E402 - needs Api, defined above

if over_workers.WORKERS:
    _workers_server, _api = over_workers.fixtures()

    def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
        over_workers.deselect(config, items)
