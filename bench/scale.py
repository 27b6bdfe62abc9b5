"""The scale benchmarks, every row in one run, with the goals of the scaling issue:

    python bench/scale.py                 # about three minutes; prints the table, rewrites SCALE_RESULTS.md
    python bench/scale.py --only pop3 --rounds 5     # one phase; a partial run leaves SCALE_RESULTS.md alone

Phases (`--only`, a comma list):
- `pop3`: full POP3 sessions/s over two tenants, `--workers 2` against `--workers 1`, beside the physical
  limit of this machine (two bare trio processes with canned replies; below);
- `smtp`: SMTP pipelined messages/s (1 KiB, 16 connections) with `--store postgresql` and with `--data-dir`,
  each with group commit and with a commit a message (bench/commit_each.py), and aiosmtpd (bench/durable.py);
- `seed`: durable bulk seeding over REST on PostgreSQL, JSON and mbox, 1,000 x 1 KiB a request;
- `failover`: `kill -9` of the replica owning a tenant to the survivor's POP3 greeting and REST view,
  with `--lease-seconds` 10 (the default) and `--short-lease` (bench/failover.py).
PostgreSQL is a private cluster started for the run (bench/pg.py: Unix socket only, synchronous commits,
`fsync` off unless `--pg-fsync`), removed at the end.

POP3, the load: one load-generator process per tenant (bench/loadgen.py: connect, USER, PASS, STAT, LIST, UIDL,
RETR 1, QUIT, over and over, `--concurrency` connections each), both at once. The generators take their
share of the same cores as the servers, so the ceiling here is not 2x one process: two canned processes
loaded the same way (one generator each) against one canned process carrying both generators say what
the machine allows.  Every configuration is started once and measured `--rounds` times, in turn (the
others idle), and the median is kept; a ratio is the median of the ratios of each round, whose phases
are seconds apart.
Loopback only; every phase is bounded in time; every server is stopped at the end of its phase.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pg
from durable import seeding, smtp_pipelined
from failover import failover_samples, summary
from loadgen import WorkerResult, sessions_worker
from scale_report import render, write_markdown
from servers import PASSWORD, SESSION_MESSAGES, USER, Api, Canned, Mockmail, cpu_seconds, descendants, mbox

HERE = Path(__file__).resolve().parent
TENANTS = ("scale-a", "scale-b")


class Target(Protocol):
    """Two POP3 endpoints under load, and the processes whose CPU time is theirs."""

    ports: tuple[int, int]

    def pids(self) -> list[int]: ...

    def stop(self) -> None: ...


class MockmailTarget:
    """`mockmail serve --workers N` with two tenants, each holding the benchmark's mailbox."""

    def __init__(self, workers: int) -> None:
        self.server = Mockmail("--workers", str(workers), seed=False)
        api: Api = self.server.api
        ports, self.placement = [], []
        for name in TENANTS:
            view = api.call("POST", "/tenants", {"name": name, "exclusive_sessions": False})
            ports.append(int(view["pop3"]["port"]))
            self.placement.append(view.get("worker"))
            api.call("PUT", f"/tenants/{name}/mailboxes/{USER}", {"password": PASSWORD})
            api.call(
                "POST",
                f"/tenants/{name}/mailboxes/{USER}/messages",
                raw=mbox(SESSION_MESSAGES),
                content_type="application/mbox",
            )
        self.ports = (ports[0], ports[1])
        if workers > 1 and len(set(self.placement)) != len(TENANTS):
            self.stop()
            raise RuntimeError(f"--workers {workers} placed both tenants on one worker: {self.placement}")

    def pids(self) -> list[int]:
        return descendants(self.server.proc.pid)

    def stop(self) -> None:
        self.server.stop()


class CannedTarget:
    """One canned process serving both generators, or one canned process each."""

    def __init__(self, processes: int) -> None:
        self.servers = [Canned() for _ in range(processes)]
        self.ports = (self.servers[0].port, self.servers[-1].port)

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.servers]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def load(target: Target, concurrency: int, seconds: float) -> dict[str, float]:
    """Both generators at once, one per port; sessions/s summed over them."""
    with multiprocessing.Pool(len(target.ports)) as pool:
        cpu0 = cpu_seconds(target.pids())
        results: list[WorkerResult] = pool.starmap(
            sessions_worker,
            [("127.0.0.1", port, USER, PASSWORD, concurrency, seconds) for port in target.ports],
        )
        server_cpu = cpu_seconds(target.pids()) - cpu0
    elapsed = max(r.elapsed for r in results)
    return {
        "sessions_per_s": sum(len(r.latencies) for r in results) / elapsed,
        "errors": sum(r.errors for r in results),
        "server_cpu_percent": 100 * server_cpu / elapsed,
        "client_cpu_percent": 100 * sum(r.cpu for r in results) / elapsed,
    }


