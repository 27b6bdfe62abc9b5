"""bench/: the load generator speaks correct POP3 (its sessions succeed and read whole messages) and the
report renders.  Nothing here looks at a clock: speed is measured by bench/run.py, never asserted."""

from __future__ import annotations

import multiprocessing
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import trio

from tests.conftest import Seeded, make_tenant
from tests.rest import Rest
from tests.store.pg import fresh_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import canned
import loadgen
import run as bench_run
from servers import PASSWORD, SESSION_MESSAGES, USER, Canned, mbox, message


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


async def test_the_ceilings_canned_replies_are_the_sizes_mockmail_sends(rest: Rest) -> None:
    tenant = await make_tenant(rest, "ceiling", user=USER, password=PASSWORD, exclusive_sessions=False)
    seeded = await rest.post(
        f"/tenants/ceiling/mailboxes/{USER}/messages",
        raw=mbox(SESSION_MESSAGES),
        content_type="application/mbox",
    )
    assert seeded.status == 201
    mine = await trio.to_thread.run_sync(canned.record, tenant.port, tenant.host)
    theirs = canned.canned_sizes()
    assert set(mine) == set(theirs)
    # Every reply but the greeting, whose APOP challenge grows by a digit now and then, to the octet.
    assert {k: n for k, n in mine.items() if k != "greeting"} == {
        k: n for k, n in theirs.items() if k != "greeting"
    }
    assert abs(mine["greeting"] - theirs["greeting"]) <= 8


def test_the_canned_server_answers_full_sessions_with_its_table() -> None:
    server = Canned()
    try:
        assert canned.record(server.port) == canned.canned_sizes()
        result = loadgen.sessions_worker("127.0.0.1", server.port, USER, PASSWORD, 3, 0.3)
        assert result.errors == 0 and len(result.latencies) >= 3
        wrong = loadgen.sessions_worker("127.0.0.1", server.port, USER, "nope", 1, 0.1)
        assert wrong.errors >= 1 and wrong.latencies == []  # a line not in the table is an -ERR
    finally:
        server.stop()


def test_the_ceiling_table_renders_ratios_per_round() -> None:
    def run(per_s: float, per_cpu: float) -> dict[str, float]:
        return {"sessions_per_s": per_s, "sessions_per_cpu_s": per_cpu}

    results = {
        "mockmail": {
            "sessions_c16": run(900.0, 1800.0),
            "sessions_c16_rounds": [run(900.0, 1800.0), run(800.0, 1700.0)],
        },
        "canned": {
            "sessions_c16": run(1000.0, 2000.0),
            "sessions_c16_rounds": [run(1000.0, 2000.0), run(1000.0, 2125.0)],
        },
        "reply_octets": {"mockmail": {"a": 10, "b": 5}, "canned": {"a": 10, "b": 6}},
    }
    table = bench_run.ceiling(results)
    assert "| full sessions/s, c=16 | 900 /s | 1,000 /s | 0.90x |" in table
    assert "| full sessions per server CPU-second, c=16 | 1,800 /s | 2,000 /s | 0.90x |" in table
    assert "| sessions/s, c=16, each round | 900 / 800 | 1,000 / 1,000 | 0.90x / 0.80x |" in table
    assert "| octets sent per session | 15 | 16 | |" in table
    assert "c=64" not in table  # a concurrency not measured has no row
    assert bench_run.median_run([run(3.0, 0), run(1.0, 0), run(2.0, 0)])["sessions_per_s"] == 2.0


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


