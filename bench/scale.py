"""Past one core: full POP3 sessions/s over two tenants, `--workers 2` against `--workers 1`, beside the
physical limit of this machine (two bare trio processes with canned replies), each row in one run:

    python bench/scale.py                     # about a minute; prints the table
    python bench/scale.py --seconds 5 --rounds 3 --markdown bench/SCALE_RESULTS.md

The load: one load-generator process per tenant (bench/loadgen.py: connect, USER, PASS, STAT, LIST, UIDL,
RETR 1, QUIT, over and over, `--concurrency` connections each), both at once. The generators take their
share of the same cores as the servers, so the ceiling here is not 2x one process: two canned processes
loaded the same way (one generator each) against one canned process carrying both generators say what
the machine allows. Every configuration is measured `--rounds` times, in turn, and the median is kept.
Loopback only; every phase is bounded in time; each server is stopped before the next starts.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import WorkerResult, sessions_worker
from servers import PASSWORD, SESSION_MESSAGES, USER, Api, Canned, Mockmail, cpu_seconds, descendants, mbox

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


def measure(names: Sequence[str], concurrency: int, seconds: float, rounds: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for r in range(rounds):
        order = list(names[r % len(names) :]) + list(names[: r % len(names)])  # turn the order each round
        for name in order:
            target = CONFIGS[name]()
            try:
                load(target, concurrency, min(1.0, seconds))  # warm-up, not counted
                runs[name].append(load(target, concurrency, seconds))
            finally:
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


def ratios(figures: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(what, measured, goal) for the issue's two goals and the machine's own limit."""
    def m(name: str) -> float:
        return float(figures[name]["median"])

    return [
        ("--workers 2 / --workers 1", m("mockmail --workers 2") / m("mockmail --workers 1"), 1.15),
        ("--workers 2 / canned pair", m("mockmail --workers 2") / m("canned (a pair)"), 0.8),
        ("canned pair / one canned process (the machine's limit)", m("canned (a pair)") / m("canned (one process)"), 0),
    ]


def render(figures: dict[str, Any], concurrency: int, seconds: float, rounds: int) -> str:
    lines = [
        f"POP3 full sessions/s over two tenants, {concurrency} connections per tenant, "
        f"{seconds:g} s a phase, median of {rounds} round(s):",
        "",
        "| server | sessions/s | every round | errors | server CPU % | generators' CPU % |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, f in figures.items():
        lines.append(
            f"| {name} | {f['median']:,.0f} | {', '.join(f'{x:,}' for x in f['runs'])} | {f['errors']} "
            f"| {f['server_cpu_percent']:.0f} | {f['client_cpu_percent']:.0f} |"
        )
    if all(name in figures for name in CONFIGS):
        lines += ["", "| ratio | measured | goal |", "|---|---:|---:|"]
        for what, value, goal in ratios(figures):
            lines.append(f"| {what} | {value:.2f}x | {f'>= {goal:.2f}x' if goal else ''} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16, help="connections per tenant (default 16)")
    parser.add_argument("--only", default=",".join(CONFIGS), help="comma list of: " + ", ".join(CONFIGS))
    parser.add_argument("--markdown", type=Path, help="append the table, dated, to this file")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"--only: unknown {unknown}; choose from {list(CONFIGS)}")
    figures = measure(names, args.concurrency, args.seconds, args.rounds)
    table = render(figures, args.concurrency, args.seconds, args.rounds)
    print(table)
    if args.markdown:
        with args.markdown.open("a") as out:
            out.write(f"\n## {time.strftime('%Y-%m-%d %H:%M')} (`bench/scale.py`)\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
