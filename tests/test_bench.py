"""bench/: the load generator speaks correct POP3 (its sessions succeed and read whole messages) and the
report renders.  Nothing here looks at a clock: speed is measured by bench/run.py, never asserted."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import trio

from tests.conftest import Seeded, make_tenant
from tests.rest import Rest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import loadgen
import run as bench_run
from servers import mbox, message


async def seed_bench(rest: Rest, tenant: Seeded) -> list[int]:
    raws = [message(1, 2000), message(2, 70_000)]
    result = await rest.post(
        f"/tenants/{tenant.name}/mailboxes/{tenant.user}/messages",
        raw=mbox(raws),
        content_type="application/mbox",
    )
    assert result.status == 201
    return [int(m["size"]) for m in result.json()]


async def test_full_sessions_succeed(rest: Rest) -> None:
    tenant = await make_tenant(rest, "load", exclusive_sessions=False)  # as the benchmark creates it
    await seed_bench(rest, tenant)
    result = await trio.to_thread.run_sync(
        loadgen.sessions_worker, tenant.host, tenant.port, tenant.user, tenant.password, 3, 0.3
    )
    assert result.errors == 0
    assert len(result.latencies) >= 3


async def test_wrong_password_counts_as_errors(rest: Rest, tenant: Seeded) -> None:
    result = await trio.to_thread.run_sync(
        loadgen.sessions_worker, tenant.host, tenant.port, tenant.user, "nope", 1, 0.1
    )
    assert result.errors >= 1 and result.latencies == []


async def test_retr_reads_whole_messages(rest: Rest, tenant: Seeded) -> None:
    sizes = await seed_bench(rest, tenant)
    result = await trio.to_thread.run_sync(
        loadgen.retr_worker, tenant.host, tenant.port, tenant.user, tenant.password, 2, 0.1
    )
    retrs = len(result.latencies)
    stuffed_dots = message(2, 70_000).count(b"\n.")  # the wire form carries one more dot per such line
    assert result.octets == retrs * (sizes[1] + stuffed_dots + 3)  # + the final ".\r\n"


async def test_idle_sessions_open_and_answer(rest: Rest, tenant: Seeded) -> None:
    parent, child = multiprocessing.Pipe()

    def hold() -> None:
        loadgen.idle_worker(tenant.host, tenant.port, tenant.user, tenant.password, 20, child)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.to_thread.run_sync, hold)
        opened = await trio.to_thread.run_sync(parent.recv)
        assert opened == ("open", 1, 19)  # exclusive maildrop: only one login wins, the rest get IN-USE
        parent.send("noop")
        assert await trio.to_thread.run_sync(parent.recv) == ("noop", 1, 0)


def test_report_renders_and_judges_targets() -> None:
    mock = {
        "sessions_c16": {"sessions_per_s": 3000.0},
        "retr_1MiB": {"mb_per_s": 900.0},
        "retr_10MiB": {"mb_per_s": 900.0},
        "idle_10000": {"answered_noop": 10000, "memory_mb": 120.0},
        "rest": {"tenants_seconds": 1.0, "tenants_rss_mb": 100.0, "seed_bulk_json_per_s": 20000.0},
        "api_under_load": {"p99_ms": 5.0},
    }
    dove = {
        "sessions_c16": {"sessions_per_s": 1000.0},
        "retr_1MiB": {"mb_per_s": 500.0},
        "retr_10MiB": {"mb_per_s": 700.0},
    }
    table = bench_run.render({"mockmail": mock, "dovecot": dove})
    assert "| full sessions/s, c=16 | 3,000 /s | 1,000 /s | 3.00x |" in table
    verdicts = bench_run.verdicts({"mockmail": mock, "dovecot": dove})
    assert "| full sessions/s at c=16 >= 2.0x Dovecot | yes |" in verdicts
    assert "| RETR MB/s >= 1.5x Dovecot (1 MiB and 10 MiB) | NO |" in verdicts  # 900/700 is 1.29x
