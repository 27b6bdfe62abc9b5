"""mockmail with `--data-dir` (SQLite) beside mockmail in memory and the references, in one run on one machine:

    python bench/persistent.py               # about three minutes; prints the table, rewrites PERSISTENT_RESULTS.md
    python bench/persistent.py --stored 20000 --no-dovecot

Figures:
- full POP3 sessions/s (connect, USER, PASS, STAT, LIST, UIDL, RETR 1, QUIT) at 16 and 64 connections: in
  memory, with `--data-dir`, with `--data-dir --fsync`, and Dovecot (its high-performance mode);
- SMTP messages/s (1 KiB, 16 connections, pipelined and one message per connection) in memory and with
  `--data-dir`, and aiosmtpd;
- durable bulk seeding over REST (JSON arrays and mbox files of 1,000 messages of 1 KiB): messages/s with
  `--data-dir` and with `--fsync` (each request is one commit, made before its 201);
- restart with `--stored` messages of 10 KiB (100,000 by default) kept: seconds from starting the process
  to `/api/v1/ready` answering 200 with the tenant serving, against the same start with an empty data
  dir, and the RSS of the restarted process before and after a POP3 login lists them all.
Loopback only; every phase is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import poplib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import WorkerResult, sessions_worker
from run import seed_bulk
from servers import PASSWORD, USER, Dovecot, Mockmail, free_port, mbox, message, wait_for_port
from smtp import AIOSMTPD, load

HERE = Path(__file__).resolve().parent
PROCESSES = 2


def sessions(port: int, concurrency: int, seconds: float) -> float:
    procs = min(PROCESSES, concurrency)
    shares = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    with multiprocessing.Pool(procs) as pool:
        results: list[WorkerResult] = pool.starmap(
            sessions_worker, [("127.0.0.1", port, USER, PASSWORD, share, seconds) for share in shares]
        )
    elapsed = max(r.elapsed for r in results)
    assert sum(r.errors for r in results) == 0, "sessions failed"
    return sum(len(r.latencies) for r in results) / elapsed


def pop3_phase(server: Any, seconds: float) -> dict[str, float]:
    return {f"c{c}": sessions(server.port, c, seconds) for c in (16, 64)}


def smtp_phase(mock: Mockmail, seconds: float) -> dict[str, float]:
    api = mock.api
    api.call("PUT", "/tenants/bench/mailboxes/u", {"password": "p"})
    port = api.call("GET", "/tenants/bench")["smtp"]["port"]
    out = {}
    for mode in ("pipelined", "connect"):
        out[mode] = load(port, 1024, mode, 16, seconds)["messages_per_s"]
        api.call("DELETE", "/tenants/bench/mailboxes/u/messages")
    return out


def aiosmtpd_phase(seconds: float) -> dict[str, float]:
    out = {}
    for mode in ("pipelined", "connect"):
        port = free_port()
        ref = subprocess.Popen([sys.executable, "-c", AIOSMTPD, str(port)])
        try:
            wait_for_port(port)
            out[mode] = load(port, 1024, mode, 16, seconds)["messages_per_s"]
        finally:
            ref.terminate()
            ref.wait()
    return out


def ready_seconds(mock: Mockmail, timeout: float = 120) -> float:
    """Seconds from the process start until `/api/v1/ready` answers 200."""
    deadline = time.perf_counter() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{mock.api_port}/api/v1/ready", timeout=5):
                return time.perf_counter() - mock.started
        except (urllib.error.URLError, ConnectionError):
            if time.perf_counter() > deadline:
                raise TimeoutError("not ready") from None
            time.sleep(0.005)


def restart_phase(folder: Path, stored: int) -> dict[str, float]:
    empty = Mockmail("--data-dir", str(folder / "empty"), seed=False)
    try:
        baseline = ready_seconds(empty)
    finally:
        empty.stop()
    data = folder / "full"
    mock = Mockmail("--data-dir", str(data), seed=False)
    try:
        mock.api.call("POST", "/tenants", {"name": "kept", "exclusive_sessions": False})
        mock.api.call("PUT", "/tenants/kept/mailboxes/box", {"password": PASSWORD})
        per_request = 500
        chunk = mbox([message(i, 10 * 1024) for i in range(per_request)])
        start = time.perf_counter()
        for _ in range(stored // per_request):
            mock.api.call(
                "POST", "/tenants/kept/mailboxes/box/messages", raw=chunk, content_type="application/mbox"
            )
        seeded = time.perf_counter() - start
        rss_memory_seeded = mock.memory()
    finally:
        mock.stop()
    size = sum(f.stat().st_size for f in data.iterdir())
    again = Mockmail("--data-dir", str(data), seed=False)
    try:
        restart = ready_seconds(again)
        port = again.api.call("GET", "/tenants/kept")["pop3"]["port"]
        rss_restarted = again.memory()
        pop = poplib.POP3("127.0.0.1", port, timeout=60)
        pop.user("box")
        pop.pass_(PASSWORD)
        count, _ = pop.stat()
        assert count == stored, count
        pop.retr(count)
        pop.quit()
        rss_listed = again.memory()
    finally:
        again.stop()
    return {
        "stored": stored,
        "seed_per_s": stored / seeded,
        "db_mb": size / 1e6,
        "ready_empty_s": baseline,
        "ready_full_s": restart,
        "rss_while_seeding_mb": rss_memory_seeded / 1e6,
        "rss_restarted_mb": rss_restarted / 1e6,
        "rss_after_login_mb": rss_listed / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--messages", type=int, default=10000, help="messages seeded per bulk phase")
    parser.add_argument("--stored", type=int, default=100_000, help="10 KiB messages kept for the restart")
    parser.add_argument("--no-dovecot", action="store_true")
    parser.add_argument("--no-markdown", action="store_true", help="do not rewrite PERSISTENT_RESULTS.md")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="mockmail-persist-") as tmp:
        folder = Path(tmp)
        for label, extra in (
            ("memory", ()),
            ("data-dir", ("--data-dir", str(folder / "a"))),
            ("data-dir --fsync", ("--data-dir", str(folder / "b"), "--fsync")),
        ):
            mock = Mockmail(*extra)
            try:
                results[label] = {"pop3": pop3_phase(mock, args.seconds)}
                if label != "data-dir --fsync":
                    results[label]["smtp"] = smtp_phase(mock, args.seconds)
                results[label]["seed"] = seed_bulk(mock.api, args.messages)
            finally:
                mock.stop()
            print(label, json.dumps(results[label]), flush=True)
        if shutil.which("dovecot") and not args.no_dovecot:
            folder.chmod(0o755)
            dovecot = Dovecot(folder / "dovecot")
            try:
                results["dovecot"] = {"pop3": pop3_phase(dovecot, args.seconds)}
            finally:
                dovecot.stop()
            print("dovecot", json.dumps(results["dovecot"]), flush=True)
        results["aiosmtpd"] = {"smtp": aiosmtpd_phase(args.seconds)}
        print("aiosmtpd", json.dumps(results["aiosmtpd"]), flush=True)
        results["restart"] = restart_phase(folder, args.stored)
        print("restart", json.dumps(results["restart"]), flush=True)
    table = render(results)
    print("\n" + table)
    if not args.no_markdown:
        (HERE / "PERSISTENT_RESULTS.md").write_text(
            "# Persistent figures (`bench/persistent.py`)\n\n"
            f"Measured {time.strftime('%Y-%m-%d')} on this repository's 2-core machine, {args.seconds:g} s a "
            "phase; every row of one table comes from one run.\n\n" + table + "\n"
        )
    return 0


def _n(value: float | None, unit: str = "") -> str:
    return "" if value is None else f"{value:,.0f}{unit}"


def _ratio(a: float | None, b: float | None) -> str:
    return "" if not a or not b else f"{a / b:.2f}x"


def render(r: dict[str, Any]) -> str:
    dove = r.get("dovecot", {}).get("pop3", {})
    rows = ["| figure | memory | --data-dir | --data-dir --fsync | reference | --data-dir / reference |"]
    rows.append("|---|---:|---:|---:|---:|---:|")
    for c in ("c16", "c64"):
        mem, disk, sync = (r[k]["pop3"][c] for k in ("memory", "data-dir", "data-dir --fsync"))
        rows.append(
            f"| POP3 full sessions/s, {c[1:]} connections | {_n(mem)} | {_n(disk)} | {_n(sync)} | "
            f"{_n(dove.get(c))} (Dovecot) | {_ratio(disk, dove.get(c))} |"
        )
    ref = r["aiosmtpd"]["smtp"]
    for mode, text in (("pipelined", "pipelined"), ("connect", "a connection per message")):
        mem, disk = r["memory"]["smtp"][mode], r["data-dir"]["smtp"][mode]
        rows.append(
            f"| SMTP messages/s, 1 KiB, 16 connections, {text} | {_n(mem)} | {_n(disk)} | | "
            f"{_n(ref[mode])} (aiosmtpd) | {_ratio(disk, ref[mode])} |"
        )
    for kind in ("json", "mbox"):
        mem, disk, sync = (r[k]["seed"][kind] for k in ("memory", "data-dir", "data-dir --fsync"))
        rows.append(
            f"| bulk seeding over REST, {kind}, 1,000 x 1 KiB a request: messages/s | {_n(mem)} | "
            f"{_n(disk)} | {_n(sync)} | | |"
        )
    rs = r["restart"]
    rows.append("")
    rows.append(f"Restart with {rs['stored']:,} messages of 10 KiB kept ({rs['db_mb']:,.0f} MB on disk):")
    rows.append("")
    rows.append("| figure | value |")
    rows.append("|---|---:|")
    rows.append(f"| seeding them (mbox, 500 a request): messages/s | {_n(rs['seed_per_s'])} |")
    rows.append(f"| process start to ready, empty data dir | {rs['ready_empty_s']:.2f} s |")
    rows.append(f"| process start to ready, {rs['stored']:,} messages kept | {rs['ready_full_s']:.2f} s |")
    rows.append(f"| RSS after the restart | {rs['rss_restarted_mb']:,.0f} MB |")
    rows.append(
        f"| RSS after a POP3 login lists them all and RETRs one | {rs['rss_after_login_mb']:,.0f} MB |"
    )
    rows.append(f"| RSS of the first process right after seeding | {rs['rss_while_seeding_mb']:,.0f} MB |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