def test_the_imap_harness_runs_end_to_end(tmp_path: Path) -> None:
    """bench/imap.py in a tiny quick mode, mockmail alone: every phase ran and every session succeeded."""
    import json
    import subprocess

    out = tmp_path / "imap.json"
    bench = Path(__file__).resolve().parents[1] / "bench" / "imap.py"
    command = [sys.executable, str(bench), "--seconds", "0.5", "--concurrency", "1,2", "--samples", "5"]
    command += ["--idle", "10", "--no-dovecot", "--no-markdown", "--json", str(out)]
    subprocess.run(command, check=True, timeout=300, capture_output=True)
    results = json.loads(out.read_text())
    mock = results["mockmail"]
    for c in (1, 2):
        assert mock[f"sessions_c{c}"]["errors"] == 0 and mock[f"sessions_c{c}"]["sessions_per_s"] > 0
    assert mock["sessions_c1"]["octets_per_session"] > sum(map(len, SESSION_MESSAGES[:1]))  # BODY[] was read
    assert mock["exists"]["samples"] == 5 and mock["exists"]["timeouts"] == 0
    assert mock["idle_10"]["opened"] == 10 and mock["idle_10"]["answered_done"] == 10
    assert results["dovecot"] == {} and len(results["load_average"]["end"]) == 3


def test_the_imap_report_renders_ratios_and_targets() -> None:
    import imap as bench_imap

    def sessions(per_s: float) -> dict[str, float]:
        return {"sessions_per_s": per_s, "p50_ms": 1.0, "p99_ms": 2.0, "errors": 0}

    results = {
        "mockmail": {
            "sessions_c16": sessions(1500.0),
            "exists": {"p50_ms": 0.5, "p99_ms": 1.5, "samples": 200, "exists_before_250": 3},
            "idle_10000": {"memory_mb": 250.0, "answered_done": 10000, "opened": 10000},
        },
        "dovecot": {"sessions_c16": sessions(1200.0), "exists": {"p50_ms": 500.0, "samples": 20}},
    }
    table = bench_imap.render(results, [16], [10000])
    assert "| full sessions/s, c=16 | 1,500 /s | 1,200 /s | 1.25x |" in table
    assert "| 250 to IDLE EXISTS, samples (EXISTS read first) | 200 (3) | 20 (n/a) | |" in table
    targets = bench_imap.verdicts(results, [10000])
    assert "| full sessions/s at c=16 >= 1.5x Dovecot | 1.25x | NO |" in targets
    assert "| SMTP 250 to IDLE EXISTS p50 < 2 ms | 0.50 ms | yes |" in targets
    assert (
        "| 10,000 sessions in IDLE, all answering, < 200 MB RSS | 250 MB, 10,000 answered | NO |" in targets
    )


