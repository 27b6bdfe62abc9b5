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


async def test_the_smtp_load_generator_delivers_in_every_mode(rest: Rest) -> None:
    import smtp as bench_smtp

    tenant = await make_tenant(rest, "smtpload", user="u", password="p")  # the generator mails u@x.test
    sent = 0
    for mode in ("connect", "sequential", "pipelined"):
        result = await trio.to_thread.run_sync(bench_smtp.worker, tenant.smtp_port, 1024, mode, 2, 0.2)
        assert result.errors == 0 and result.messages >= 1, (mode, result)
        sent += result.messages
    stored = (await rest.get(f"/tenants/smtpload/mailboxes/{tenant.user}/messages")).json()
    assert len(stored) == sent  # every 250 the generator counted is a stored message
    assert all(m["subject"] == "bench" and m["size"] > len(bench_smtp.body(1024)) for m in stored)


def test_the_smtp_report_renders_targets() -> None:
    import smtp as bench_smtp

    figures = {"messages_per_s": 100.0, "mb_per_s": 10.0, "errors": 0.0}
    results = {"mockmail": {name: dict(figures) for name, *_ in bench_smtp.PHASES}, "aiosmtpd": {}}
    results["aiosmtpd"] = {
        name: {**figures, "messages_per_s": 50.0, "mb_per_s": 1.0} for name, *_ in bench_smtp.PHASES
    }
    table = bench_smtp.render(results, {"visible_at_first_stat": 1.0, "stat_after_250_ms_p50": 1.0})
    assert "| pipelined, c=16, 1 KiB | 100 msg/s | 50 msg/s | 2.00x |" in table
    assert "| pipelined sends at 16 connections >= 3x aiosmtpd | 2.00x | no |" in table
    assert "| 1 MiB messages >= 10x aiosmtpd's MB/s | 10.00x | yes |" in table
