"""`Gateway` without worker processes: what it answers itself (a tenant whose worker is restarting, the
token checks, the internal routes), driven as an ASGI server drives it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mockmail.config.settings import Settings
from mockmail.tenancy.tokens import digest
from mockmail.workers.gateway import Gateway
from mockmail.workers.supervisor import WorkerPool

ADMIN = "admin-token-of-the-gateway-test"


async def call(
    gateway: Gateway, method: str, path: str, token: str | None = None
) -> tuple[int, dict[str, str], Any]:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await gateway(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, json.loads(body)


def gateway(tmp_path: Path, token: str | None = ADMIN) -> Gateway:
    pool = WorkerPool(Settings(workers=2, admin_token=token), tmp_path, None)
    pool.placement.load(1, ["acme"])
    return Gateway(pool.settings, pool)


async def test_a_tenant_on_a_restarting_worker_is_503_naming_it(tmp_path: Path) -> None:
    """The same type as a replica's tenant between owners: a client retries on one type."""
    status, headers, problem = await call(gateway(tmp_path), "GET", "/api/v1/tenants/acme/mailboxes", ADMIN)
    assert status == 503 and headers["retry-after"] == "1"
    assert headers["content-type"] == "application/problem+json"
    assert problem["type"] == "urn:mockmail:problem:tenant-unavailable" and problem["field"] == "tenant"
    assert problem["title"] == "Tenant unavailable"
    assert "'acme'" in problem["detail"] and "worker 1" in problem["detail"]
    assert problem["instance"] == "/api/v1/tenants/acme/mailboxes"


async def test_with_no_worker_up_other_calls_are_503_too(tmp_path: Path) -> None:
    status, headers, problem = await call(gateway(tmp_path), "GET", "/api/v1/openapi.yaml")
    assert status == 503 and problem["detail"] == "no worker is up; try again shortly"
    assert problem["type"] == "urn:mockmail:problem:worker-unavailable" and "field" not in problem
    assert headers["retry-after"] == "1"


async def test_tokens_are_checked_before_anything_is_forwarded(tmp_path: Path) -> None:
    front = gateway(tmp_path)
    status, headers, problem = await call(front, "GET", "/api/v1/tenants/acme")
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="mockmail"'
    assert problem["type"] == "urn:mockmail:problem:unauthorized"
    status, _, problem = await call(front, "GET", "/api/v1/tenants/acme", "not-a-token-of-this-server")
    assert status == 401 and "not valid here" in problem["detail"]
    front._known[digest("tenant-token")] = "other"  # as a worker would have said
    status, _, problem = await call(front, "GET", "/api/v1/tenants/acme", "tenant-token")
    assert status == 403 and problem["detail"] == "a tenant token reaches only its own tenant"
    status, _, problem = await call(front, "POST", "/api/v1/tenants", "tenant-token")
    assert status == 403 and problem["detail"] == "only the admin token creates tenants"


async def test_the_internal_routes_are_not_public(tmp_path: Path) -> None:
    status, _, problem = await call(gateway(tmp_path, None), "POST", "/internal/v1/principal")
    assert status == 404 and problem["title"] == "Not Found"
