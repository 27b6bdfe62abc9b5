"""mockmail/server/driver.py speaking unprompted: `notify`, the protocol's `_unprompted` lines and the last
line on shutdown, over trio's memory and lockstep streams, with a small line protocol of its own.

Every test runs under the autojump clock: a line that never comes ends in the session's autologout, so the
test fails instead of hanging."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import trio
import trio.testing

from mockmail.faults import FaultPlan, FaultState, Latency
from mockmail.observe.metrics import Metrics
from mockmail.observe.transcripts import TranscriptLog
from mockmail.server.driver import SessionConfig, SessionDriver
from mockmail.server.maildrop import MaildropLocks
from mockmail.server.pop3_session import Pop3Session
from mockmail.server.tls import self_signed
from mockmail.store import MemoryStore as Store
from tests.wire import WireClient

from .conftest import login

NEED = object()
NOTE = b"* 3 EXISTS\r\n"
FAREWELL = b"* BYE server shutting down\r\n"


@dataclass(frozen=True)
class Line:
    text: str

    @property
    def verb(self) -> str:
        return self.text.partition(" ")[0].upper()


class Closed:
    """The client closed its side."""


class Bad:
    """Never produced: every line is a `Line`."""


class Ready(bytes):
    """The go-ahead after which the TLS handshake starts."""


class LineConn:
    """A sans-IO core of the smallest kind: CRLF lines in, bytes out."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._eof = False
        self._closed = False

    @property
    def mid_line(self) -> bool:
        return bool(self._buffer)

    @property
    def closed(self) -> bool:
        return self._closed

    def receive_data(self, data: bytes | bytearray) -> None:
        if data:
            self._buffer += data
        else:
            self._eof = True

    def next_event(self) -> Any:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            return Closed() if self._eof else NEED
        line = bytes(self._buffer[:end]).decode()
        del self._buffer[: end + 2]
        return Line(line)

    def send_chunks(self, reply: bytes) -> list[bytes]:
        if type(reply) is Ready:
            self._buffer.clear()  # nothing sent in plaintext counts after the handshake
        return [bytes(reply)]

    def send_failed(self) -> None:
        self._closed = True


class NoteSession(SessionDriver):
    """Says the lines `tell` hands it while the client idles (after IDLE, until DONE), as IMAP will."""

    __slots__ = ("asked", "conn", "idling", "pending", "store")

    PROTOCOL = "smtp"  # the transcript label only
    NEED_DATA = NEED
    EOF_EVENT = Closed
    BAD_EVENT = Bad
    TLS_READY = Ready
    INTERNAL_ERROR = b"BYE internal error\r\n"
    SHUTDOWN = FAREWELL
    SPEAKS_UNPROMPTED = True

    def __init__(self, stream: trio.abc.Stream, config: SessionConfig) -> None:
        super().__init__(stream, config)
        self.conn = LineConn()
        self.store = Store()  # changes nothing: replies never wait for a commit
        self.idling = False
        self.pending: list[bytes] = []
        self.asked = 0
        """How often the driver asked for unprompted lines."""

    def tell(self, line: bytes) -> None:
        """What the store's side would do: note a change, wake the session, return at once."""
        self.pending.append(line)
        self.notify()

    async def _greet(self) -> bool:
        self._emit(b"* OK ready\r\n")
        return True

    def _unprompted(self) -> Sequence[bytes]:
        self.asked += 1
        if not self.idling:
            return ()  # not now: kept for later
        lines, self.pending = self.pending, []
        return lines

    def _on_line(self, event: Line) -> bytes:
        verb, _, arg = event.text.partition(" ")
        match verb.upper():
            case "IDLE":
                self.idling = True
                if self.pending:
                    self.notify()  # what waited is said once the go-ahead is out
                return b"+ idling\r\n"
            case "DONE":
                self.idling = False
                return b"OK done\r\n"
            case "BIG":
                return b"OK " + b"x" * int(arg) + b"\r\n"
            case "STARTTLS":
                return Ready(b"OK begin TLS\r\n")
        return b"OK " + event.text.encode() + b"\r\n"


