"""mockmail/server/imap_hooks.py and the `imap` part of a fault plan: every knob against the real IMAP
session over trio memory streams, with the compliant answer asserted beside the faulted one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest
import trio
import trio.testing

from mockmail.faults import FaultPlan, FaultState
from mockmail.server.driver import SessionConfig
from mockmail.server.imap_hooks import ImapHooks, greenmail_113
from mockmail.server.imap_session import ImapSession
from mockmail.store import MemoryStore as Store

from .test_imap_session import MESSAGES, Imap

INLINE = (
    b"Subject: inline\r\nFrom: a@example.com\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\nattached\r\n"
    b"--b--\r\n"
)

Connect = Callable[..., Awaitable[tuple[Imap, ImapSession]]]


@pytest.fixture(name="store")
def _store() -> Store:
    store = Store()
    box, _ = store.put("bob", "s3cret")
    for raw in MESSAGES:
        box.add(raw)
    store.put("eve", "other")
    return store


@pytest.fixture(name="faults")
def _faults() -> FaultState:
    return FaultState()


@pytest.fixture(name="connect")
def _connect(nursery: trio.Nursery, store: Store, faults: FaultState) -> Connect:
    async def connect(*, user: str = "bob", password: str = "s3cret") -> tuple[Imap, ImapSession]:
        client_stream, server_stream = trio.testing.memory_stream_pair()
        session = ImapSession(server_stream, store, SessionConfig(faults=faults), max_message_size=10_000)

        async def run() -> None:
            await session.run()
            await server_stream.aclose()

        nursery.start_soon(run)
        client = Imap(client_stream)
        assert (await client.line()).startswith(b"* OK ")
        assert (await client.run(f"LOGIN {user} {password}"))[-1].endswith(b" logged in\r\n")
        return client, session

    return connect


def plan(faults: FaultState, user: str | None = None, **fields: Any) -> None:
    faults.set_plan(msgspec.convert(fields, FaultPlan), user)


async def quiet(client: Imap) -> bool:
    """True when the server sends nothing more while every task is blocked (it is waiting on the client);
    under `autojump_clock` the half second passes at once."""
    await trio.testing.wait_all_tasks_blocked()
    with trio.move_on_after(0.5):
        await client.line()
        return False
    return True


def value(lines: list[bytes], name: bytes) -> bytes:
    """The text after `name ` in the first line holding it, up to the next space or parenthesis."""
    line = next(line for line in lines if name + b" " in line)
    rest = line.split(name + b" ", 1)[1]
    return rest.split(b" ", 1)[0].split(b")", 1)[0].split(b"]", 1)[0]


# --- the fast path -----------------------------------------------------------------------------------


async def test_no_imap_part_means_no_hooks(connect: Connect, faults: FaultState) -> None:
    _, compliant = await connect()
    assert compliant.hooks is None
    plan(faults, smtp={"accept_and_lose": {}}, transport=[{"kind": "latency", "ms": 1}])
    client, other = await connect()
    await client.run("NOOP")
    assert other.hooks is None  # a plan, but none of it is IMAP's: still the compliant path
    plan(faults, imap={"logout_no_ok": {}})
    client, faulted = await connect()
    assert isinstance(faulted.hooks, ImapHooks)


# --- scripted replies --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["NO", "BAD"])
async def test_scripted_reply_replaces_the_answer(connect: Connect, faults: FaultState, status: str) -> None:
    client, _ = await connect()
    assert (await client.run("SELECT INBOX"))[-1].endswith(b"OK [READ-WRITE] SELECT completed\r\n")
    plan(faults, imap={"replies": [{"command": "SELECT", "status": status, "text": "try later", "times": 1}]})
    client, session = await connect()
    lines = await client.run("SELECT INBOX")
    assert lines == [lines[-1]] and lines[-1].endswith(f" {status} try later\r\n".encode())
    assert session.faults_fired == [f"imap.replies[0] ({status})"]
    assert (await client.run("SELECT INBOX"))[-1].endswith(b"SELECT completed\r\n")  # times: 1


async def test_scripted_bye_closes_instead_of_answering(connect: Connect, faults: FaultState) -> None:
    plan(faults, imap={"replies": [{"command": "FETCH", "status": "BYE", "text": "going away"}]})
    client, session = await connect()
    await client.run("SELECT INBOX")
    await client.send("t99 FETCH 1 FLAGS")
    assert await client.line() == b"* BYE going away\r\n"
    assert await client.at_eof()
    assert session.end_reason == "fault: imap.replies[0] (BYE)"


async def test_dropped_reply_carries_the_command_out(connect: Connect, faults: FaultState) -> None:
    plan(faults, imap={"replies": [{"command": "STORE", "status": "drop", "times": 1}]})
    client, _ = await connect()
    await client.run("SELECT INBOX")
    await client.send("s1 STORE 1 +FLAGS (\\Flagged)")
    lines = await client.run("NOOP")
    assert lines[0] == b"* 1 FETCH (FLAGS (\\Flagged))\r\n"  # the untagged answer came, carried out
    assert not any(line.startswith(b"s1 ") for line in lines)  # its tagged OK never did
    assert lines[-1].endswith(b"OK NOOP completed\r\n")


# --- BYE mid-session ---------------------------------------------------------------------------------


async def test_bye_after_the_nth_command(connect: Connect, faults: FaultState) -> None:
    plan(faults, imap={"bye": {"after_commands": 3, "text": "maintenance"}})
    client, session = await connect()  # LOGIN is command 1
    assert (await client.run("NOOP"))[-1].endswith(b"OK NOOP completed\r\n")
    lines = await client.run("NOOP")  # command 3: answered, then BYE
    assert lines[-1].endswith(b"OK NOOP completed\r\n")
    assert await client.line() == b"* BYE maintenance\r\n"
    assert await client.at_eof()
    assert session.faults_fired == ["imap.bye (drawn)", "imap.bye (after 3 commands)"]


async def test_bye_on_a_verb(connect: Connect, faults: FaultState) -> None:
    client, _ = await connect()
    await client.run("SELECT INBOX")
    assert (await client.run("FETCH 1 FLAGS"))[-1].endswith(b"OK FETCH completed\r\n")
    plan(faults, imap={"bye": {"command": "FETCH"}})
    client, _ = await connect()
    await client.run("SELECT INBOX")
    await client.send("f1 FETCH 1 FLAGS")
    assert await client.line() == b"* BYE server shutting down\r\n"
    assert await client.at_eof()


async def test_a_bye_without_a_trigger_follows_the_first_command(connect: Connect, faults: FaultState) -> None:
    """`{}` is a valid plan (schemathesis sends it): the BYE follows the first command, LOGIN."""
    plan(faults, imap={"bye": {}})
    assert msgspec.convert({"imap": {"bye": {}}}, FaultPlan).imap is not None
    client, session = await connect()  # LOGIN is command 1: answered, then BYE
    assert await client.line() == b"* BYE server shutting down\r\n"
    assert await client.at_eof()
    assert session.faults_fired[-1] == "imap.bye (after 1 commands)"


# --- quirks ------------------------------------------------------------------------------------------


async def test_logout_without_its_tagged_ok(connect: Connect, faults: FaultState) -> None:
    client, _ = await connect()
    lines = await client.run("LOGOUT")
    assert lines[0].startswith(b"* BYE ") and lines[-1].endswith(b"OK LOGOUT completed\r\n")
    plan(faults, imap={"logout_no_ok": {"times": 1}})
    client, session = await connect()
    await client.send("l1 LOGOUT")
    assert (await client.line()).startswith(b"* BYE ")
    assert await client.at_eof()  # no `l1 OK`
    assert session.end_reason == "fault: LOGOUT closed without OK"
    assert "imap.logout_no_ok" in session.faults_fired
    client, _ = await connect()  # times: 1 counts sessions
    assert (await client.run("LOGOUT"))[-1].endswith(b"OK LOGOUT completed\r\n")


@pytest.mark.parametrize("delta", [-2, 5])
async def test_size_delta(connect: Connect, faults: FaultState, delta: int) -> None:
    client, _ = await connect()
    await client.run("SELECT INBOX")
    real = len(MESSAGES[0])
    assert value(await client.run("FETCH 1 RFC822.SIZE"), b"RFC822.SIZE") == b"%d" % real
    plan(faults, imap={"size_delta": {"delta": delta}})
    client, session = await connect()
    await client.run("SELECT INBOX")
    lines = await client.run("FETCH 1 (RFC822.SIZE RFC822)")
    assert value(lines, b"RFC822.SIZE") == b"%d" % (real + delta)
    assert lines[0].endswith(b"RFC822 {%d}\r\n" % real)  # the literal is the real size
    assert f"imap.size_delta ({delta:+d})" in session.faults_fired


async def test_bodystructure_greenmail_113(connect: Connect, faults: FaultState, store: Store) -> None:
    store.get("bob").add(INLINE)
    client, _ = await connect()
    await client.run("SELECT INBOX")
    compliant = (await client.run("FETCH 4 BODYSTRUCTURE"))[0]
    assert b'("inline" NIL)' in compliant
    plan(faults, imap={"bodystructure": {}})
    client, session = await connect()
    await client.run("SELECT INBOX")
    faulted = (await client.run("FETCH 4 BODYSTRUCTURE"))[0]
    assert b'("inline")' in faulted and b'("inline" NIL)' not in faulted
    assert faulted == compliant.replace(b'("inline" NIL)', b'("inline")')
    assert "imap.bodystructure (greenmail-113)" in session.faults_fired
    unchanged = (await client.run("FETCH 1 BODYSTRUCTURE"))[0]  # no disposition: nothing to bend
    assert b"NIL NIL NIL NIL)" in unchanged


def test_greenmail_113_drops_every_disposition_parameter_list() -> None:
    structure = (
        b'(("text" "plain" NIL NIL NIL "7bit" 5 1 NIL ("inline" NIL) NIL NIL)'
        b'("application" "pdf" ("name" "a b.pdf") NIL NIL "base64" 9 NIL '
        b'("attachment" ("filename" "a b.pdf" "size" "9")) NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)'
    )
    assert greenmail_113(structure) == structure.replace(b'("inline" NIL)', b'("inline")').replace(
        b'("attachment" ("filename" "a b.pdf" "size" "9"))', b'("attachment")'
    )


async def test_select_of_an_empty_folder_fails(connect: Connect, faults: FaultState) -> None:
    client, _ = await connect()
    await client.run("CREATE Empty")
    assert (await client.run("SELECT Empty"))[-1].endswith(b"OK [READ-WRITE] SELECT completed\r\n")
    plan(faults, imap={"select_empty_fails": {}})
    client, session = await connect()
    assert (await client.run("SELECT Empty"))[-1].endswith(b" NO uid must be >= 1\r\n")
    assert (await client.run("EXAMINE Empty"))[-1].endswith(b" NO uid must be >= 1\r\n")
    assert (await client.run("SELECT INBOX"))[-1].endswith(b"SELECT completed\r\n")  # not empty
    assert (await client.run("SELECT Missing"))[-1].endswith(b"NO [NONEXISTENT] no folder Missing\r\n")
    assert session.faults_fired.count("imap.select_empty_fails") == 2


async def test_uidvalidity_churns_at_every_select(connect: Connect, faults: FaultState) -> None:
    client, _ = await connect()
    first = value(await client.run("SELECT INBOX"), b"UIDVALIDITY")
    assert value(await client.run("SELECT INBOX"), b"UIDVALIDITY") == first
    plan(faults, imap={"uidvalidity_churn": {}})
    client, session = await connect()
    seen = {value(await client.run(verb), b"UIDVALIDITY") for verb in ("SELECT INBOX", "EXAMINE INBOX")}
    client, _ = await connect()
    seen.add(value(await client.run("SELECT INBOX"), b"UIDVALIDITY"))
    assert len(seen) == 3 and first not in seen
    assert "imap.uidvalidity_churn" in session.faults_fired


async def test_idle_without_updates(
    connect: Connect, faults: FaultState, store: Store, autojump_clock: object
) -> None:
    box = store.get("bob")
    client, _ = await connect()
    await client.run("SELECT INBOX")
    await client.send("i1 IDLE")
    assert await client.line() == b"+ idling\r\n"
    box.add(b"Subject: four\r\n\r\nbody\r\n")
    assert await client.line() == b"* 4 EXISTS\r\n"  # compliant: pushed at once
    await client.send("DONE")
    assert (await client.until(b"i1"))[-1].endswith(b"OK IDLE terminated\r\n")

    plan(faults, imap={"idle_no_updates": {}})
    client, session = await connect()
    await client.run("SELECT INBOX")
    await client.send("i2 IDLE")
    assert await client.line() == b"+ idling\r\n"
    box.add(b"Subject: five\r\n\r\nbody\r\n")
    assert await quiet(client)  # nothing pushed
    await client.send("DONE")
    assert await client.until(b"i2") == [b"* 5 EXISTS\r\n", b"i2 OK IDLE terminated\r\n"]
    assert "imap.idle_no_updates (held)" in session.faults_fired


async def test_idle_cut_without_bye(connect: Connect, faults: FaultState, autojump_clock: object) -> None:
    client, _ = await connect()
    await client.run("SELECT INBOX")
    await client.send("i1 IDLE")
    assert await client.line() == b"+ idling\r\n"
    with trio.move_on_after(60):
        await client.line()
    await client.send("DONE")  # compliant: still there after a quiet minute
    assert (await client.until(b"i1"))[-1].endswith(b"OK IDLE terminated\r\n")

    plan(faults, imap={"idle_cut": {"seconds": 30}})
    client, session = await connect()
    await client.run("SELECT INBOX")
    await client.send("i2 IDLE")
    assert await client.line() == b"+ idling\r\n"
    await client.send("DONE")  # a client that speaks in time keeps its session
    assert (await client.until(b"i2"))[-1].endswith(b"OK IDLE terminated\r\n")
    await client.send("i3 IDLE")
    assert await client.line() == b"+ idling\r\n"
    assert await client.at_eof()  # no BYE
    assert session.end_reason == "fault: IDLE cut without BYE"
    assert "imap.idle_cut (after 30 s)" in session.faults_fired


async def test_peek_sets_seen(connect: Connect, faults: FaultState) -> None:
    client, _ = await connect()
    await client.run("SELECT INBOX")
    await client.run("FETCH 1 BODY.PEEK[]")
    assert b"\\Seen" not in (await client.run("FETCH 1 FLAGS"))[0]
    plan(faults, imap={"peek_sets_seen": {}})
    client, session = await connect()
    await client.run("SELECT INBOX")
    await client.run("FETCH 2 BODY.PEEK[HEADER]")
    assert (await client.run("FETCH 2 FLAGS"))[0] == b"* 2 FETCH (FLAGS (\\Seen))\r\n"
    assert "imap.peek_sets_seen" in session.faults_fired


async def test_expunge_numbers_from_before_the_command(connect: Connect, faults: FaultState) -> None:
    client, _ = await connect()
    await client.run("SELECT INBOX")
    await client.run("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
    assert (await client.run("EXPUNGE"))[:-1] == [b"* 1 EXPUNGE\r\n", b"* 1 EXPUNGE\r\n"]
    plan(faults, imap={"expunge_numbers": {}})
    client, session = await connect()
    await client.run("SELECT INBOX")  # one message left; two more make three
    box = session.store.get("bob")
    box.add(MESSAGES[1])
    box.add(MESSAGES[2])
    await client.run("NOOP")
    await client.run("STORE 1:3 +FLAGS.SILENT (\\Deleted)")
    assert (await client.run("EXPUNGE"))[:-1] == [b"* 1 EXPUNGE\r\n", b"* 2 EXPUNGE\r\n", b"* 3 EXPUNGE\r\n"]
    assert session.faults_fired.count("imap.expunge_numbers") == 1


# --- scope, wire faults ------------------------------------------------------------------------------


async def test_a_mailbox_plan_applies_from_its_login(connect: Connect, faults: FaultState) -> None:
    plan(faults, "bob", imap={"logout_no_ok": {}})
    client, _ = await connect(user="eve", password="other")
    assert (await client.run("LOGOUT"))[-1].endswith(b"OK LOGOUT completed\r\n")
    client, session = await connect()
    await client.send("l1 LOGOUT")
    assert (await client.line()).startswith(b"* BYE ")
    assert await client.at_eof()
    assert "imap.logout_no_ok" in session.faults_fired


async def test_wire_faults_with_protocol_imap(connect: Connect, faults: FaultState) -> None:
    plan(faults, transport=[{"kind": "truncate_retr", "after_bytes": 10, "protocol": "pop3"}])
    client, _ = await connect()
    await client.run("SELECT INBOX")
    assert (await client.run("FETCH 1 RFC822"))[-1].endswith(b"OK FETCH completed\r\n")  # POP3's only
    plan(faults, transport=[{"kind": "truncate_retr", "after_bytes": 10, "protocol": "imap"}])
    client, session = await connect()
    await client.run("SELECT INBOX")
    await client.send("f1 FETCH 1 RFC822")
    received = b""
    while data := await client.stream.receive_some(65536):
        received += data
    assert received.startswith(b"* 1 FETCH ") and len(received) == 10
    assert session.end_reason == "fault: FETCH cut after 10 octets"


async def test_a_stall_on_an_imap_verb(connect: Connect, faults: FaultState, autojump_clock: object) -> None:
    plan(faults, transport=[{"kind": "stall", "protocol": "imap", "command": "SELECT"}])
    client, session = await connect()
    await client.send("s1 SELECT INBOX")
    assert await quiet(client)
    assert "transport[0] stall" in session.faults_fired


@pytest.mark.parametrize(
    ("profile", "knob"),
    [
        ("greenmail-imap", "imap.bodystructure"),
        ("smtp4dev-imap", "imap.select_empty_fails"),
        ("idle-dropper", "imap.idle_cut"),
        ("uidvalidity-churn", "imap.uidvalidity_churn"),
        ("imap-logout-no-ok", "imap.logout_no_ok"),
    ],
)
async def test_the_imap_presets_draw_their_knob(
    connect: Connect, faults: FaultState, profile: str, knob: str
) -> None:
    plan(faults, profile=profile)
    client, session = await connect()
    assert isinstance(session.hooks, ImapHooks)
    assert session.hooks.quirks.fired == (knob,)
    await client.run("CREATE Empty")
    last = (await client.run("SELECT Empty"))[-1]
    assert last.endswith(b" NO uid must be >= 1\r\n") == (profile == "smtp4dev-imap")
