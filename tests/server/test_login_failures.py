"""Failed logins, POP3 and SMTP alike: each reply is held `auth_failure_delay` (on a fake clock here),
other sessions are not slowed, the third failure closes the connection, and an unknown user gets the
same answer as a wrong password."""

from __future__ import annotations

import base64

import trio
import trio.testing

from mockmail.login.policy import LOGIN_ATTEMPTS
from mockmail.server.driver import SessionConfig
from mockmail.server.smtp_session import SmtpPolicy, SmtpSession
from mockmail.store import MemoryStore
from tests.wire import SmtpWire

from .conftest import Connect

DELAY = 0.5


async def test_pop3_failures_are_held_and_the_third_closes(
    connect: Connect, autojump_clock: trio.testing.MockClock
) -> None:
    client, session = await connect(auth_failure_delay=DELAY)
    other, _ = await connect(auth_failure_delay=DELAY)
    for attempt in range(LOGIN_ATTEMPTS):
        user = "nobody" if attempt == 1 else "bob"  # an unknown user among wrong passwords
        await client.cmd(f"USER {user}")
        started = trio.current_time()
        async with trio.open_nursery() as nursery:
            await client.send("PASS wrong")
            nursery.start_soon(client.line)
            # Meanwhile another session is answered at once: the delay is the failing session's own.
            other_started = trio.current_time()
            assert (await other.cmd("NOOP")).startswith(b"-ERR")  # NOOP before login: refused, not held
            assert trio.current_time() == other_started
        assert trio.current_time() - started >= DELAY
    assert await client.stream.receive_some(100) == b""  # closed after the third reply
    assert session.end_reason == "too many failed logins"


async def test_pop3_replies_do_not_tell_unknown_users_from_wrong_passwords(connect: Connect) -> None:
    client, _ = await connect()
    await client.cmd("USER nobody")
    unknown = await client.cmd("PASS x")
    await client.cmd("USER bob")
    wrong = await client.cmd("PASS x")
    assert unknown == wrong == b"-ERR [AUTH] invalid user name or password\r\n"
    await client.cmd("USER bob")
    assert (await client.cmd("PASS s3cret")).startswith(b"+OK")  # two failures: still open


def _plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


async def test_smtp_failures_are_held_and_the_third_says_421(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    store = MemoryStore()
    store.put("bob", "s3cret")
    client, server = trio.testing.memory_stream_pair()
    session = SmtpSession(
        server,
        store,
        SessionConfig(auth_failure_delay=DELAY),
        SmtpPolicy(max_message_size=10_000, auth="required", plaintext_auth=True),
    )

    async def run() -> None:
        await session.run()
        await server.aclose()

    nursery.start_soon(run)
    wire = SmtpWire(client)
    await wire.reply()
    await wire.cmd("EHLO c")
    answers = []
    for user in ("bob", "nobody", "bob"):
        started = trio.current_time()
        answers.append(await wire.cmd(f"AUTH PLAIN {_plain(user, 'wrong')}"))
        assert trio.current_time() - started >= DELAY
    assert answers[0] == answers[1] == b"535 5.7.8 authentication credentials invalid\r\n"
    assert answers[2].startswith(b"421 4.7.0")
    assert await wire.closed()
    assert session.end_reason == "too many failed logins"


async def test_without_a_delay_failures_answer_at_once(
    connect: Connect, autojump_clock: trio.testing.MockClock
) -> None:
    client, _ = await connect()  # SessionConfig's default: 0 (the server's is 0.5)
    await client.cmd("USER bob")
    started = trio.current_time()
    await client.cmd("PASS wrong")
    assert trio.current_time() == started