NoteSession._HANDLERS = {Line: NoteSession._on_line}


class Served:
    """A session running in the test's nursery under a scope of its own (the tenant's, in the server)."""

    def __init__(
        self,
        nursery: trio.Nursery,
        session: SessionDriver,
        stream: trio.abc.Stream,
        client: trio.abc.Stream | None = None,
    ) -> None:
        self.session = session
        self.client = client
        self.scope = trio.CancelScope()
        self.ended = trio.Event()

        async def serve() -> None:
            try:
                with self.scope:
                    await session.run()
            finally:
                await trio.aclose_forcefully(stream)  # as the listener's handler does
                self.ended.set()

        nursery.start_soon(serve)

    async def wait_ended(self) -> str:
        with trio.move_on_after(3600):  # a hang guard under the autojump clock, not a timing assertion
            await self.ended.wait()
            return self.session.end_reason
        if self.client is not None:
            await self.client.aclose()  # free a session stuck on this client, so the test can end
        raise AssertionError("the session did not end")


async def read_lines(stream: trio.abc.ReceiveStream, count: int, buffer: bytearray) -> list[bytes]:
    lines = []
    while len(lines) < count:
        end = buffer.find(b"\r\n")
        if end >= 0:
            lines.append(bytes(buffer[: end + 2]))
            del buffer[: end + 2]
            continue
        data = await stream.receive_some(65536)
        assert data, "the server closed early"
        buffer += data
    return lines


def note_session(
    nursery: trio.Nursery, stream: trio.abc.Stream, client: trio.abc.Stream | None = None, **config: Any
) -> tuple[NoteSession, Served]:
    session = NoteSession(stream, SessionConfig(**config))
    return session, Served(nursery, session, stream, client)


