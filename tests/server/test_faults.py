"""Fault plans as the session driver applies them: what each knob puts on the wire, and what the store holds."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from mockmail.faults import (
    Bandwidth,
    CapaFault,
    CloseAfter,
    CommandsFault,
    DeadlineFault,
    DotStuffingFault,
    FaultPlan,
    FaultState,
    GreetingDelay,
    GreetingFault,
    Knob,
    Latency,
    LineEndingsFault,
    LineLimitFault,
    OctetCountsFault,
    OrderFault,
    PasswordFault,
    QuitFault,
    ScriptedReply,
    SizeFormatFault,
    Slicer,
    Stall,
    StateMachineFault,
    TerminatorFault,
    TruncateRetr,
    UidlFault,
)
from mockmail.server.maildrop import MaildropLocks
from mockmail.store import MemoryMailbox as Mailbox

from .conftest import Connect, login


async def test_compliant_when_no_plan(connect: Connect, faults: FaultState) -> None:
    client, session = await connect()
    await login(client)
    assert (await client.cmd("QUIT")).startswith(b"+OK")
    assert session.faults_fired == []


async def test_go_float_sizes_in_list_lines_only(connect: Connect, faults: FaultState, bob: Mailbox) -> None:
    faults.set_plan(FaultPlan(size_format=SizeFormatFault()))
    client, _ = await connect()
    await login(client)
    sizes = [m.size for m in bob.snapshot()]
    assert await client.cmd("STAT") == f"+OK 2 {sum(sizes)}\r\n".encode()  # STAT stayed right
    status, lines = await client.multi("LIST")
    assert status == f"+OK 2 messages ({sum(sizes)} octets)\r\n".encode()  # so did the header
    assert lines == [f"1 %!d(float64={sizes[0]})".encode(), f"2 %!d(float64={sizes[1]})".encode()]
    assert await client.cmd("LIST 2") == f"+OK 2 %!d(float64={sizes[1]})\r\n".encode()


@pytest.mark.parametrize(("commit", "left"), [(True, 1), (False, 2)])
async def test_quit_drop_closes_without_ok(
    connect: Connect, faults: FaultState, bob: Mailbox, commit: bool, left: int, locks: MaildropLocks
) -> None:
    faults.set_plan(FaultPlan(quit=QuitFault(reply="drop", commit=commit)))
    client, session = await connect()
    await login(client)
    await client.cmd("DELE 1")
    await client.send("QUIT")
    assert await client.at_eof()  # not one byte: no +OK
    await trio.testing.wait_all_tasks_blocked()
    assert session.end_reason == "fault: QUIT dropped"
    assert bob.count == left
    assert locks.holder(bob) is None


async def test_quit_hang_keeps_the_socket_open(connect: Connect, faults: FaultState, bob: Mailbox) -> None:
    faults.set_plan(FaultPlan(quit=QuitFault(reply="hang", commit=False)))
    client, session = await connect()
    await login(client)
    await client.send("QUIT")
    with trio.move_on_after(1) as waited:
        await client.at_eof()
    assert waited.cancelled_caught  # nothing came and nothing closed
    await client.stream.aclose()
    await trio.testing.wait_all_tasks_blocked()
    assert session.end_reason == "fault: QUIT hung, client closed"
    assert bob.count == 2


async def test_lax_state_machine(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(state_machine=StateMachineFault()))
    client, _ = await connect()
    assert await client.cmd("STAT") == b"-ERR STAT not implemented\r\n"
    assert await client.cmd("XYZZY") == b"-ERR XYZZY not implemented\r\n"
    assert (
        await client.cmd("PASS s3cret") == b"-ERR [AUTH] invalid user name or password\r\n"
    )  # no USER needed
    await login(client)
    assert await client.cmd("USER bob") == b"-ERR USER not implemented\r\n"


async def test_case_sensitive_commands(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(case_sensitive=Knob(), state_machine=StateMachineFault()))
    client, _ = await connect()
    assert await client.cmd("user bob") == b"-ERR user not implemented\r\n"
    assert await client.cmd("USER bob") == b"+OK send PASS for bob\r\n"


async def test_ignore_message_argument(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(ignore_message_argument=Knob()))
    client, _ = await connect()
    await login(client)
    status, lines = await client.multi("LIST 1")
    assert status.startswith(b"+OK 2 messages") and len(lines) == 2
    status, lines = await client.multi("UIDL 2")
    assert status == b"+OK unique-id listing follows\r\n" and len(lines) == 2


@pytest.mark.parametrize(
    ("mode", "retr_stuffed", "top_stuffed"), [("none", False, False), ("retr-only", True, False)]
)
async def test_dot_stuffing_off(
    connect: Connect, faults: FaultState, mode: str, retr_stuffed: bool, top_stuffed: bool
) -> None:
    faults.set_plan(FaultPlan(dot_stuffing=DotStuffingFault(mode=mode)))  # type: ignore[arg-type]
    client, _ = await connect()
    await login(client)
    await client.cmd("RETR 2")
    retr = await client.multiline_body()
    await client.cmd("TOP 2 2")
    top = await client.multiline_body()
    assert (b"\r\n..starts with a dot\r\n" in retr) is retr_stuffed
    assert (b"\r\n..starts with a dot\r\n" in top) is top_stuffed
    assert b"\r\n.starts with a dot\r\n" in retr + top


async def test_errors_close_the_connection(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(errors_close=Knob()))
    client, session = await connect()
    await login(client)
    assert await client.cmd("LIST 9") == b"-ERR no such message 9 (maildrop has 2)\r\n"  # LIST is spared
    assert await client.cmd("RETR 9") == b"-ERR no such message 9 (maildrop has 2)\r\n"
    assert await client.at_eof()
    assert session.end_reason == "fault: error closed the connection"


async def test_deadline_replaces_autologout(
    connect: Connect, faults: FaultState, autojump_clock: trio.testing.MockClock
) -> None:
    faults.set_plan(FaultPlan(deadline=DeadlineFault(seconds=30)))
    client, session = await connect()
    start = trio.current_time()
    assert await client.at_eof()
    assert 30 <= trio.current_time() - start <= 31
    assert session.end_reason == "idle timeout"


async def test_scripted_reply_for_one_message_then_spent(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(
        FaultPlan(replies=[ScriptedReply(command="RETR", msg=2, line="-ERR [SYS/TEMP] try later", times=1)])
    )
    client, session = await connect()
    await login(client)
    assert await client.cmd("RETR 2") == b"-ERR [SYS/TEMP] try later\r\n"
    assert (await client.cmd("RETR 2")).startswith(b"+OK")
    await client.multiline_body()
    assert session.faults_fired == ["replies[0]"]


async def test_scripted_reply_on_pass_fails_the_login(
    connect: Connect, faults: FaultState, bob: Mailbox, locks: MaildropLocks
) -> None:
    faults.set_plan(
        FaultPlan(replies=[ScriptedReply(command="PASS", line="-ERR [LOGIN-DELAY] wait 5 minutes")])
    )
    client, session = await connect()
    assert await login(client) == b"-ERR [LOGIN-DELAY] wait 5 minutes\r\n"
    assert session.maildrop is None and locks.holder(bob) is None


async def test_a_plan_change_reaches_an_open_session(connect: Connect, faults: FaultState) -> None:
    client, _ = await connect()
    await login(client)
    assert (await client.cmd("LIST 1")).startswith(b"+OK 1 ")
    faults.set_plan(FaultPlan(size_format=SizeFormatFault()))
    assert b"%!d(float64=" in await client.cmd("LIST 1")
    faults.set_plan(FaultPlan())
    assert b"%!d" not in await client.cmd("LIST 1")


async def test_mailbox_plan_applies_from_login(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(quit=QuitFault(reply="drop")), "bob")
    client, _ = await connect()
    assert await client.cmd("NOOP") == b"-ERR NOOP not allowed in AUTHORIZATION state\r\n"
    await login(client)
    await client.send("QUIT")
    assert await client.at_eof()
    other, _ = await connect()
    await login(other, "eve", "other")
    assert (await other.cmd("QUIT")).startswith(b"+OK")  # eve is compliant


async def test_a_session_draws_once_unless_its_mailbox_has_a_plan(
    connect: Connect, faults: FaultState
) -> None:
    faults.set_plan(FaultPlan(quit=QuitFault(reply="drop", times=2)))
    first, session = await connect()
    await login(first)
    assert session.faults_fired == ["quit (drawn)"]  # login did not draw again
    second, _ = await connect()
    await login(second)
    third, _ = await connect()
    await login(third)
    assert (await third.cmd("QUIT")).startswith(b"+OK")  # two sessions used the two times


async def test_lf_line_endings(connect: Connect, faults: FaultState) -> None:
    client, _ = await connect()  # the greeting is read with CRLF; the change reaches the next reply
    faults.set_plan(FaultPlan(line_endings=LineEndingsFault()))
    await client.send("CAPA")
    data = b""
    while not data.endswith(b"\n.\n"):
        data += await client.stream.receive_some(4096)
    assert b"\r" not in data and data.startswith(b"+OK capability list follows\n")


async def test_missing_terminator(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(terminator=TerminatorFault()))
    client, _ = await connect()
    await client.send("CAPA")
    await client.send("NOOP")
    data = b""
    while b"NOOP not allowed" not in data:
        data += await client.stream.receive_some(4096)
    assert b"\r\n.\r\n" not in data  # the listing ran straight into the next reply
    assert b"IMPLEMENTATION mockmail" in data


async def test_off_by_lf_octet_counts(connect: Connect, faults: FaultState, bob: Mailbox) -> None:
    faults.set_plan(FaultPlan(octet_counts=OctetCountsFault()))
    client, _ = await connect()
    await login(client)
    first = bob.snapshot()[0]
    lines = first.content.count(b"\r\n")
    assert await client.cmd("LIST 1") == f"+OK 1 {first.size - lines}\r\n".encode()
    assert (await client.cmd("RETR 1")) == f"+OK {first.size} octets\r\n".encode()  # RETR still sends it all


async def test_uidl_unstable_and_absent(connect: Connect, faults: FaultState, bob: Mailbox) -> None:
    faults.set_plan(FaultPlan(uidl=UidlFault(mode="unstable")))
    one, _ = await connect()
    await login(one)
    first = await one.cmd("UIDL 1")
    await one.cmd("QUIT")
    two, _ = await connect()
    await login(two)
    assert first != await two.cmd("UIDL 1")
    faults.set_plan(FaultPlan(uidl=UidlFault(mode="absent")))
    assert await two.cmd("UIDL") == b"-ERR unknown command 'UIDL'\r\n"
    _, caps = await two.multi("CAPA")
    assert b"UIDL" not in caps


@pytest.mark.parametrize(
    ("capa", "expected"),
    [
        (CapaFault(mode="absent"), None),
        (
            CapaFault(mode="custom", lines=["TOP", "IMPLEMENTATION Mailpit"]),
            [b"TOP", b"IMPLEMENTATION Mailpit"],
        ),
    ],
)
async def test_capa_absent_and_custom(
    connect: Connect, faults: FaultState, capa: CapaFault, expected: list[bytes] | None
) -> None:
    faults.set_plan(FaultPlan(capa=capa))
    client, _ = await connect()
    status, lines = await client.multi("CAPA")
    if expected is None:
        assert status == b"-ERR unknown command 'CAPA'\r\n"
    else:
        assert lines == expected


async def test_capa_overclaims(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(capa=CapaFault(mode="overclaims")))
    client, _ = await connect()
    _, lines = await client.multi("CAPA")
    assert b"STLS" in lines and b"SASL GSSAPI XOAUTH2" in lines
    assert (await client.cmd("STLS")).startswith(b"-ERR STLS is not available")  # claimed, not there


@pytest.mark.parametrize(
    ("mode", "first"),
    [("err", b"-ERR [SYS/TEMP] service not available"), ("garbage", b"* OK [CAPABILITY IMAP4rev1]")],
)
async def test_bad_greetings(
    store: object, faults: FaultState, nursery: trio.Nursery, mode: str, first: bytes, locks: MaildropLocks
) -> None:
    from mockmail.server.driver import SessionConfig
    from mockmail.server.pop3_session import Pop3Session
    from tests.wire import WireClient

    faults.set_plan(FaultPlan(greeting=GreetingFault(mode=mode)))  # type: ignore[arg-type]
    client_stream, server_stream = trio.testing.memory_stream_pair()
    session = Pop3Session(server_stream, store, SessionConfig(faults=faults, locks=locks))  # type: ignore[arg-type]
    nursery.start_soon(session.run)
    client = WireClient(client_stream)
    assert (await client.line()).startswith(first)
    if mode == "err":
        await trio.testing.wait_all_tasks_blocked()
        assert session.end_reason == "fault: greeting refused"
    else:
        assert await client.cmd("USER bob") == b"+OK send PASS for bob\r\n"  # POP3 underneath all the same


async def test_disabled_commands_any_password_and_newest_first(
    connect: Connect, faults: FaultState, bob: Mailbox
) -> None:
    faults.set_plan(
        FaultPlan(
            commands=CommandsFault(disabled=["TOP", "APOP"]), password=PasswordFault(), order=OrderFault()
        )
    )
    client, _ = await connect()
    assert await client.cmd("APOP bob " + "0" * 32) == b"-ERR unknown command 'APOP'\r\n"
    assert (await login(client, "bob", "anything")).startswith(b"+OK bob has 2")
    newest = bob.snapshot()[-1]
    assert await client.cmd("UIDL 1") == f"+OK 1 {newest.uid}\r\n".encode()
    assert await client.cmd("TOP 1 0") == b"-ERR unknown command 'TOP'\r\n"


async def test_line_limit(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(line_limit=LineLimitFault(octets=512, text="line too long")))
    client, _ = await connect()
    assert (await client.cmd("USER " + "x" * 400)).startswith(b"+OK")  # over 255, under 512
    assert await client.cmd("USER " + "x" * 600) == b"-ERR line too long\r\n"


async def test_latency_and_greeting_delay(
    connect: Connect, faults: FaultState, autojump_clock: trio.testing.MockClock
) -> None:
    faults.set_plan(FaultPlan(transport=[GreetingDelay(ms=2000), Latency(ms=500, command="NOOP")]))
    start = trio.current_time()
    client, session = await connect()
    assert trio.current_time() - start == pytest.approx(2.0)
    await login(client)
    start = trio.current_time()
    await client.cmd("NOOP")
    assert trio.current_time() - start == pytest.approx(0.5)
    start = trio.current_time()
    await client.cmd("STAT")
    assert trio.current_time() - start == pytest.approx(0.0)
    assert "transport[0] greetingdelay" in session.faults_fired


async def test_bandwidth_and_slicer(
    connect: Connect, faults: FaultState, autojump_clock: trio.testing.MockClock
) -> None:
    faults.set_plan(FaultPlan(transport=[Bandwidth(bytes_per_second=100, command="CAPA")]))
    client, _ = await connect()
    start = trio.current_time()
    _, lines = await client.multi("CAPA")
    size = len(b"+OK capability list follows\r\n") + sum(len(line) + 2 for line in lines) + 3
    assert trio.current_time() - start == pytest.approx(size / 100, abs=0.1)
    faults.set_plan(FaultPlan(transport=[Slicer(size=1, delay_ms=10, command="NOOP")]))
    start = trio.current_time()
    assert await client.cmd("NOOP") == b"-ERR NOOP not allowed in AUTHORIZATION state\r\n"
    assert trio.current_time() - start == pytest.approx(
        0.01 * (len(b"-ERR NOOP not allowed in AUTHORIZATION state\r\n") - 1)
    )


async def test_truncate_retr_and_the_store(connect: Connect, faults: FaultState, bob: Mailbox) -> None:
    faults.set_plan(FaultPlan(transport=[TruncateRetr(after_bytes=20)]))
    client, session = await connect()
    await login(client)
    await client.cmd("DELE 2")
    await client.send("RETR 1")
    data = b""
    while True:
        chunk = await client.stream.receive_some(4096)
        if not chunk:
            break
        data += chunk
    assert len(data) == 20
    await trio.testing.wait_all_tasks_blocked()
    assert session.end_reason == "fault: RETR cut after 20 octets"
    assert bob.count == 2  # nothing committed: no QUIT


async def test_stall_and_close_after(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(transport=[Stall(command="STAT")]))
    client, session = await connect()
    await login(client)
    await client.send("STAT")
    with trio.move_on_after(1) as waited:
        await client.at_eof()
    assert waited.cancelled_caught
    await client.stream.aclose()
    await trio.testing.wait_all_tasks_blocked()
    assert session.end_reason == "fault: stalled on STAT"
    faults.set_plan(FaultPlan(transport=[CloseAfter(commands=2)]))
    other, second = await connect()
    assert (await other.cmd("USER bob")).startswith(b"+OK")
    assert (await other.cmd("PASS s3cret")).startswith(b"+OK")  # the second answer still goes out
    await other.send("STAT")  # already on its way when the server closes: must not turn into a reset
    assert await other.at_eof()  # a FIN: the server half-closed and reads on
    await trio.testing.wait_all_tasks_blocked()
    assert second.end_reason == "running"  # waiting for the client to close its side
    await other.stream.aclose()
    await trio.testing.wait_all_tasks_blocked()
    assert second.end_reason == "fault: closed after 2 commands"
