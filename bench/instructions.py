"""Instructions per POP3 session or SMTP message, counted by valgrind: a before/after figure that machine
noise cannot move.

The load benchmark (run.py) varies by about 15% from run to run on a shared 2-core machine, which hides
the few percent a refactor can cost.  This counts CPU instructions instead (callgrind), for one fixed
script run in-process over trio memory streams: USER, PASS, STAT, LIST, UIDL, RETR 1, QUIT against a
mailbox of 20 messages of 1 to 4 KiB, SESSIONS times, minus the same process with no session (start-up,
imports, seeding).  The same code gives the same count within a fraction of a percent, whatever else the
machine is doing.  With `--smtp SIZE` the script is one SMTP session: EHLO, then messages of SIZE octets
with MAIL, RCPT and DATA pipelined (as bench/smtp.py sends them), then QUIT; the figure is per message.
With `--imap` the script is bench/imap.py's full IMAP session (LOGIN, SELECT INBOX, FETCH 1:* (FLAGS
RFC822.SIZE), FETCH 1 BODY[], LOGOUT, each command sent once the previous one is answered, as the load
generator does) against the same 20 messages, with transcripts, metrics and fault plans on, as a tenant
of `mockmail serve` has them; the figure is per session.

    python bench/instructions.py            # prints instructions per session
    python bench/instructions.py --sessions 400
    python bench/instructions.py --smtp 1024      # instructions per pipelined 1 KiB SMTP message
    python bench/instructions.py --smtp 1048576   # ... per 1 MiB message
    python bench/instructions.py --imap           # instructions per full IMAP session
    python bench/instructions.py --data-dir       # POP3 (or --smtp SIZE) with the mailboxes in SQLite
    python bench/instructions.py --imap --tcp --sessions 60   # the server's alone, over loopback TCP
    git worktree add /tmp/before HEAD~3 && python bench/instructions.py --root /tmp/before

With `--imap --tcp` only the server runs under callgrind, as `mockmail serve` runs a session (listener,
TcpStream, driver), and the client (blocking sockets, one session after another) runs outside it: the
figure is the server's own work a session, without trio's memory streams or the client's.

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
{store_setup}try:
    from mockmail.server.driver import SessionConfig
    from mockmail.server.pop3_session import Pop3Session
except ImportError:  # a checkout from before the driver/handler split
    from mockmail.server.connection import Pop3Session, SessionConfig

store = {store}
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

import gc  # as `mockmail serve` does once it has started: start-up objects leave the collector's walk
gc.collect()
gc.freeze()
trio.run(main, int(sys.argv[1]))
"""


SMTP_SCRIPT = r"""
import sys, trio, trio.testing
sys.path.insert(0, {root!r})
from mockmail.store import MemoryStore as Store
from mockmail.server.driver import SessionConfig
from mockmail.server.smtp_session import SmtpPolicy, SmtpSession
{store_setup}
store = {store}
store.put("u", "p")
config = SessionConfig()
policy = SmtpPolicy(max_message_size=16 << 20)
head = b"From: bench@x.test\r\nTo: u@x.test\r\nSubject: bench\r\n\r\n"
line = b"x" * 76 + b"\r\n"
BODY = head + line * max(1, ({size} - len(head)) // len(line))

async def main(n: int) -> None:
    client, server = trio.testing.memory_stream_pair()
    session = SmtpSession(server, store, config, policy)
    async def serve() -> None:
        await session.run()
        await server.aclose()

    async def replies(count: int) -> None:
        buffered = b""
        while count:
            while b"\r\n" not in buffered:
                buffered += await client.receive_some(65536)
            line, _, buffered = buffered.partition(b"\r\n")
            if line[3:4] != b"-":
                count -= 1
        assert not buffered, buffered

    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        await replies(1)
        await client.send_all(b"EHLO bench\r\n")
        await replies(1)
        for _ in range(n):
            await client.send_all(b"MAIL FROM:<bench@x.test>\r\nRCPT TO:<u@x.test>\r\nDATA\r\n")
            await replies(3)
            await client.send_all(BODY)
            await client.send_all(b".\r\n")
            await replies(1)
            store.find("u").purge()
        await client.send_all(b"QUIT\r\n")
        await replies(1)
    assert session.end_reason == "quit", session.end_reason

import gc  # as `mockmail serve` does once it has started: start-up objects leave the collector's walk
gc.collect()
gc.freeze()
trio.run(main, int(sys.argv[1]))
"""


