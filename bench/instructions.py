"""Instructions per POP3 session, counted by valgrind: a before/after figure that machine noise cannot move.

The load benchmark (run.py) varies by about 15% from run to run on a shared 2-core machine, which hides
the few percent a refactor can cost.  This counts CPU instructions instead (callgrind), for one fixed
script run in-process over trio memory streams: USER, PASS, STAT, LIST, UIDL, RETR 1, QUIT against a
mailbox of 20 messages of 1 to 4 KiB, SESSIONS times, minus the same process with no session (start-up,
imports, seeding).  The same code gives the same count within a fraction of a percent, whatever else the
machine is doing.

    python bench/instructions.py            # prints instructions per session
    python bench/instructions.py --sessions 400
    git worktree add /tmp/before HEAD~3 && python bench/instructions.py --root /tmp/before

Measure before and after a change on the same machine and Python; the ratio is the figure.  It needs
valgrind (`apt-get install -y valgrind`) and takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import sys, trio, trio.testing
sys.path.insert(0, {root!r})
try:
    from mockmail.store import MemoryStore as Store
except ImportError:  # a checkout from before mockmail/store/
    from mockmail.mailbox import Store
try:
    from mockmail.server.driver import SessionConfig
    from mockmail.server.pop3_session import Pop3Session
except ImportError:  # a checkout from before the driver/handler split
    from mockmail.server.connection import Pop3Session, SessionConfig

store = Store()
box, _ = store.put("bench", "pw")
for i in range(20):
    box.add(b"Subject: m%d\r\nFrom: a@example.com\r\n\r\n" % i + b"x" * (1024 * (1 + i % 4)) + b"\r\n")
config = SessionConfig(exclusive_sessions=False)
SCRIPT = b"USER bench\r\nPASS pw\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nQUIT\r\n"

async def one() -> None:
    client, server = trio.testing.memory_stream_pair()
    session = Pop3Session(server, store, config)
    async def serve() -> None:
        await session.run()
        await server.aclose()  # the listener's handler closes the stream when the session ends

    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        await client.send_all(SCRIPT)
        while await client.receive_some(65536):
            pass
    assert session.end_reason == "quit", session.end_reason

async def main(n: int) -> None:
    for _ in range(n):
        await one()

trio.run(main, int(sys.argv[1]))
"""


def count(sessions: int, root: Path = ROOT) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            SCRIPT.format(root=str(root)),
            str(sessions),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},  # set and dict order, hence the count, stay the same
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"valgrind printed no instruction count:\n{done.stderr[-2000:]}")
    return int(found[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the checkout to measure (a worktree of the commit before)"
    )
    args = parser.parse_args()
    base, loaded = count(0, args.root), count(args.sessions, args.root)
    per = (loaded - base) / args.sessions
    print(
        f"{per:,.0f} instructions per POP3 session ({args.sessions} sessions, start-up {base:,} subtracted)"
    )


if __name__ == "__main__":
    main()