CONFIGS: dict[str, Callable[[], Target]] = {
    "mockmail --workers 1": lambda: MockmailTarget(1),
    "mockmail --workers 2": lambda: MockmailTarget(2),
    "canned (one process)": lambda: CannedTarget(1),
    "canned (a pair)": lambda: CannedTarget(2),
}


def pop3(names: Sequence[str], concurrency: int, seconds: float, rounds: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    targets: dict[str, Target] = {}
    try:
        for name in names:  # all started once, idle while another is measured
            targets[name] = CONFIGS[name]()
            load(targets[name], concurrency, min(1.0, seconds))  # warm-up, not counted
        for r in range(rounds):
            order = list(names[r % len(names) :]) + list(names[: r % len(names)])  # turn the order each round
            for name in order:
                runs[name].append(load(targets[name], concurrency, seconds))
                print(f"  pop3 {name}: {runs[name][-1]['sessions_per_s']:,.0f} sessions/s", flush=True)
    finally:
        for target in targets.values():
            target.stop()
    return {
        name: {
            "median": statistics.median(run["sessions_per_s"] for run in each),
            "runs": [round(run["sessions_per_s"]) for run in each],
            "errors": sum(run["errors"] for run in each),
            "server_cpu_percent": statistics.median(run["server_cpu_percent"] for run in each),
            "client_cpu_percent": statistics.median(run["client_cpu_percent"] for run in each),
        }
        for name, each in runs.items()
    }


PHASES = ("pop3", "smtp", "seed", "failover")


def run(args: argparse.Namespace, phases: Sequence[str]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "meta": {
            "started": time.time(),
            "argv": sys.argv[1:],
            "seconds": args.seconds,
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "messages": args.messages,
            "pg_fsync": args.pg_fsync,
            "load": {},
        }
    }
    load_at = figures["meta"]["load"]
    if "pop3" in phases:
        load_at["pop3"] = os.getloadavg()
        figures["pop3"] = pop3(list(CONFIGS), args.concurrency, args.seconds, args.rounds)
    if not set(phases) & {"smtp", "seed", "failover"}:
        return figures
    with (
        pg.cluster(fsync=args.pg_fsync) as cluster,
        tempfile.TemporaryDirectory(prefix="mockmail-scale-") as tmp,
    ):
        if "smtp" in phases:
            load_at["smtp"] = os.getloadavg()
            figures["smtp"] = smtp_pipelined(cluster.database, Path(tmp), args.seconds, args.rounds)
        if "seed" in phases:
            load_at["seed"] = os.getloadavg()
            figures["seed"] = seeding(cluster.database(), args.messages, args.rounds)
        if "failover" in phases:
            load_at["failover"] = os.getloadavg()
            figures["failover"] = {}
            base = random.randrange(20000, 40000, 100)
            for i, (lease, samples) in enumerate(
                ((10.0, args.long_samples), (args.short_lease, args.short_samples))
            ):
                if not samples:
                    continue
                found = failover_samples(cluster.database(), lease, samples, base + 20 * i)
                figures["failover"][f"{lease:g}"] = summary(found)
                print(f"  failover, lease {lease:g} s: {figures['failover'][f'{lease:g}']}", flush=True)
    load_at["end"] = os.getloadavg()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PHASES), help="comma list of: " + ", ".join(PHASES))
    parser.add_argument("--seconds", type=float, default=3.0, help="length of a load phase (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every load phase (default 3)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="POP3 connections per tenant (default 16)"
    )
    parser.add_argument(
        "--messages", type=int, default=10_000, help="messages seeded a round (default 10,000)"
    )
    parser.add_argument(
        "--short-lease", type=float, default=2.0, help="the short --lease-seconds (default 2)"
    )
    parser.add_argument(
        "--long-samples", type=int, default=2, help="failovers with the 10 s lease (default 2)"
    )
    parser.add_argument(
        "--short-samples", type=int, default=4, help="failovers with the short lease (default 4)"
    )
    parser.add_argument("--pg-fsync", action="store_true", help="PostgreSQL syncs its WAL at every commit")
    parser.add_argument("--no-markdown", action="store_true", help="do not rewrite bench/SCALE_RESULTS.md")
    args = parser.parse_args()
    phases = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        parser.error(f"--only: unknown {unknown}; choose from {list(PHASES)}")
    figures = run(args, phases)
    figures["meta"]["load"].setdefault("end", os.getloadavg())
    table = render(figures)
    print("\n" + table)
    if not args.no_markdown and set(phases) == set(PHASES):
        write_markdown(HERE / "SCALE_RESULTS.md", table, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
