"""Run poplib, Ruby Net::POP3 and curl against every fault knob and rewrite the reaction table in
docs/faults.md from what they did.  `python docs/reactions.py` (needs ruby and curl; about a minute).

Each client fetches and deletes two messages (one holds a lone `.` line) from a fresh mailbox with the
knob set; the cell says how the client ended and how many messages were left in the mailbox after it.
A row in `SHAPES` seeds its own message instead, on a compliant server: the shape is the fault.
"""

from __future__ import annotations

import json
import poplib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from servers import Api, free_port, wait_for_port  # noqa: E402

from mockmail.client import long_line_message  # noqa: E402

KNOBS: dict[str, dict[str, object]] = {
    "quit drop (commit)": {"quit": {"reply": "drop"}},
    "quit hang": {"quit": {"reply": "hang"}},
    "size_format go-float": {"size_format": {}},
    "state_machine lax": {"state_machine": {}},
    "line_endings lf": {"line_endings": {}},
    "dot_stuffing none": {"dot_stuffing": {}},
    "terminator missing": {"terminator": {}},
    "octet_counts off-by-lf": {"octet_counts": {}},
    "uidl unstable": {"uidl": {"mode": "unstable"}},
    "uidl absent": {"uidl": {"mode": "absent"}},
    "capa absent": {"capa": {"mode": "absent"}},
    "capa overclaims": {"capa": {"mode": "overclaims"}},
    "greeting err": {"greeting": {"mode": "err"}},
    "greeting garbage": {"greeting": {"mode": "garbage"}},
    "latency 50 ms": {"transport": [{"kind": "latency", "ms": 50}]},
    "bandwidth 20000 B/s": {"transport": [{"kind": "bandwidth", "bytes_per_second": 20000}]},
    "slicer 1 octet": {"transport": [{"kind": "slicer", "size": 1}]},
    "truncate_retr after 100": {"transport": [{"kind": "truncate_retr", "after_bytes": 100}]},
    "reset on RETR": {"transport": [{"kind": "reset", "command": "RETR"}]},
    "stall on RETR": {"transport": [{"kind": "stall", "command": "RETR"}]},
    "close_after 3 commands": {"transport": [{"kind": "close_after", "commands": 3}]},
    "reply -ERR [SYS/TEMP] to RETR": {"replies": [{"command": "RETR", "line": "-ERR [SYS/TEMP] try later"}]},
    "reply -ERR [IN-USE] to PASS": {"replies": [{"command": "PASS", "line": "-ERR [IN-USE] locked"}]},
    "profile mailpit-legacy": {"profile": "mailpit-legacy"},
    "profile pop3-pipelining-first-only": {"profile": "pop3-pipelining-first-only"},
    "bare_ok": {"bare_ok": {}},
    "top whole": {"top": {"mode": "whole"}},
    "top err": {"top": {"mode": "err"}},
    "long line 4096 octets (seeded)": {},
}
SHAPES: dict[str, bytes] = {"long line 4096 octets (seeded)": long_line_message(4096)}
"""Rows that seed this raw message (`mockmail.client` builds it) instead of `MESSAGES`."""
MESSAGES = [{"subject": "a", "text": "x\n.\ny"}, {"subject": "b", "text": "second"}]
START, END = "<!-- reactions:start -->", "<!-- reactions:end -->"


def with_poplib(port: int) -> str:
    pop = None
    try:
        pop = poplib.POP3("127.0.0.1", port, timeout=1)
        pop.user("u")
        pop.pass_("p")
        count = len(pop.list()[1])
        pop.uidl()
        for n in range(1, count + 1):
            pop.retr(n)
            pop.dele(n)
        pop.quit()
        return f"ok ({count} fetched)"
    except Exception as exc:  # the point is to record whatever the client raises
        return f"{type(exc).__name__}: {str(exc)[:50]}"
    finally:
        if pop is not None:
            pop.close()


def with_ruby(port: int) -> str:
    script = ROOT / "tests" / "clients" / "ruby" / "reaction.rb"
    out = subprocess.run(
        ["ruby", str(script), "127.0.0.1", str(port), "u", "p"], capture_output=True, text=True, timeout=30
    )
    return str(json.loads(out.stdout)["result"]) if out.stdout.strip() else f"no output: {out.stderr[:50]}"