IMAP_SCRIPT = r"""
import sys, trio, trio.testing
sys.path.insert(0, {root!r})
from mockmail.faults import FaultState
from mockmail.observe.metrics import Metrics
from mockmail.observe.transcripts import TranscriptLog
from mockmail.server.driver import SessionConfig
from mockmail.server.imap_session import ImapSession
from mockmail.store import MemoryStore

store = MemoryStore()
box, _ = store.put("bench", "pw")
for i in range(20):
    box.add(b"Subject: m%d\r\nFrom: a@example.com\r\n\r\n" % i + b"x" * (1024 * (1 + i % 4)) + b"\r\n")
config = SessionConfig(
    exclusive_sessions=False, transcripts=TranscriptLog("bench"), metrics=Metrics(), faults=FaultState(), tenant="bench"
)
COMMANDS = (b"LOGIN bench pw", b"SELECT INBOX", b"FETCH 1:* (FLAGS RFC822.SIZE)", b"FETCH 1 BODY[]", b"LOGOUT")

async def one() -> None:
    client, server = trio.testing.memory_stream_pair()
    session = ImapSession(server, store, config, max_message_size=1 << 20)
    async def serve() -> None:
        await session.run()
        await server.aclose()

    async def until(end: bytes) -> None:
        buffered = b""
        while not buffered.endswith(end):
            buffered += await client.receive_some(65536)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        await until(b"\r\n")
        for n, command in enumerate(COMMANDS, 1):
            tag = b"a%d" % n
            await client.send_all(tag + b" " + command + b"\r\n")
            await until(b" completed\r\n" if n > 1 else b" logged in\r\n")
        while await client.receive_some(65536):
            pass
    assert session.end_reason == "quit", session.end_reason

async def main(n: int) -> None:
    for _ in range(n):
        await one()

import gc  # as `mockmail serve` does once it has started: start-up objects leave the collector's walk
gc.collect()
gc.freeze()
trio.run(main, int(sys.argv[1]))
"""


IMAP_TCP_SERVER = r"""
import sys, trio
sys.path.insert(0, {root!r})
from mockmail.faults import FaultState
from mockmail.observe.metrics import Metrics
from mockmail.observe.transcripts import TranscriptLog
from mockmail.server.driver import SessionConfig
from mockmail.server.imap_session import ImapSession
from mockmail.server.listener import bound_port, open_listener, serve_listener
from mockmail.store import MemoryStore

store = MemoryStore()
box, _ = store.put("bench", "pw")
for i in range(20):
    box.add(b"Subject: m%d\r\nFrom: a@example.com\r\n\r\n" % i + b"x" * (1024 * (1 + i % 4)) + b"\r\n")
config = SessionConfig(
    exclusive_sessions=False, transcripts=TranscriptLog("bench"), metrics=Metrics(), faults=FaultState(), tenant="bench"
)
wanted = int(sys.argv[1])

async def main() -> None:
    sock = await open_listener("127.0.0.1", 0)
    print(bound_port(sock), flush=True)
    done = 0
    async with trio.open_nursery() as nursery:
        async def handle(stream) -> None:
            nonlocal done
            try:
                await ImapSession(stream, store, config, max_message_size=1 << 20).run()
            finally:
                stream.close()
            done += 1
            if done >= wanted:
                nursery.cancel_scope.cancel()
        if wanted:
            nursery.start_soon(serve_listener, handle, sock)

import gc  # as `mockmail serve` does once it has started: start-up objects leave the collector's walk
gc.collect()
gc.freeze()
trio.run(main)
"""

