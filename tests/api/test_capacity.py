"""`--max-tenants` and `--port-range`: running out is a clear problem document, never a crash."""

from __future__ import annotations

import os
import socket

import pytest

from mockmail.config.settings import Settings
from mockmail.protocols import LISTENERS

from .conftest import Api, problem


class TestMaxTenants:
    @pytest.fixture(name="settings")
    def _settings(self) -> Settings:
        return Settings(api_port=0, max_tenants=2)

    async def test_the_limit_is_409_and_a_deletion_frees_a_place(self, api: Api) -> None:
        for name in ("a1", "a2"):
            assert (await api.post("/api/v1/tenants", {"name": name})).status == 201
        doc = problem(await api.post("/api/v1/tenants", {"name": "a3"}), 409)
        assert "--max-tenants" in doc["detail"]
        assert (await api.delete("/api/v1/tenants/a1")).status == 204
        assert (await api.post("/api/v1/tenants", {"name": "a3"})).status == 201


def _free_block(size: int) -> range:
    """`size` consecutive ports that are free right now (probed by binding each).

    They lie below Linux's ephemeral range (32768 and up), where no port-0 bind of another test lands, and
    each xdist worker searches its own stretch, so parallel workers never share a block.
    """
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    first = 20000 + 1000 * (worker % 12)
    for start in range(first, first + 1000 - size, size + 1):
        block = range(start, start + size)
        socks = []
        try:
            for port in block:
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                socks.append(sock)
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return block
    raise AssertionError("no free block of ports")


PLAIN = [listener.name for listener in LISTENERS if not listener.implicit_tls]
"""The listeners a tenant opens without TLS (one per protocol)."""
BLOCK = _free_block(2 * len(PLAIN))


class TestPortRange:
    @pytest.fixture(name="settings")
    def _settings(self) -> Settings:
        return Settings(api_port=0, port_range=f"{BLOCK.start}-{BLOCK.stop - 1}")

    async def test_picked_ports_come_from_the_range_until_it_runs_out(self, api: Api) -> None:
        first = (await api.post("/api/v1/tenants", {"name": "p1"})).json()
        second = (await api.post("/api/v1/tenants", {"name": "p2"})).json()
        picked = [view[kind]["port"] for view in (first, second) for kind in PLAIN]
        assert sorted(picked) == list(BLOCK)  # a listener per protocol each: the whole range
        doc = problem(await api.post("/api/v1/tenants", {"name": "p3"}), 409)
        assert "no free port left in --port-range" in doc["detail"]
        explicit = await api.post("/api/v1/tenants", {"name": "p4", "pop3_port": 0, "smtp_port": 0})
        assert explicit.status == 409  # 0 means "the system picks": from the range, which is full
        assert (await api.delete("/api/v1/tenants/p1")).status == 204
        third = (await api.post("/api/v1/tenants", {"name": "p3"})).json()
        assert {third[kind]["port"] for kind in PLAIN} <= set(BLOCK)


@pytest.mark.parametrize("bad", ["0-10", "10-5", "1-70000", "abc"])
def test_a_bad_port_range_is_refused(bad: str) -> None:
    from mockmail.main import parse_settings

    with pytest.raises(SystemExit):
        parse_settings(["serve", "--port-range", bad], {})