async def test_an_unprompted_line_reaches_an_idle_client(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    metrics, transcripts = Metrics(), TranscriptLog("t")
    session, _ = note_session(nursery, server_stream, metrics=metrics, transcripts=transcripts, tenant="t")
    client = WireClient(client_stream)
    assert await client.line() == b"* OK ready\r\n"
    assert await client.cmd("IDLE") == b"+ idling\r\n"
    await trio.testing.wait_all_tasks_blocked()  # the session waits for the client
    sent = metrics.sent[("smtp", "t")]
    session.tell(NOTE)
    assert await client.line() == NOTE
    assert metrics.sent[("smtp", "t")] == sent + len(NOTE)
    assert session.recorder is not None
    assert [line[1:3] for line in session.recorder.lines][-1] == ("S", b"* 3 EXISTS")
    assert metrics.commands[("smtp", "IDLE", "ok")] == 1 and sum(metrics.commands.values()) == 1
    assert await client.cmd("DONE") == b"OK done\r\n"  # the wait that was woken read on, nothing lost


async def test_the_protocol_decides_when(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    session, _ = note_session(nursery, server_stream)
    client = WireClient(client_stream)
    await client.line()
    await trio.testing.wait_all_tasks_blocked()
    session.tell(NOTE)  # outside IDLE: asked, nothing said
    await trio.testing.wait_all_tasks_blocked()
    assert session.asked == 1
    assert await client.cmd("ECHO") == b"OK ECHO\r\n"  # the first thing on the wire is the reply
    assert await client.cmd("IDLE") == b"+ idling\r\n"
    assert await client.line() == NOTE  # said as soon as the protocol allows it, after the go-ahead


async def test_notifications_coalesce_and_never_block(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    session, _ = note_session(nursery, server_stream)
    client = WireClient(client_stream)
    await client.line()
    await client.cmd("IDLE")
    await trio.testing.wait_all_tasks_blocked()
    lines = [b"* %d EXISTS\r\n" % n for n in range(1000)]
    for line in lines:  # no await: notify returns at once, and a thousand calls are one wake-up
        session.tell(line)
    assert [await client.line() for _ in lines] == lines
    assert session.asked == 1


async def test_an_unprompted_line_waits_for_the_reply_being_written(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client_stream, server_stream = trio.testing.lockstep_stream_pair()  # every write waits for a read
    session, _ = note_session(nursery, server_stream)
    buffer = bytearray()
    assert await read_lines(client_stream, 1, buffer) == [b"* OK ready\r\n"]
    session.idling = True
    await client_stream.send_all(b"BIG 5000\r\n")
    buffer += await client_stream.receive_some(100)  # the reply is part-way out
    await trio.testing.wait_all_tasks_blocked()
    session.tell(NOTE)
    first, second = await read_lines(client_stream, 2, buffer)
    assert first == b"OK " + b"x" * 5000 + b"\r\n"
    assert second == NOTE


async def test_what_comes_while_unprompted_lines_go_out_follows_them(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client_stream, server_stream = trio.testing.lockstep_stream_pair()
    session, _ = note_session(nursery, server_stream)
    buffer = bytearray()
    await read_lines(client_stream, 1, buffer)
    session.idling = True
    await trio.testing.wait_all_tasks_blocked()
    session.tell(NOTE)
    await trio.testing.wait_all_tasks_blocked()  # the session is writing NOTE, the client not reading
    session.tell(b"* 4 EXISTS\r\n")
    assert await read_lines(client_stream, 2, buffer) == [NOTE, b"* 4 EXISTS\r\n"]  # no command needed
    assert session.asked == 2


async def test_nothing_crosses_a_tls_handshake(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    material = self_signed(["mockmail.test"])
    assert material.ca_pem is not None
    client_stream, server_stream = trio.testing.memory_stream_pair()
    session, _ = note_session(nursery, server_stream, tls_context=material.context)
    client = WireClient(client_stream)
    await client.line()
    session.idling = True
    assert await client.cmd("STARTTLS") == b"OK begin TLS\r\n"
    await trio.testing.wait_all_tasks_blocked()  # the server waits for the ClientHello
    session.tell(NOTE)  # a plaintext line now would break the handshake
    await trio.testing.wait_all_tasks_blocked()
    context = ssl.create_default_context(cadata=material.ca_pem.decode())
    tls = trio.SSLStream(client_stream, context, server_hostname="mockmail.test")
    await tls.do_handshake()
    secure = WireClient(tls)
    assert await secure.line() == NOTE  # said after the handshake, inside TLS
    await trio.testing.wait_all_tasks_blocked()  # the session waits in a TLS read ...
    session.tell(b"* 4 EXISTS\r\n")  # ... which this wakes
    assert await secure.line() == b"* 4 EXISTS\r\n"
    assert await secure.cmd("ECHO again") == b"OK ECHO again\r\n"  # the woken TLS read lost nothing


async def test_a_client_that_does_not_read_is_closed(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client_stream, server_stream = trio.testing.lockstep_stream_pair()
    session, served = note_session(nursery, server_stream, client_stream)
    buffer = bytearray()
    await read_lines(client_stream, 1, buffer)
    session.idling = True
    await trio.testing.wait_all_tasks_blocked()
    session.tell(b"* " + b"x" * 1000 + b"\r\n")  # the client reads no more from here on
    await trio.testing.wait_all_tasks_blocked()  # the session is stuck in the write
    for _ in range(10_000):
        session.notify()  # the notifier never waits for the stuck write ...
    assert session.asked == 1  # ... and nothing piles up behind it
    assert await served.wait_ended() == "client not reading"


async def test_the_last_line_on_shutdown_goes_the_reply_path(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    transcripts = TranscriptLog("t")
    session, served = note_session(nursery, server_stream, transcripts=transcripts)
    client = WireClient(client_stream)
    await client.line()
    await client.cmd("IDLE")
    await trio.testing.wait_all_tasks_blocked()
    served.scope.cancel()  # the tenant is deleted, or the server stops
    assert await client.line() == FAREWELL
    assert await client.at_eof()
    assert await served.wait_ended() == "server shutdown"
    recorder = session.recorder
    assert recorder is not None
    assert [line[1:3] for line in recorder.lines][-2:] == [
        ("S", b"* BYE server shutting down"),
        ("end", "server shutdown"),
    ]


async def test_shutdown_does_not_wait_for_a_client_that_does_not_read(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client_stream, server_stream = trio.testing.lockstep_stream_pair()
    _, served = note_session(nursery, server_stream, client_stream)
    await read_lines(client_stream, 1, bytearray())
    await trio.testing.wait_all_tasks_blocked()
    served.scope.cancel()  # the last line cannot go out: nobody reads it
    assert await served.wait_ended() == "server shutdown"  # given up on (FAREWELL_TIMEOUT), not waited for


# --- POP3 ------------------------------------------------------------------------------------------------


async def test_pop3_says_sys_temp_when_the_server_stops(
    nursery: trio.Nursery, store: Store, locks: MaildropLocks, autojump_clock: trio.testing.MockClock
) -> None:
    faults = FaultState()
    faults.set_plan(FaultPlan(transport=[Latency(ms=0)]))
    client_stream, server_stream = trio.testing.memory_stream_pair()
    session = Pop3Session(server_stream, store, SessionConfig(locks=locks, faults=faults))
    served = Served(nursery, session, server_stream)
    client = WireClient(client_stream)
    await client.line()
    await login(client)
    await trio.testing.wait_all_tasks_blocked()
    fired = len(session.faults_fired)
    served.scope.cancel()
    assert await client.line() == b"-ERR [SYS/TEMP] server shutting down\r\n"
    assert await client.at_eof()
    assert await served.wait_ended() == "server shutdown"
    assert session.faults_fired[fired:] == ["transport[0] latency"]  # the wire faults saw the line too
    assert locks.holder(store.get("bob")) is None


async def test_pop3_says_nothing_inside_a_cut_reply(
    nursery: trio.Nursery, store: Store, autojump_clock: trio.testing.MockClock
) -> None:
    store.get("bob").add(b"Subject: big\r\n\r\n" + b"y" * 20_000 + b"\r\n")
    client_stream, server_stream = trio.testing.lockstep_stream_pair()
    session = Pop3Session(server_stream, store, SessionConfig())
    served = Served(nursery, session, server_stream)
    client = WireClient(client_stream)
    await client.line()
    await login(client)
    await client.send("RETR 3")
    received = await client_stream.receive_some(1000)  # the message is part-way out
    await trio.testing.wait_all_tasks_blocked()
    served.scope.cancel()
    while data := await client_stream.receive_some(65536):
        received += data
    assert received.startswith(b"+OK ") and b"-ERR" not in received  # cut, not spliced
    assert await served.wait_ended() == "server shutdown"


async def test_pop3_answers_nothing_once_the_tenant_is_not_admitted(
    nursery: trio.Nursery, store: Store, locks: MaildropLocks, autojump_clock: trio.testing.MockClock
) -> None:
    """A replica whose lease ran out (it woke from a freeze) reads the next commands of an open session and
    answers none of them, not even a read: the last line, and the session ends with nothing committed."""
    held = [True]
    asked: list[bool] = []

    def admits() -> bool:
        asked.append(held[0])
        return held[0]

    transcripts = TranscriptLog("t")
    client_stream, server_stream = trio.testing.memory_stream_pair()
    config = SessionConfig(locks=locks, transcripts=transcripts, admits=admits)
    session = Pop3Session(server_stream, store, config)
    served = Served(nursery, session, server_stream)
    client = WireClient(client_stream)
    await client.line()
    await login(client)
    assert (await client.cmd("DELE 1")).startswith(b"+OK")
    assert asked == [True, True, True]  # once per command
    held[0] = False
    await client.send(b"LIST\r\nRETR 2\r\nQUIT\r\n")  # pipelined: one read, three commands
    assert await client.line() == b"-ERR [SYS/TEMP] server shutting down\r\n"
    assert await client.at_eof()
    assert await served.wait_ended() == "lease lost"
    assert asked[3:] == [False]
    assert locks.holder(store.get("bob")) is None and store.get("bob").count == 2  # DELE not committed
    recorder = session.recorder
    assert recorder is not None
    assert [line[1:3] for line in recorder.lines][-2:] == [
        ("S", b"-ERR [SYS/TEMP] server shutting down"),
        ("end", "lease lost"),
    ]
