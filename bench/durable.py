"""The durable rows of bench/scale.py: SMTP pipelined messages/s with the PostgreSQL store and with
`--data-dir` (SQLite), each with group commit and with a commit a message (bench/commit_each.py), beside
mockmail without a store (what the rest of the server allows) and aiosmtpd in the same run; and durable bulk seeding over REST on PostgreSQL.

Every server is started once and kept for the whole phase; the configurations are measured in turn,
`rounds` times, the order turning each round, and the median is kept.  Each server has its own store
(its own PostgreSQL database, its own data dir), and its mailbox is emptied after every measurement.
"""

from __future__ import annotations

import multiprocessing
import statistics
import subprocess
import sys
from collections.abc import Callable
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

from run import seed_bulk
from servers import Mockmail, free_port, wait_for_port
from smtp import AIOSMTPD, worker

__all__ = ["SMTP_CONFIGS", "seeding", "smtp_pipelined"]

HERE = Path(__file__).resolve().parent
COMMIT_EACH = (str(HERE / "commit_each.py"),)
CONNECTIONS, SIZE, PROCESSES = 16, 1024, 2


def load(pool: Pool, port: int, seconds: float) -> dict[str, float]:
    """bench/smtp.py's `load` (pipelined, 16 connections over two processes) on a pool started once."""
    share = CONNECTIONS // PROCESSES
    results = pool.starmap(worker, [(port, SIZE, "pipelined", share, seconds)] * PROCESSES)
    return {
        "messages_per_s": sum(r.messages for r in results) / seconds,
        "errors": float(sum(r.errors for r in results)),
    }


SMTP_CONFIGS = (
    "postgresql, group commit",
    "postgresql, a commit a message",
    "data-dir, group commit",
    "data-dir, a commit a message",
    "memory",
    "aiosmtpd",
)


class _Mock:
    """A mockmail server with the `bench` tenant and its mailbox `u` (no messages)."""

    def __init__(self, *options: str, entry: tuple[str, ...] = ("-m", "mockmail.main")) -> None:
        self.server = Mockmail(*options, seed=False, entry=entry)
        self.api = self.server.api
        view = self.api.call("POST", "/tenants", {"name": "bench", "exclusive_sessions": False})
        self.port = int(view["smtp"]["port"])
        self.api.call("PUT", "/tenants/bench/mailboxes/u", {"password": "p"})

    def measure(self, pool: Pool, seconds: float) -> dict[str, float]:
        figures = load(pool, self.port, seconds)
        self.api.call("DELETE", "/tenants/bench/mailboxes/u/messages")
        return figures

    def stop(self) -> None:
        self.server.stop()


class _Aiosmtpd:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-c", AIOSMTPD, str(self.port)])
        try:
            wait_for_port(self.port)
        except BaseException:
            self.stop()
            raise

    def measure(self, pool: Pool, seconds: float) -> dict[str, float]:
        return load(pool, self.port, seconds)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def smtp_pipelined(
    database: Callable[[], str], folder: Path, seconds: float, rounds: int
) -> dict[str, dict[str, Any]]:
    """SMTP pipelined messages/s (1 KiB, 16 connections) of every configuration in SMTP_CONFIGS.

    Args:
        database: makes an empty PostgreSQL database and returns its URL.
        folder: where the data dirs go.
    """
    starts: dict[str, Callable[[], _Mock | _Aiosmtpd]] = {
        SMTP_CONFIGS[0]: lambda: _Mock("--store", database()),
        SMTP_CONFIGS[1]: lambda: _Mock("--store", database(), entry=COMMIT_EACH),
        SMTP_CONFIGS[2]: lambda: _Mock("--data-dir", str(folder / "group")),
        SMTP_CONFIGS[3]: lambda: _Mock("--data-dir", str(folder / "each"), entry=COMMIT_EACH),
        SMTP_CONFIGS[4]: _Mock,
        SMTP_CONFIGS[5]: _Aiosmtpd,
    }
    servers: dict[str, _Mock | _Aiosmtpd] = {}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in SMTP_CONFIGS}
    try:
        with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
            for name, start in starts.items():
                servers[name] = start()
                servers[name].measure(pool, min(1.0, seconds))  # warm-up, not counted
            for r in range(rounds):
                turn = r % len(SMTP_CONFIGS)
                for name in SMTP_CONFIGS[turn:] + SMTP_CONFIGS[:turn]:
                    runs[name].append(servers[name].measure(pool, seconds))
                    print(f"  smtp {name}: {runs[name][-1]['messages_per_s']:,.0f} msg/s", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return {
        name: {
            "median": statistics.median(run["messages_per_s"] for run in each),
            "runs": [round(run["messages_per_s"]) for run in each],
            "errors": sum(run["errors"] for run in each),
        }
        for name, each in runs.items()
    }


def seeding(store: str, messages: int, rounds: int) -> dict[str, dict[str, Any]]:
    """Durable bulk seeding over REST on the PostgreSQL store (group commit): `messages` 1 KiB messages in
    JSON arrays and in mbox files of 1,000 a request (bench/run.py's seed_bulk), `rounds` times."""
    mock = _Mock("--store", store)
    try:
        seed_bulk(mock.api, 1000)  # warm-up, not counted
        runs = [seed_bulk(mock.api, messages) for _ in range(rounds)]
    finally:
        mock.stop()
    return {
        kind: {
            "median": statistics.median(run[kind] for run in runs),
            "runs": [round(run[kind]) for run in runs],
        }
        for kind in ("json", "mbox")
    }
