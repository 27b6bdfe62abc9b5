"""A soak against a real `mockmail serve --data-dir` process. Hundreds of concurrent POP3 and SMTP
clients come and go: they QUIT, RSET, or drop the connection mid-command. Meanwhile messages are seeded
and deleted over REST. Afterwards nothing acknowledged is lost, nothing is stored twice, nothing
unacknowledged is half there, and the server's file descriptors, trio tasks and memory are back where they
were.

Bounded: `ROUNDS` rounds of `CLIENTS` clients of each protocol, on 127.0.0.1 only. The clients are trio
tasks speaking the protocols over raw sockets, so each can stop at any byte. A warm-up round fills the
transcript ring and the allocator before the baseline is taken.
"""

from __future__ import annotations

import random
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from tests.cli import call_json, serve_cli

ADMIN = "admin-token-for-the-soak-test"
CLIENTS = 200
ROUNDS = 4
POP_BOXES = 5


def call(base: str, method: str, path: str, payload: Any = None) -> Any:
    return call_json(f"{base}/api/v1{path}", ADMIN, method, payload)


class Lines:
    """A line reader over a trio stream."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                raise EOFError("closed")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    async def multiline(self) -> list[bytes]:
        lines = []
        while (line := await self.line()) != b".":
            lines.append(line)
        return lines

    async def command(self, text: str) -> bytes:
        await self.stream.send_all(text.encode() + b"\r\n")
        return await self.line()


@dataclass
class Ledger:
    sent: set[str] = field(default_factory=set)
    """SMTP messages whose 250 after DATA the client read."""
    popped: set[str] = field(default_factory=set)
    """UIDs deleted by a POP3 QUIT whose +OK the client read."""
    seeded: set[str] = field(default_factory=set)
    rest_deleted: set[str] = field(default_factory=set)


async def smtp_client(port: int, rng: random.Random, ledger: Ledger, tag: str) -> None:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        conn = Lines(stream)
        await conn.line()
        await stream.send_all(b"EHLO soak\r\n")
        while not (await conn.line()).startswith(b"250 "):
            pass
        for n in range(rng.randint(1, 4)):
            subject = f"{tag}-{n}"
            assert (await conn.command("MAIL FROM:<a@example.com>")).startswith(b"250")
            assert (await conn.command("RCPT TO:<in@example.com>")).startswith(b"250")
            fate = rng.random()
            if fate < 0.15:
                assert (await conn.command("RSET")).startswith(b"250")
                continue
            assert (await conn.command("DATA")).startswith(b"354")
            body = f"Subject: {subject}\r\n\r\n".encode() + b"soak line\r\n" * rng.randint(1, 200)
            if fate < 0.3:  # gone mid-DATA, before the final dot: nothing may be stored
                await stream.send_all(body[: rng.randint(0, len(body))])
                return
            await stream.send_all(body + b".\r\n")
            assert (await conn.line()).startswith(b"250")
            ledger.sent.add(subject)
        if rng.random() < 0.5:
            await conn.command("QUIT")


async def pop3_client(port: int, rng: random.Random, ledger: Ledger) -> None:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        conn = Lines(stream)
        await conn.line()
        await conn.command(f"USER pop-{rng.randrange(POP_BOXES)}")
        if not (await conn.command("PASS pw")).startswith(b"+OK"):
            return
        await stream.send_all(b"UIDL\r\n")
        assert (await conn.line()).startswith(b"+OK")
        listed = [line.split() for line in await conn.multiline()]
        marked = []
        for number, uid in rng.sample(listed, min(len(listed), rng.randint(0, 3))):
            await stream.send_all(b"RETR " + number + b"\r\n")
            if (await conn.line()).startswith(b"+OK"):
                await conn.multiline()
            if (await conn.command("DELE " + number.decode())).startswith(b"+OK"):
                marked.append(uid.decode())
        fate = rng.random()
        if fate < 0.2:
            await conn.command("RSET")
            marked = []
        elif fate < 0.4:
            return  # gone without QUIT: nothing it marked may be deleted
        if (await conn.command("QUIT")).startswith(b"+OK"):
            ledger.popped.update(marked)


def rest_worker(base: str, rng: random.Random, ledger: Ledger, tag: str) -> None:
    for n in range(10):
        user = f"pop-{rng.randrange(POP_BOXES)}"
        batch = [{"subject": f"{tag}-{n}-{i}", "uid": f"{tag}-{n}-{i}"} for i in range(rng.randint(1, 20))]
        call(base, "POST", f"/tenants/soak/mailboxes/{user}/messages", batch)
        ledger.seeded.update(m["uid"] for m in batch)
        listed = call(base, "GET", f"/tenants/soak/mailboxes/{user}/messages")
        for message in rng.sample(listed, min(len(listed), 3)):
            try:
                call(base, "DELETE", f"/tenants/soak/mailboxes/{user}/messages/{message['id']}")
                ledger.rest_deleted.add(message["uid"])
            except urllib.error.HTTPError as exc:  # a POP3 QUIT took it first
                assert exc.code == 404


async def one_round(base: str, view: dict[str, Any], seed: int, ledger: Ledger) -> None:
    rng = random.Random(seed)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            trio.to_thread.run_sync, rest_worker, base, random.Random(seed), ledger, f"r{seed}"
        )
        for i in range(CLIENTS):
            nursery.start_soon(
                smtp_client, view["smtp"]["port"], random.Random(rng.random()), ledger, f"s{seed}-{i}"
            )
            nursery.start_soon(pop3_client, view["pop3"]["port"], random.Random(rng.random()), ledger)


def figures(base: str, pid: int) -> tuple[int, int, int]:
    """The server's open descriptors, trio tasks and RSS, once every session has ended."""
    health = call(base, "GET", "/health")
    rss = int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) * 1024
    return health["open_files"], health["tasks"], rss


