"""The knobs behind the legacy-server presets, over in-memory streams: what each puts on the wire.

POP3 uses the session fixtures of `conftest.py`; SMTP opens its own sessions, with the AUTH policy and
TLS the knob needs.  Each test fails without its knob (the compliant reply is asserted alongside where the
difference is not obvious).
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Awaitable, Callable

import msgspec
import pytest
import trio
import trio.testing

from mockmail.faults import PROFILES, FaultPlan, FaultState, Knob, TopFault
from mockmail.server.driver import SessionConfig
from mockmail.server.smtp_session import SmtpPolicy, SmtpSession
from mockmail.server.tls import self_signed
from mockmail.store import MemoryMailbox as Mailbox
from mockmail.store import MemoryStore
from tests.wire import SmtpWire

from .conftest import Connect, login

# --- POP3 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("first_only", [True, False])
async def test_pipelining_first_only_drops_the_rest_of_a_batch(
    connect: Connect, faults: FaultState, first_only: bool
) -> None:
    if first_only:
        faults.set_plan(FaultPlan(profile="pop3-pipelining-first-only"))
    client, session = await connect()
    _, caps = await client.multi("CAPA")
    assert b"PIPELINING" in caps  # still advertised
    await login(client)
    await client.send(b"STAT\r\nLIST\r\nNOOP\r\n")  # one write: the server reads them together
    assert (await client.line()).startswith(b"+OK 2 ")
    await client.send("QUIT")  # on its own: answered
    after = await client.line()
    if first_only:
        assert after.startswith(b"+OK mockmail POP3 server signing off")  # LIST and NOOP never answered
        assert "pipelining (first only: LIST dropped)" in session.faults_fired
        assert "pipelining (first only: NOOP dropped)" in session.faults_fired
    else:
        assert after.startswith(b"+OK 2 messages")  # LIST's answer comes next


async def test_bare_ok_after_pass(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(bare_ok=Knob()))
    client, session = await connect()
    assert await login(client) == b"+OK\r\n"
    assert (await client.cmd("STAT")).startswith(b"+OK 2 ")  # logged in all the same
    assert "bare_ok" in session.faults_fired


async def test_bare_ok_after_auth_plain(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(bare_ok=Knob()))
    client, _ = await connect()
    token = base64.b64encode(b"\0bob\0s3cret").decode()
    assert await client.cmd(f"AUTH PLAIN {token}") == b"+OK\r\n"


async def test_top_whole_sends_the_whole_message(connect: Connect, faults: FaultState, bob: Mailbox) -> None:
    faults.set_plan(FaultPlan(top=TopFault(mode="whole")))
    client, session = await connect()
    _, caps = await client.multi("CAPA")
    assert b"TOP" in caps
    await login(client)
    _, whole = await client.multi("RETR 1")
    _, top = await client.multi("TOP 1 0")
    assert top == whole and b"first body" in top  # TOP 1 0 asked for the header only
    assert "top (whole)" in session.faults_fired


async def test_top_err_refuses_what_capa_claims(connect: Connect, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(top=TopFault(mode="err")))
    client, _ = await connect()
    _, caps = await client.multi("CAPA")
    assert b"TOP" in caps
    await login(client)
    assert await client.cmd("TOP 1 0") == b"-ERR TOP failed\r\n"


# --- SMTP ------------------------------------------------------------------------------------------

Open = Callable[..., Awaitable[tuple[SmtpWire, SmtpSession]]]


@pytest.fixture(name="smtp_store")
def _smtp_store() -> MemoryStore:
    store = MemoryStore()
    store.put("bob", "s3cret")
    return store


@pytest.fixture(name="open_smtp")
def _open_smtp(nursery: trio.Nursery, smtp_store: MemoryStore, faults: FaultState) -> Open:
    async def open_smtp(
        *, greeting: bool = True, auth: str = "none", **config: object
    ) -> tuple[SmtpWire, SmtpSession]:
        client, server = trio.testing.memory_stream_pair()
        policy = SmtpPolicy(10_000, auth=auth, plaintext_auth=True)  # type: ignore[arg-type]
        session = SmtpSession(server, smtp_store, SessionConfig(faults=faults, **config), policy)  # type: ignore[arg-type]

        async def run() -> None:
            await session.run()
            await server.aclose()

        nursery.start_soon(run)
        wire = SmtpWire(client)
        if greeting:
            assert (await wire.reply()).startswith(b"220 ")
        return wire, session

    return open_smtp


def smtp_plan(smtp: dict[str, object]) -> FaultPlan:
    return msgspec.convert({"smtp": smtp}, FaultPlan)


async def test_greeting_over_several_lines(open_smtp: Open, faults: FaultState) -> None:
    faults.set_plan(smtp_plan({"greeting_lines": {"lines": 3}}))
    wire, session = await open_smtp(greeting=False)
    greeting = await wire.reply()
    assert greeting.startswith(b"220-mockmail.test ESMTP mockmail")
    assert greeting.endswith(b"\r\n220-greeting line 2 of 3\r\n220 greeting line 3 of 3\r\n")
    assert (await wire.cmd("EHLO c")).startswith(b"250-")
    assert "smtp.greeting_lines (3)" in session.faults_fired


async def test_error_replies_over_several_lines(open_smtp: Open, faults: FaultState) -> None:
    faults.set_plan(
        smtp_plan({"error_lines": {}, "replies": [{"command": "RCPT", "line": "550 5.1.1 no such user"}]})
    )
    wire, _ = await open_smtp()
    await wire.cmd("EHLO c")
    assert (await wire.cmd("MAIL FROM:<a@x.test>")).startswith(b"250 ")  # a 2xx stays one line
    assert await wire.cmd("RCPT TO:<bob@x.test>") == (
        b"550-5.1.1 no such user\r\n550 see https://mockmail.test/refused for the reason\r\n"
    )
    bad = await wire.cmd("VRFY")  # the compliant 501, with the knob's line after it
    assert bad.startswith(b"501-5.5.4 ")
    assert bad.endswith(b"\r\n501 5.5.4 see https://mockmail.test/refused for the reason\r\n")


async def test_auth_equals_line_beside_auth(open_smtp: Open, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(profile="postfix-broken-auth"))
    wire, _ = await open_smtp()
    lines = (await wire.cmd("EHLO c")).split(b"\r\n")
    auth = next(line for line in lines if line.startswith(b"250-AUTH "))
    assert lines[lines.index(auth) + 1] == b"250-AUTH=" + auth[len(b"250-AUTH ") :]


@pytest.mark.parametrize(
    ("code", "reply"),
    [
        (503, b"503 bad sequence of commands\r\n"),
        (500, b"500 command unrecognized\r\n"),
        (502, b"502 5.5.1 command not recognized\r\n"),
    ],
)
async def test_helo_only_server_refuses_ehlo(
    open_smtp: Open, faults: FaultState, code: int, reply: bytes
) -> None:
    faults.set_plan(smtp_plan({"ehlo_unknown": {"code": code}}))
    wire, _ = await open_smtp()
    assert await wire.cmd("EHLO c") == reply
    assert await wire.cmd("HELO c") == b"250 mockmail.test\r\n"


@pytest.mark.parametrize("knob", [True, False])
async def test_qmail_answers_a_failed_auth_with_235(open_smtp: Open, faults: FaultState, knob: bool) -> None:
    if knob:
        faults.set_plan(FaultPlan(profile="qmail"))
    wire, session = await open_smtp(auth="required")
    await wire.cmd("EHLO c")
    token = base64.b64encode(b"\0bob\0wrong").decode()
    reply = await wire.cmd(f"AUTH PLAIN {token}")
    assert reply == (b"235 auth failure\r\n" if knob else b"535 5.7.8 authentication credentials invalid\r\n")
    assert session.auth_user is None  # not logged in either way
    assert (await wire.cmd("MAIL FROM:<a@x.test>")).startswith(b"530 ")


async def test_quit_closes_without_221(open_smtp: Open, faults: FaultState) -> None:
    faults.set_plan(smtp_plan({"quit_no_reply": {}}))
    wire, session = await open_smtp()
    await wire.cmd("EHLO c")
    await wire.send(b"QUIT\r\n")
    assert await wire.closed()  # not one byte
    await trio.testing.wait_all_tasks_blocked()
    assert session.end_reason == "fault: QUIT closed without 221"


async def test_exim_sync_refuses_a_client_that_talks_first(open_smtp: Open, faults: FaultState) -> None:
    faults.set_plan(FaultPlan(profile="exim-sync"))
    wire, session = await open_smtp(greeting=False)
    assert await wire.cmd("EHLO c") == b"554 SMTP synchronization error\r\n"
    assert await wire.closed()
    await trio.testing.wait_all_tasks_blocked()
    assert session.end_reason == "fault: synchronization error"
    assert "smtp.synchronization (input before the greeting)" in session.faults_fired


async def test_exim_sync_serves_a_client_that_waits(
    open_smtp: Open, faults: FaultState, autojump_clock: trio.testing.MockClock
) -> None:
    faults.set_plan(FaultPlan(profile="exim-sync"))
    wire, _ = await open_smtp(greeting=False)
    assert (await wire.reply()).startswith(b"220 mockmail.test")  # after the held second
    assert (await wire.cmd("EHLO c")).startswith(b"250-")


@pytest.mark.parametrize("knob", [True, False])
async def test_auth_gone_after_starttls(open_smtp: Open, faults: FaultState, knob: bool) -> None:
    if knob:
        faults.set_plan(smtp_plan({"auth_after_starttls": {}}))
    else:
        faults.set_plan(smtp_plan({}))
    material = self_signed(["mockmail.test"])
    assert material.ca_pem is not None
    wire, session = await open_smtp(tls_context=material.context)
    assert b"250-AUTH " in await wire.cmd("EHLO c")  # offered in plaintext (plaintext AUTH allowed)
    assert (await wire.cmd("STARTTLS")).startswith(b"220 ")
    context = ssl.create_default_context(cadata=material.ca_pem.decode())
    tls = trio.SSLStream(wire.stream, context, server_hostname="mockmail.test")
    await tls.do_handshake()
    secure = SmtpWire(tls)
    ehlo = await secure.cmd("EHLO c")
    token = base64.b64encode(b"\0bob\0s3cret").decode()
    auth = await secure.cmd(f"AUTH PLAIN {token}")
    if knob:
        assert b"AUTH" not in ehlo
        assert auth == b"503 5.5.1 AUTH command used when not advertised\r\n"
        assert "smtp.auth_after_starttls" in session.faults_fired
    else:
        assert b"250-AUTH " in ehlo and auth.startswith(b"235 ")


def test_every_new_preset_is_listed_with_a_source() -> None:
    for name in ("pop3-pipelining-first-only", "exim-sync", "qmail", "postfix-broken-auth"):
        assert PROFILES[name].source and PROFILES[name].plan != FaultPlan()
