"""The IMAP load generator: IMAP clients in worker processes, each an asyncio (uvloop) event loop, in the
shape of loadgen.py (POP3); and the SMTP-250-to-IDLE-EXISTS probe.

Every worker reports its own CPU time, so a run where the client, not the server, was the limit shows.
"""

from __future__ import annotations

import asyncio
import time
from multiprocessing.connection import Connection

from loadgen import SESSION_TIMEOUT, WorkerResult, cpu_seconds, new_loop


class ImapError(Exception):
    pass


class ImapClient:
    """Just enough IMAP4rev1 for the benchmark: tagged commands, literals skipped over, IDLE."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.tags = 0
        self.octets = 0  # read so far, literals included

    @classmethod
    async def connect(cls, host: str, port: int) -> ImapClient:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 24)
        client = cls(reader, writer)
        greeting = await client.line()
        if not greeting.startswith(b"* OK"):
            raise ImapError(greeting)
        return client

    async def line(self) -> bytes:
        """One response line, with any literals it carries read and left out."""
        line = await self.reader.readuntil(b"\r\n")
        self.octets += len(line)
        while line.endswith(b"}\r\n"):
            size = int(line[line.rindex(b"{") + 1 : -3].rstrip(b"+"))
            await self.reader.readexactly(size)
            line = await self.reader.readuntil(b"\r\n")
            self.octets += size + len(line)
        return line

    async def cmd(self, command: bytes) -> list[bytes]:
        """Send `command` with a fresh tag; return the untagged lines; raise unless the completion is OK."""
        self.tags += 1
        tag = b"a%d " % self.tags
        self.writer.write(tag + command + b"\r\n")
        untagged = []
        while True:
            line = await self.line()
            if line.startswith(tag):
                if line[len(tag) : len(tag) + 3] != b"OK ":
                    raise ImapError(line)
                return untagged
            untagged.append(line)

    async def idle(self) -> bytes:
        """Enter IDLE; return the tag its completion will carry (after `done`)."""
        self.tags += 1
        tag = b"a%d " % self.tags
        self.writer.write(tag + b"IDLE\r\n")
        while True:
            line = await self.line()
            if line.startswith(b"+"):
                return tag
            if not line.startswith(b"*"):
                raise ImapError(line)

    async def done(self, tag: bytes) -> None:
        self.writer.write(b"DONE\r\n")
        while True:
            line = await self.line()
            if line.startswith(tag):
                if line[len(tag) : len(tag) + 3] != b"OK ":
                    raise ImapError(line)
                return

    def close(self) -> None:
        self.writer.close()


ERRORS = (
    OSError,
    ImapError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
    TimeoutError,
    ValueError,
)


async def full_session(host: str, port: int, user: bytes, password: bytes) -> int:
    """connect, LOGIN, SELECT INBOX, FETCH 1:* (FLAGS RFC822.SIZE), FETCH 1 BODY[], LOGOUT: octets read."""
    client = await ImapClient.connect(host, port)
    try:
        await client.cmd(b"LOGIN " + user + b" " + password)
        await client.cmd(b"SELECT INBOX")
        await client.cmd(b"FETCH 1:* (FLAGS RFC822.SIZE)")
        await client.cmd(b"FETCH 1 BODY[]")
        await client.cmd(b"LOGOUT")
        return client.octets
    finally:
        client.close()


def sessions_worker(
    host: str, port: int, user: str, password: str, concurrency: int, seconds: float
) -> WorkerResult:
    """Run `concurrency` loops of full IMAP sessions for `seconds`; `octets` is one session's."""
    result = WorkerResult()
    cpu0 = cpu_seconds()

    async def loop_sessions(deadline: float) -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                octets = await asyncio.wait_for(
                    full_session(host, port, user.encode(), password.encode()), SESSION_TIMEOUT
                )
            except ERRORS:
                result.errors += 1
                await asyncio.sleep(0.01)
                continue
            result.latencies.append(time.perf_counter() - start)
            result.octets = octets

    async def main() -> None:
        start = time.perf_counter()
        await asyncio.gather(*(loop_sessions(start + seconds) for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - start

    new_loop().run_until_complete(main())
    result.cpu = cpu_seconds() - cpu0
    return result


def idle_worker(host: str, port: int, user: str, password: str, count: int, pipe: Connection) -> None:
    """Open `count` sessions (LOGIN, SELECT INBOX, IDLE), report, hold them until told, then end each
    IDLE with DONE (its tagged OK is the answer counted) and report."""

    async def main() -> None:
        gate = asyncio.Semaphore(128)
        held: list[tuple[ImapClient, bytes]] = []
        failures = 0

        async def open_one() -> None:
            nonlocal failures
            async with gate:
                try:
                    client = await asyncio.wait_for(ImapClient.connect(host, port), 60)
                    await asyncio.wait_for(
                        client.cmd(b"LOGIN %s %s" % (user.encode(), password.encode())), 60
                    )
                    await asyncio.wait_for(client.cmd(b"SELECT INBOX"), 60)
                    held.append((client, await asyncio.wait_for(client.idle(), 60)))
                except ERRORS:
                    failures += 1

        await asyncio.gather(*(open_one() for _ in range(count)))
        pipe.send(("open", len(held), failures))
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)

        answered = 0

        async def done(client: ImapClient, tag: bytes) -> None:
            nonlocal answered
            async with gate:
                try:
                    await asyncio.wait_for(client.done(tag), 60)
                    answered += 1
                except ERRORS:
                    pass

        await asyncio.gather(*(done(c, t) for c, t in held))
        pipe.send(("done", answered, len(held) - answered))
        for client, _ in held:
            client.close()
        await asyncio.sleep(0.1)

    new_loop().run_until_complete(main())
    pipe.close()


def message(n: int) -> bytes:
    """A 1 KiB message with its final dot, CRLF, as an SMTP client sends it."""
    head = b"From: bench@x.test\r\nTo: bench@x.test\r\nSubject: idle %d\r\n\r\n" % n
    return head + (b"x" * 76 + b"\r\n") * 12 + b".\r\n"


async def _reply(reader: asyncio.StreamReader, code: bytes) -> None:
    while True:
        line = await reader.readuntil(b"\r\n")
        if not line.startswith(code):
            raise ImapError(b"SMTP: expected " + code + b", got " + line)
        if line[3:4] != b"-":
            return


def exists_latency(
    imap_port: int, smtp_port: int, user: str, password: str, rcpt: str, samples: int, lmtp: bool = False
) -> dict[str, list[float] | int]:
    """An IMAP session IDLEs on INBOX while one SMTP (or LMTP) connection sends `samples` messages to
    `rcpt`, one at a time: for each, the time from reading its 250 to reading `* n EXISTS`, in seconds
    (negative when the EXISTS came first).  Each sample waits for its EXISTS before the next is sent."""

    async def main() -> dict[str, list[float] | int]:
        imap = await ImapClient.connect("127.0.0.1", imap_port)
        await imap.cmd(b"LOGIN %s %s" % (user.encode(), password.encode()))
        (exists,) = [int(x.split()[1]) for x in await imap.cmd(b"SELECT INBOX") if x.endswith(b" EXISTS\r\n")]
        tag = await imap.idle()
        reader, writer = await asyncio.open_connection("127.0.0.1", smtp_port)
        await _reply(reader, b"220")
        writer.write(b"LHLO bench\r\n" if lmtp else b"EHLO bench\r\n")
        await _reply(reader, b"250")
        delays: list[float] = []
        timeouts = 0
        for n in range(samples):
            writer.write(b"MAIL FROM:<bench@x.test>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt.encode())
            await _reply(reader, b"250")
            await _reply(reader, b"250")
            await _reply(reader, b"354")
            seen = asyncio.ensure_future(_exists(imap, exists + 1))
            writer.write(message(n))
            await _reply(reader, b"250")
            acked = time.perf_counter()
            try:
                exists, at = await asyncio.wait_for(seen, 5)
            except TimeoutError:
                timeouts += 1
                break
            delays.append(at - acked)
        writer.write(b"QUIT\r\n")
        writer.close()
        if not timeouts:
            await imap.done(tag)
            await imap.cmd(b"LOGOUT")
        imap.close()
        return {"delays": delays, "timeouts": timeouts}

    return new_loop().run_until_complete(main())


async def _exists(imap: ImapClient, at_least: int) -> tuple[int, float]:
    """Read untagged responses until `* n EXISTS` with n >= `at_least`: n and the time it was read."""
    while True:
        line = await imap.line()
        if line.endswith(b" EXISTS\r\n"):
            count = int(line.split()[1])
            if count >= at_least:
                return count, time.perf_counter()
