"""The plans' `smtp` part, through server/smtp_hooks.py: every knob over in-memory streams."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
import pytest
import trio
import trio.testing

from mockmail.faults import FaultPlan, FaultState
from mockmail.server.driver import SessionConfig
from mockmail.server.smtp_session import SmtpPolicy, SmtpSession
from mockmail.store import MemoryStore
from tests.wire import SmtpWire, send_mail

Open = Callable[..., Awaitable[tuple[SmtpWire, SmtpSession]]]


@pytest.fixture(name="store")
def _store() -> MemoryStore:
    store = MemoryStore()
    store.put("bob", "s3cret")
    store.put("carol", "pw")
    return store


@pytest.fixture(name="faults")
def _faults() -> FaultState:
    return FaultState()


@pytest.fixture(name="open_session")
def _open_session(nursery: trio.Nursery, store: MemoryStore, faults: FaultState) -> Open:
    async def open_session(*, greeting: bool = True, **config: object) -> tuple[SmtpWire, SmtpSession]:
        client, server = trio.testing.memory_stream_pair()
        session = SmtpSession(server, store, SessionConfig(faults=faults, **config), SmtpPolicy(10_000))  # type: ignore[arg-type]

        async def run() -> None:
            await session.run()
            await server.aclose()

        nursery.start_soon(run)
        wire = SmtpWire(client)
        if greeting:
            assert (await wire.reply()).startswith(b"220 ")
        return wire, session

    return open_session


def plan(smtp: dict[str, object], **rest: object) -> FaultPlan:
    return msgspec.convert({"smtp": smtp, **rest}, FaultPlan)


async def test_scripted_rcpt_reply_by_pattern_and_times(
    open_session: Open, faults: FaultState, store: MemoryStore
) -> None:
    faults.set_plan(
        plan(
            {
                "replies": [
                    {"command": "RCPT", "line": "452 4.2.2 mailbox full", "rcpt_to": "bob@*", "times": 1}
                ]
            }
        )
    )
    wire, session = await open_session()
    await wire.cmd("EHLO c")
    await wire.cmd("MAIL FROM:<a@x.test>")
    assert (
        await wire.cmd("RCPT TO:<carol@x.test>") == b"250 2.1.5 recipient <carol@x.test> OK\r\n"
    )  # no match
    assert await wire.cmd("RCPT TO:<bob@x.test>") == b"452 4.2.2 mailbox full\r\n"
    assert (await wire.cmd("RCPT TO:<bob@x.test>")).startswith(b"250 ")  # times: 1, spent
    assert session.faults_fired == ["smtp.replies[0]"]


async def test_scripted_data_end_refusal_stores_nothing(
    open_session: Open, faults: FaultState, store: MemoryStore
) -> None:
    faults.set_plan(
        plan(
            {
                "replies": [
                    {"command": "DATA-END", "line": "554 5.7.1 rejected as spam", "mail_from": "*@spam.test"}
                ]
            }
        )
    )
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    assert (
        await send_mail(wire, "x@spam.test", ["bob@x.test"], b"S: a\r\n\r\n")
        == b"554 5.7.1 rejected as spam\r\n"
    )
    assert (await send_mail(wire, "x@good.test", ["bob@x.test"], b"S: b\r\n\r\n")).startswith(b"250 ")
    assert [m.envelope.mail_from for m in store.get("bob").listing() if m.envelope] == ["x@good.test"]


async def test_scripted_auth_refusal(open_session: Open, faults: FaultState) -> None:
    faults.set_plan(
        plan({"replies": [{"command": "AUTH", "line": "454 4.7.0 temporary authentication failure"}]})
    )
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    assert await wire.cmd("AUTH PLAIN AGJvYgBzM2NyZXQ=") == b"454 4.7.0 temporary authentication failure\r\n"


@pytest.mark.parametrize("code", [421, 554])
async def test_greeting_refusals(open_session: Open, faults: FaultState, code: int) -> None:
    faults.set_plan(plan({"greeting": {"code": code}}))
    wire, _ = await open_session(greeting=False)
    assert (await wire.reply()).startswith(f"{code} ".encode())
    if code == 421:
        assert await wire.closed()
        return
    assert (await wire.cmd("EHLO c")).startswith(b"503 5.5.1 no SMTP service")
    assert (await wire.cmd("MAIL FROM:<a@x.test>")).startswith(b"503 ")
    assert (await wire.cmd("QUIT")).startswith(b"221 ")


async def test_greylisting_turns_away_the_first_attempt_and_takes_the_retry(
    open_session: Open, faults: FaultState, store: MemoryStore, autojump_clock: trio.testing.MockClock
) -> None:
    faults.set_plan(plan({"greylisting": {"retry_after": 60}}))
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    await wire.cmd("MAIL FROM:<a@x.test>")
    assert await wire.cmd("RCPT TO:<bob@x.test>") == b"451 4.7.1 greylisted, please try again later\r\n"
    await trio.sleep(30)
    assert (await wire.cmd("RCPT TO:<bob@x.test>")).startswith(b"451 ")  # too early
    await trio.sleep(31)
    assert (await wire.cmd("RCPT TO:<bob@x.test>")).startswith(b"250 ")
    assert (await wire.cmd("RCPT TO:<carol@x.test>")).startswith(
        b"451 "
    )  # another triple: its own first time


async def test_greylisting_of_one_mailbox_only(open_session: Open, faults: FaultState) -> None:
    faults.set_plan(plan({"greylisting": {"retry_after": 60}}), user="bob")
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    await wire.cmd("MAIL FROM:<a@x.test>")
    assert (await wire.cmd("RCPT TO:<carol@x.test>")).startswith(b"250 ")
    assert (await wire.cmd("RCPT TO:<bob@x.test>")).startswith(b"451 4.7.1")


async def test_rate_limit_is_a_real_window(
    open_session: Open, faults: FaultState, autojump_clock: trio.testing.MockClock
) -> None:
    faults.set_plan(plan({"rate_limit": {"messages": 2, "per_seconds": 60}}))
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    for _ in range(2):
        assert (await send_mail(wire, "a@x.test", ["bob@x.test"], b"S: a\r\n\r\n")).startswith(b"250 ")
    assert (
        await wire.cmd("MAIL FROM:<a@x.test>")
        == b"421 4.7.0 rate limit exceeded, try again later; closing\r\n"
    )
    assert await wire.closed()
    await trio.sleep(61)
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    assert (await wire.cmd("MAIL FROM:<a@x.test>")).startswith(b"250 ")  # the window moved on


@pytest.mark.parametrize("deliver", [True, False])
async def test_drop_after_data(
    open_session: Open, faults: FaultState, store: MemoryStore, deliver: bool
) -> None:
    faults.set_plan(plan({"drop_after_data": {"deliver": deliver}}))
    wire, session = await open_session()
    await wire.cmd("EHLO c")
    await wire.cmd("MAIL FROM:<a@x.test>")
    await wire.cmd("RCPT TO:<bob@x.test>")
    await wire.cmd("DATA")
    await wire.send(b"Subject: maybe\r\n\r\n.\r\n")
    assert await wire.closed()  # no reply at all
    assert store.get("bob").count == (1 if deliver else 0)
    assert session.end_reason == f"fault: dropped after DATA ({'stored' if deliver else 'not stored'})"


async def test_accept_and_lose(open_session: Open, faults: FaultState, store: MemoryStore) -> None:
    faults.set_plan(plan({"accept_and_lose": {}}))
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    assert (await send_mail(wire, "a@x.test", ["bob@x.test"], b"S: lost\r\n\r\n")).startswith(
        b"250 2.0.0 OK queued"
    )
    assert store.get("bob").count == 0


async def test_ehlo_unknown_leaves_helo(open_session: Open, faults: FaultState) -> None:
    faults.set_plan(plan({"ehlo_unknown": {}}))
    wire, _ = await open_session()
    assert await wire.cmd("EHLO c") == b"502 5.5.1 command not recognized\r\n"
    assert await wire.cmd("HELO c") == b"250 mockmail.test\r\n"
    assert (await wire.cmd("MAIL FROM:<a@x.test>")).startswith(b"250 ")


async def test_no_continuation_and_bare_lf(open_session: Open, faults: FaultState) -> None:
    faults.set_plan(plan({"no_continuation": {}, "line_endings": {"mode": "lf"}}))
    wire, _ = await open_session(greeting=False)
    await wire.send(b"EHLO c\r\n")
    data = b""
    while not data.endswith(b"250 HELP\n"):
        data += await wire.stream.receive_some(65536)
    assert b"\r" not in data and b"250-" not in data
    assert b"250 mockmail.test greets c\n250 PIPELINING\n" in data


async def test_missing_extensions_change_the_behaviour_too(open_session: Open, faults: FaultState) -> None:
    faults.set_plan(plan({"missing_extensions": {"extensions": ["ENHANCEDSTATUSCODES", "CHUNKING", "SIZE"]}}))
    wire, _ = await open_session()
    ehlo = await wire.cmd("EHLO c")
    assert b"ENHANCEDSTATUSCODES" not in ehlo and b"CHUNKING" not in ehlo and b"SIZE" not in ehlo
    assert b"PIPELINING" in ehlo
    assert await wire.cmd("MAIL FROM:<a@x.test> SIZE=10") == b"555 MAIL parameter SIZE not recognized\r\n"
    assert await wire.cmd("MAIL FROM:<a@x.test>") == b"250 sender <a@x.test> OK\r\n"  # no enhanced code
    await wire.cmd("RCPT TO:<bob@x.test>")
    assert (await wire.cmd("BDAT 3 LAST", raw=b"x\r\n")).startswith(b"502 ")


async def test_starttls_refused(open_session: Open, faults: FaultState) -> None:
    import ssl

    faults.set_plan(plan({"starttls": {"mode": "refuse"}}))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    wire, _ = await open_session(tls_context=context)
    assert b"STARTTLS" in await wire.cmd("EHLO c")  # still advertised
    assert await wire.cmd("STARTTLS") == b"454 4.7.0 TLS not available due to temporary reason\r\n"
    assert (await wire.cmd("NOOP")).startswith(b"250 ")


async def test_tarpit_holds_every_reply(
    open_session: Open, faults: FaultState, autojump_clock: trio.testing.MockClock
) -> None:
    faults.set_plan(plan({"tarpit": {"ms": 5000}}))
    start = trio.current_time()
    wire, _ = await open_session()
    await wire.cmd("NOOP")
    assert trio.current_time() - start >= 10  # greeting and NOOP, 5 s each (the fake clock)


async def test_wire_faults_filter_by_protocol_and_smtp_command(
    open_session: Open, faults: FaultState, autojump_clock: trio.testing.MockClock
) -> None:
    faults.set_plan(
        msgspec.convert(
            {
                "transport": [
                    {"kind": "latency", "ms": 50_000, "protocol": "pop3"},
                    {"kind": "close_after", "commands": 0, "command": "RCPT"},
                ],
                "smtp": {},
            },
            FaultPlan,
        )
    )
    start = trio.current_time()
    wire, session = await open_session()
    await wire.cmd("EHLO c")
    assert trio.current_time() - start < 50  # the POP3-only latency left SMTP alone
    await wire.cmd("MAIL FROM:<a@x.test>")
    assert (await wire.cmd("RCPT TO:<bob@x.test>")).startswith(b"250 ")  # sent, then closed
    assert await wire.closed()
    await wire.stream.aclose()  # the half-close waits for the client's side
    await trio.testing.wait_all_tasks_blocked()
    assert session.end_reason == "fault: closed after 3 commands"


async def test_a_plan_without_an_smtp_part_leaves_smtp_compliant(
    open_session: Open, faults: FaultState
) -> None:
    faults.set_plan(
        msgspec.convert(
            {"greeting": {"mode": "err"}, "replies": [{"command": "USER", "line": "-ERR no"}]}, FaultPlan
        )
    )
    wire, session = await open_session()  # a 220 greeting: the POP3 greeting fault is POP3's
    await wire.cmd("EHLO c")
    assert session.hooks is None and session.faults_fired == []


async def test_the_same_seed_draws_the_same_faults(open_session: Open, faults: FaultState) -> None:
    outcomes = []
    for _ in range(2):
        faults.set_plan(
            plan({"replies": [{"command": "NOOP", "line": "450 4.3.0 busy", "probability": 0.5}]}, seed=7)
        )
        wire, _ = await open_session()
        outcomes.append([(await wire.cmd("NOOP"))[:3] for _ in range(12)])
    assert outcomes[0] == outcomes[1] and {b"250", b"450"} == set(outcomes[0])


async def test_starttls_cut_after_the_go_ahead(open_session: Open, faults: FaultState) -> None:
    import ssl

    faults.set_plan(plan({"starttls": {"mode": "cut"}}))
    wire, session = await open_session(tls_context=ssl.create_default_context(ssl.Purpose.CLIENT_AUTH))
    await wire.cmd("EHLO c")
    assert (await wire.cmd("STARTTLS")).startswith(b"220 2.0.0")
    assert await wire.closed()  # no handshake: the connection is gone
    await trio.testing.wait_all_tasks_blocked()
    assert session.end_reason == "fault: STARTTLS handshake cut"