IMAP_COMMANDS = (
    b"LOGIN bench pw",
    b"SELECT INBOX",
    b"FETCH 1:* (FLAGS RFC822.SIZE)",
    b"FETCH 1 BODY[]",
    b"LOGOUT",
)


def _imap_client(port: int, sessions: int) -> None:
    """bench/imap.py's full session, `sessions` times one after another, with blocking sockets."""
    import socket

    for _ in range(sessions):
        with socket.create_connection(("127.0.0.1", port)) as sock, sock.makefile("rb") as reader:
            reader.readline()
            for n, command in enumerate(IMAP_COMMANDS, 1):
                tag = b"a%d " % n
                sock.sendall(tag + command + b"\r\n")
                while not (line := reader.readline()).startswith(tag):
                    if line.endswith(b"}\r\n"):
                        reader.read(int(line[line.rindex(b"{") + 1 : -3]))
            reader.read()


def count_imap_tcp(sessions: int, root: Path = ROOT) -> int:
    """The server's instructions alone: it runs under callgrind, the client here, over loopback TCP."""
    server = subprocess.Popen(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            IMAP_TCP_SERVER.format(root=str(root)),
            str(sessions),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert server.stdout is not None
    port = int(server.stdout.readline())
    _imap_client(port, sessions)
    _, err = server.communicate()
    found = re.search(r"Collected : (\d+)", err)
    if found is None:
        raise SystemExit(f"valgrind printed no instruction count:\n{err[-2000:]}")
    return int(found[1])


SQLITE_SETUP = "import tempfile\nfrom mockmail.store import Database, SqliteStore\n"
"""What the scripts import when `--data-dir` puts the mailboxes in SQLite (a fresh temporary folder)."""
SQLITE_STORE = 'SqliteStore(Database(tempfile.mkdtemp()), "bench")'


def count(
    sessions: int,
    root: Path = ROOT,
    smtp_size: int | None = None,
    imap: bool = False,
    data_dir: bool = False,
) -> int:
    place = (
        {"store_setup": SQLITE_SETUP, "store": SQLITE_STORE}
        if data_dir
        else {"store_setup": "", "store": "Store()"}
    )
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            IMAP_SCRIPT.format(root=str(root))
            if imap
            else SCRIPT.format(root=str(root), **place)
            if smtp_size is None
            else SMTP_SCRIPT.format(root=str(root), size=smtp_size, **place),
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
    parser.add_argument(
        "--smtp", type=int, metavar="SIZE", help="count per SMTP message of SIZE octets instead"
    )
    parser.add_argument("--imap", action="store_true", help="count per full IMAP session instead")
    parser.add_argument(
        "--data-dir", action="store_true", help="POP3/SMTP: the mailboxes in SQLite (a temporary --data-dir)"
    )
    parser.add_argument(
        "--tcp",
        action="store_true",
        help="with --imap: count the server alone over loopback TCP (its listener, TcpStream and driver)",
    )
    args = parser.parse_args()
    if args.tcp:
        runs = args.sessions
        base, loaded = count_imap_tcp(0, args.root), count_imap_tcp(runs, args.root)
        print(
            f"{(loaded - base) / runs:,.0f} server instructions per full IMAP session over TCP"
            f" ({runs} of them, start-up {base:,} subtracted)"
        )
        return
    runs = args.sessions if args.smtp is None else max(10, args.sessions * 1024 // max(args.smtp, 1024))
    base = count(0, args.root, args.smtp, args.imap, args.data_dir)
    loaded = count(runs, args.root, args.smtp, args.imap, args.data_dir)
    per = (loaded - base) / runs
    what = (
        "full IMAP session"
        if args.imap
        else "POP3 session"
        if args.smtp is None
        else f"pipelined SMTP message of {args.smtp:,} octets"
    )
    print(f"{per:,.0f} instructions per {what} ({runs} of them, start-up {base:,} subtracted)")


if __name__ == "__main__":
    main()
