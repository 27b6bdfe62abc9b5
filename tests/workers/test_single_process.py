"""With `--workers 1` (the default) the server is its one worker: health lists it with this process's pid,
and every tenant's view says worker 0."""

from __future__ import annotations

import json
import os

import trio

from mockmail.api import create_app
from mockmail.config.settings import Settings
from mockmail.tenancy.registry import Registry
from mockmail.tenancy.service import Service


async def test_the_server_is_worker_0(nursery: trio.Nursery) -> None:
    registry: Registry = await nursery.start(Registry(Settings(api_port=0)).run)
    client = create_app(Service(registry)).test_client()
    created = await client.post("/api/v1/tenants", json={"name": "acme"})
    assert created.status_code == 201 and (await created.get_json())["worker"] == 0
    listed = await (await client.get("/api/v1/tenants")).get_json()
    assert [view["worker"] for view in listed] == [0]
    health = json.loads(await (await client.get("/api/v1/health")).get_data())
    assert health["workers"] == [{"id": 0, "pid": os.getpid(), "tenants": 1, "state": "up", "restarts": 0}]
    registry.shutdown()