def test_the_scale_report_judges_every_goal() -> None:
    import scale_report

    def phase(runs: list[int], **more: float) -> dict[str, Any]:
        return {"median": statistics.median(runs), "runs": runs, "errors": 0, **more}

    cpu = {"server_cpu_percent": 90.0, "client_cpu_percent": 40.0}
    pop3 = {
        scale_report.W1: phase([1000, 1000, 800], **cpu),
        scale_report.W2: phase([1200, 1500, 1200], **cpu),  # 1.20, 1.50 and 1.50 of --workers 1
        scale_report.ONE: phase([1400, 1400, 1400], **cpu),
        scale_report.PAIR: phase([1600, 1600, 2400], **cpu),  # --workers 2 at 0.75, 0.94, 0.50 of it
    }
    smtp = {
        scale_report.PG_GROUP: phase([1500]),
        scale_report.PG_EACH: phase([1000]),
        scale_report.DIR_GROUP: phase([7000]),
        scale_report.DIR_EACH: phase([3000]),
        scale_report.MEMORY: phase([7500]),
        scale_report.AIOSMTPD: phase([2000]),
    }
    figures = {
        "meta": {
            "seconds": 3.0,
            "rounds": 1,
            "concurrency": 16,
            "messages": 10000,
            "load": {"pop3": (1.0, 2.0, 3.0)},
        },
        "pop3": pop3,
        "smtp": smtp,
        "seed": {"json": {"median": 12000.0, "runs": [12000]}, "mbox": {"median": 9000.0, "runs": [9000]}},
        "failover": {
            "2": {
                "pop3_s": {"median": 2.5, "max": 3.9, "runs": [2.5, 3.9]},
                "rest_s": {"median": 2.5, "max": 4.1, "runs": [2.5, 4.1]},
            },
        },
    }
    verdicts = {(g.row, g.reference): (g.ratio, g.met) for g in scale_report.goals(figures)}
    assert verdicts[(1, "1,000 (--workers 1)")] == ("1.50x (1.20, 1.50, 1.50)", True)
    assert verdicts[(1, "1,600 (canned pair)")] == ("0.75x (0.75, 0.94, 0.50)", False)
    assert verdicts[(2, "2,000 (aiosmtpd)")] == ("0.75x (0.75)", False)
    assert verdicts[(3, "3,290 (PERSISTENT_RESULTS.md)")] == ("2.13x", True)  # a fixed figure: no rounds
    assert verdicts[(3, "3,000 (a commit a message, this run)")] == ("2.33x (2.33)", True)
    assert [g.met for g in scale_report.goals(figures) if g.row == 4] == [True, False]
    assert [g.met for g in scale_report.goals(figures) if g.row == 5] == [True, False]  # 3.9 s and 4.1 s
    table = scale_report.render(figures)
    assert (
        "| 4 | REST bulk seeding msg/s on postgresql, mbox, 1,000 x 1 KiB a request | 9,000 | 10,000 (the goal) | 0.90x | >= 1.00x | **not met** |"
        in table
    )
    assert "| 2 | 2.5, 3.9 | 2.5, 4.1 |" in table
    assert "pop3 1.00, 2.00, 3.00" in table
    partial = scale_report.render({"meta": figures["meta"], "seed": figures["seed"]})
    assert "POP3" not in partial and "| 4 |" in partial  # a phase not run has no rows


def test_commit_each_makes_every_write_commit_at_once() -> None:
    """bench/commit_each.py turns group commit off: a write under `commit_units` leaves nothing unsettled
    (without it, the same write waits in the open unit)."""
    probe = """
import sys, trio
sys.path.insert(0, sys.argv[2])
if sys.argv[1] == "each":
    import commit_each
from mockmail.store.database import Database

async def main():
    db = Database(":memory:")
    async with trio.open_nursery() as nursery:
        await nursery.start(db.commit_units)
        with db.write():
            db.next_uidvalidity()
        print(db.unsettled)
        nursery.cancel_scope.cancel()

trio.run(main)
"""
    bench = str(Path(__file__).resolve().parents[1] / "bench")
    for mode, unsettled in (("each", "False"), ("group", "True")):
        done = subprocess.run(
            [sys.executable, "-c", probe, mode, bench], capture_output=True, text=True, timeout=60, check=True
        )
        assert done.stdout.split() == [unsettled], (mode, done.stderr)


def test_the_benchmarks_postgresql_commits_synchronously() -> None:
    import pg as bench_pg

    with bench_pg.cluster() as cluster:
        url = cluster.database()
        with psycopg.connect(url) as conn:
            settings = dict(
                conn.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN"
                    " ('synchronous_commit', 'fsync', 'listen_addresses')"
                ).fetchall()
            )
        assert settings == {"synchronous_commit": "on", "fsync": "off", "listen_addresses": ""}
        root = cluster.root
    assert not root.exists()


def test_failover_detection_sees_the_survivor_serve_the_tenant(postgresql_dsn: str) -> None:
    """bench/failover.py against a real pair of replicas with a 2 s lease: after `kill -9` of the owner it
    finds the survivor's POP3 greeting on a port of the survivor's range, the one its REST view names."""
    import failover

    base = random.randrange(20000, 40000, 100)
    with fresh_database(postgresql_dsn) as store:
        samples = failover.failover_samples(store, 2, 2, base)
    assert [s.pop3_port in range(base + 10, base + 20) for s in samples] == [True, False]  # to b, then to a
    assert samples[1].pop3_port in range(base, base + 10)
