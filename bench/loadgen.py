"""The load generator: POP3 clients in worker processes, each running an asyncio (uvloop) event loop.

Every worker reports its own CPU time, so a run where the client, not the server, was the bottleneck is
visible in the results.
"""

from __future__ import annotations

import asyncio
import resource
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

try:
    import uvloop
except ImportError:  # pragma: no cover - the benchmark still runs, just with more client overhead
    uvloop = None

TERMINATOR = b"\r\n.\r\n"
SESSION_TIMEOUT = 10.0  # a session that takes longer counts as an error, so a stuck server cannot hang a run


def new_loop() -> asyncio.AbstractEventLoop:
    return uvloop.new_event_loop() if uvloop else asyncio.new_event_loop()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Pop3Error(Exception):
    pass


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, host: str, port: int) -> Client:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 24)
        client = cls(reader, writer)
        await client.status()
        return client

    async def status(self) -> bytes:
        line = await self.reader.readuntil(b"\r\n")
        if not line.startswith(b"+OK"):
            raise Pop3Error(line)
        return line

    async def cmd(self, line: bytes) -> bytes:
        self.writer.write(line)
        return await self.status()

    async def multi(self, line: bytes) -> int:
        """Send a command with a multi-line answer; return the octets of the body read."""
        self.writer.write(line)
        await self.status()
        first = await self.reader.readuntil(b"\r\n")
        if first == b".\r\n":
            return 0
        rest = await self.reader.readuntil(TERMINATOR)
        return len(first) + len(rest)

    async def login(self, user: bytes, password: bytes) -> None:
        await self.cmd(b"USER " + user + b"\r\n")
        await self.cmd(b"PASS " + password + b"\r\n")

    def close(self) -> None:
        self.writer.close()


@dataclass
class WorkerResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    octets: int = 0
    cpu: float = 0.0
    elapsed: float = 0.0


async def _full_session(host: str, port: int, user: bytes, password: bytes) -> None:
    client = await Client.connect(host, port)
    try:
        await client.login(user, password)
        await client.cmd(b"STAT\r\n")
        await client.multi(b"LIST\r\n")
        await client.multi(b"UIDL\r\n")
        await client.multi(b"RETR 1\r\n")
        await client.cmd(b"QUIT\r\n")
    finally:
        client.close()


def sessions_worker(
    host: str, port: int, user: str, password: str, concurrency: int, seconds: float
) -> WorkerResult:
    """Run `concurrency` loops of full sessions (connect, USER, PASS, STAT, LIST, UIDL, RETR 1, QUIT)."""
    result = WorkerResult()
    cpu0 = cpu_seconds()

    async def loop_sessions(deadline: float) -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                await asyncio.wait_for(
                    _full_session(host, port, user.encode(), password.encode()), SESSION_TIMEOUT
                )
            except (OSError, Pop3Error, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                result.errors += 1
                await asyncio.sleep(0.01)
                continue
            result.latencies.append(time.perf_counter() - start)

    async def main() -> None:
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*(loop_sessions(deadline) for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - start

    new_loop().run_until_complete(main())
    result.cpu = cpu_seconds() - cpu0
    return result


def retr_worker(host: str, port: int, user: str, password: str, msg: int, seconds: float) -> WorkerResult:
    """One session RETRieving message `msg` over and over for `seconds`."""
    result = WorkerResult()
    cpu0 = cpu_seconds()

    async def main() -> None:
        client = await Client.connect(host, port)
        await client.login(user.encode(), password.encode())
        command = b"RETR %d\r\n" % msg
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline or not result.latencies:
            t0 = time.perf_counter()
            result.octets += await client.multi(command)
            result.latencies.append(time.perf_counter() - t0)
        result.elapsed = time.perf_counter() - start
        await client.cmd(b"QUIT\r\n")
        client.close()

    new_loop().run_until_complete(main())
    result.cpu = cpu_seconds() - cpu0
    return result


def idle_worker(host: str, port: int, user: str, password: str, count: int, pipe: Connection) -> None:
    """Open and log in `count` sessions, report, hold them until told, then NOOP each and report."""

    async def main() -> None:
        gate = asyncio.Semaphore(128)
        clients: list[Client] = []
        failures = 0

        async def open_one() -> None:
            nonlocal failures
            async with gate:
                try:
                    client = await Client.connect(host, port)
                    await client.login(user.encode(), password.encode())
                    clients.append(client)
                except (OSError, Pop3Error, asyncio.IncompleteReadError):
                    failures += 1

        await asyncio.gather(*(open_one() for _ in range(count)))
        pipe.send(("open", len(clients), failures))
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)

        answered = 0

        async def noop(client: Client) -> None:
            nonlocal answered
            async with gate:
                try:
                    await client.cmd(b"NOOP\r\n")
                    answered += 1
                except (OSError, Pop3Error, asyncio.IncompleteReadError):
                    pass

        await asyncio.gather(*(noop(c) for c in clients))
        pipe.send(("noop", answered, len(clients) - answered))
        for client in clients:
            client.close()
        await asyncio.sleep(0.1)

    new_loop().run_until_complete(main())
    pipe.close()
