"""A tiny REST client for tests that talk to a real server over HTTP (stdlib only, run in a thread)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import trio


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _call(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> HttpResult:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return HttpResult(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return HttpResult(exc.code, dict(exc.headers), exc.read())


class Rest:
    """`await rest.post("/tenants", {"name": "acme"})` against one server."""

    def __init__(self, api_url: str, token: str | None = None) -> None:
        self.base = api_url.rstrip("/") + "/api/v1"
        self.token = token

    async def request(
        self, method: str, path: str, payload: Any = None, *, raw: bytes | None = None, content_type: str = ""
    ) -> HttpResult:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = raw
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        return await trio.to_thread.run_sync(_call, method, self.base + path, body, headers)

    async def get(self, path: str) -> HttpResult:
        return await self.request("GET", path)

    async def post(self, path: str, payload: Any = None, **kwargs: Any) -> HttpResult:
        return await self.request("POST", path, payload, **kwargs)

    async def put(self, path: str, payload: Any = None) -> HttpResult:
        return await self.request("PUT", path, payload)

    async def delete(self, path: str) -> HttpResult:
        return await self.request("DELETE", path)