CURL_PATIENCE = 10  # seconds: curl waits its own 120 s for a QUIT reply, whatever --max-time says


def with_curl(port: int) -> str:
    command = ["curl", "-sS", "--max-time", "2", "-u", "u:p", f"pop3://127.0.0.1:{port}/1"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=CURL_PATIENCE)
    except subprocess.TimeoutExpired:
        return f"still waiting after {CURL_PATIENCE} s"
    if done.returncode:
        return f"exit {done.returncode}: {done.stderr.decode().strip().removeprefix('curl: ')[:50]}"
    return f"exit 0, {len(done.stdout)} octets of RETR 1"


def observe(api: Api, tenant: str, plan: dict[str, object], raw: bytes | None = None) -> list[str]:
    """Run the three clients under `plan` on a new tenant (its mailbox seeded with `raw` when given);
    one table cell each."""
    port = api.call("POST", "/tenants", {"name": tenant})["pop3"]["port"]
    api.call("PUT", f"/tenants/{tenant}/mailboxes/u", {"password": "p"})
    cells = []
    for client in (with_poplib, with_ruby, with_curl):
        api.call("DELETE", f"/tenants/{tenant}/faults")
        api.call("DELETE", f"/tenants/{tenant}/mailboxes/u/messages")
        if raw is None:
            api.call("POST", f"/tenants/{tenant}/mailboxes/u/messages", MESSAGES)
        else:
            api.call(
                "POST", f"/tenants/{tenant}/mailboxes/u/messages", raw=raw, content_type="message/rfc822"
            )
        api.call("PUT", f"/tenants/{tenant}/faults", plan)
        outcome = client(port)
        left = len(api.call("GET", f"/tenants/{tenant}/mailboxes/u/messages"))
        cells.append(f"{outcome.replace('|', '/')} (left {left})")
    api.call("DELETE", f"/tenants/{tenant}")
    return cells


def essence(cell: str) -> str:
    """What a cell says without its details: the exception class or exit code, and what was left."""
    outcome, _, left = cell.rpartition(" (left ")
    head = outcome.split(":", 1)[0].split(",", 1)[0]
    return f"{head} (left {left}"


def read_table(start: str = START, end: str = END) -> dict[str, list[str]]:
    """A reaction table as docs/faults.md has it between its markers: knob -> its cells."""
    text = (ROOT / "docs" / "faults.md").read_text()
    table = text.partition(start)[2].partition(end)[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        rows[cells[0]] = cells[1:]
    return rows


def documented() -> dict[str, list[str]]:
    """The POP3 reaction table: knob -> its three cells."""
    return read_table()


def write_table(
    header: list[str],
    plans: dict[str, dict[str, object]],
    observe_one: Callable[[Api, str, str], list[str]],
    prefix: str,
    start: str = START,
    end: str = END,
) -> None:
    """Start a server, observe every row (`observe_one(api, tenant, row name)`), and write the table
    between the markers of docs/faults.md."""
    api_port = free_port()
    command = [
        sys.executable,
        "-m",
        "mockmail.main",
        "serve",
        "--api-port",
        str(api_port),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT)
    rows = []
    try:
        wait_for_port(api_port)
        api = Api(api_port)
        for index, name in enumerate(plans):
            rows.append(f"| {name} | " + " | ".join(observe_one(api, f"{prefix}{index}", name)) + " |")
            print(rows[-1], flush=True)
    finally:
        server.terminate()
        server.wait()
    table = "\n".join(["| knob | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|", *rows])
    doc = ROOT / "docs" / "faults.md"
    text = doc.read_text()
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    doc.write_text(f"{head}{start}\n{table}\n{end}{tail}")


def main() -> int:
    header = ["poplib", "Ruby Net::POP3", "curl (`pop3://.../1`)"]
    write_table(
        header, KNOBS, lambda api, tenant, row: observe(api, tenant, KNOBS[row], SHAPES.get(row)), "k"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
