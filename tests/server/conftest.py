"""The real session driver over in-memory streams: no sockets, and a fake clock for timers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import trio
import trio.testing

from mockmail.faults import FaultState
from mockmail.server.driver import SessionConfig
from mockmail.server.maildrop import MaildropLocks
from mockmail.server.pop3_session import Pop3Session
from mockmail.store import MemoryMailbox as Mailbox
from mockmail.store import MemoryStore as Store
from tests.wire import WireClient

MESSAGES = [
    b"Subject: one\r\nFrom: a@example.com\r\n\r\nfirst body\r\n",
    b"Subject: two\n\nline 1\n.starts with a dot\nline 3\n",  # bare LF on purpose: stored as CRLF
]

Connect = Callable[..., Awaitable[tuple[WireClient, Pop3Session]]]


@pytest.fixture(name="store")
def _store() -> Store:
    store = Store()
    box, _ = store.put("bob", "s3cret")
    for raw in MESSAGES:
        box.add(raw)
    store.put("eve", "other")
    return store


@pytest.fixture(name="bob")
def _bob(store: Store) -> Mailbox:
    return store.get("bob")


@pytest.fixture(name="locks")
def _locks() -> MaildropLocks:
    return MaildropLocks()


@pytest.fixture(name="faults")
def _faults() -> FaultState:
    return FaultState()


@pytest.fixture(name="connect")
def _connect(nursery: trio.Nursery, store: Store, faults: FaultState, locks: MaildropLocks) -> Connect:
    async def connect(**config: object) -> tuple[WireClient, Pop3Session]:
        client_stream, server_stream = trio.testing.memory_stream_pair()
        config.setdefault("faults", faults)
        config.setdefault("locks", locks)
        session = Pop3Session(server_stream, store, SessionConfig(**config))  # type: ignore[arg-type]

        async def run() -> None:
            await session.run()
            await server_stream.aclose()

        nursery.start_soon(run)
        client = WireClient(client_stream)
        greeting = await client.line()
        assert greeting.startswith(b"+OK ")
        return client, session

    return connect


async def login(client: WireClient, user: str = "bob", password: str = "s3cret") -> bytes:
    assert await client.cmd(f"USER {user}") == f"+OK send PASS for {user}\r\n".encode()
    return await client.cmd(f"PASS {password}")