async def settle(base: str) -> None:
    """Wait (on the server's own count, bounded) until the sessions the clients left have all ended."""
    with trio.fail_after(60):
        while call(base, "GET", "/tenants/soak")["sessions"]:
            await trio.sleep(0.05)


async def test_soak(tmp_path: Path) -> None:
    with serve_cli(
        "--data-dir", str(tmp_path / "data"), "--admin-token", ADMIN, "--transcript-limit", "50"
    ) as cli:
        base = cli.url
        view = call(base, "POST", "/tenants", {"name": "soak", "exclusive_sessions": False})
        for user in ["in", *(f"pop-{i}" for i in range(POP_BOXES))]:
            call(base, "PUT", f"/tenants/soak/mailboxes/{user}", {"password": "pw"})
        warm = Ledger()
        await one_round(base, view, 0, warm)
        await settle(base)
        call(base, "DELETE", "/tenants/soak/mailboxes/in/messages")
        before = figures(base, cli.proc.pid)

        ledger = Ledger()
        ledger.seeded |= warm.seeded
        ledger.rest_deleted |= warm.rest_deleted
        ledger.popped |= warm.popped
        for seed in range(1, ROUNDS + 1):
            await one_round(base, view, seed, ledger)
        await settle(base)

        inbox = [m["subject"] for m in call(base, "GET", "/tenants/soak/mailboxes/in/messages")]
        assert len(inbox) == len(set(inbox))  # nothing stored twice
        assert set(inbox) == ledger.sent  # every 250 kept, nothing cut mid-DATA stored
        left = {
            m["uid"]
            for i in range(POP_BOXES)
            for m in call(base, "GET", f"/tenants/soak/mailboxes/pop-{i}/messages")
        }
        assert left == ledger.seeded - ledger.rest_deleted - ledger.popped

        call(base, "DELETE", "/tenants/soak/mailboxes/in/messages")
        for i in range(POP_BOXES):
            call(base, "DELETE", f"/tenants/soak/mailboxes/pop-{i}/messages")
        after = figures(base, cli.proc.pid)
        assert after[0] == before[0], f"file descriptors {before[0]} -> {after[0]}"
        # One task per HTTP connection lives until hypercorn sees the probe's previous connection close, so
        # a count may be one or two off either way; a leak of one task per session would be hundreds.
        assert after[1] <= before[1] + 2, f"trio tasks {before[1]} -> {after[1]}"
        assert after[2] <= before[2] * 1.10, f"RSS {before[2] / 1e6:.1f} MB -> {after[2] / 1e6:.1f} MB"
    print(
        f"soak: {ROUNDS} rounds x {CLIENTS} SMTP + {CLIENTS} POP3 clients; {len(ledger.sent)} messages "
        f"acknowledged and kept, {len(ledger.popped)} POP3 deletions, {len(ledger.seeded)} seeded; fds "
        f"{before[0]} -> {after[0]}, tasks {before[1]} -> {after[1]}, RSS {before[2] / 1e6:.1f} -> "
        f"{after[2] / 1e6:.1f} MB"
    )
