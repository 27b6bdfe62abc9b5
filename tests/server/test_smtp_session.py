"""mockmail/server/smtp_session.py: the SMTP handler over in-memory streams, against a real store."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import trio
import trio.testing

from mockmail.observe.transcripts import TranscriptLog
from mockmail.server.driver import BAD_COMMAND_BUDGET, SessionConfig
from mockmail.server.smtp_session import SmtpPolicy, SmtpSession
from mockmail.store import MemoryStore
from tests.wire import SmtpWire, send_mail

Open = Callable[..., Awaitable[tuple[SmtpWire, SmtpSession]]]


@pytest.fixture(name="store")
def _store() -> MemoryStore:
    store = MemoryStore()
    store.put("bob", "s3cret")
    store.put("carol@shop.test", "pw")
    store.put("inbox", "pw")
    return store


@pytest.fixture(name="log")
def _log() -> TranscriptLog:
    return TranscriptLog("acme")


@pytest.fixture(name="open_session")
async def _open_session(nursery: trio.Nursery, store: MemoryStore, log: TranscriptLog) -> AsyncIterator[Open]:
    async def open_session(**policy: object) -> tuple[SmtpWire, SmtpSession]:
        client, server = trio.testing.memory_stream_pair()
        config = SessionConfig(transcripts=log, idle_timeout=float(policy.pop("idle_timeout", 600.0)))  # type: ignore[arg-type]
        session = SmtpSession(
            server,
            store,
            config,
            SmtpPolicy(**{"max_message_size": 10_000, **policy}),  # type: ignore[arg-type]
        )

        async def run() -> None:
            await session.run()
            await server.aclose()

        nursery.start_soon(run)
        wire = SmtpWire(client)
        assert (await wire.reply()).startswith(b"220 mockmail.test ESMTP mockmail")
        return wire, session

    yield open_session


async def test_ehlo_lists_the_extensions(open_session: Open) -> None:
    wire, _ = await open_session()
    lines = (await wire.cmd("EHLO client.test")).split(b"\r\n")[:-1]
    assert lines[0] == b"250-mockmail.test greets client.test"
    keywords = [line[4:] for line in lines[1:]]
    assert keywords == [
        b"PIPELINING",
        b"SIZE 10000",
        b"8BITMIME",
        b"ENHANCEDSTATUSCODES",
        b"SMTPUTF8",
        b"CHUNKING",
        b"AUTH PLAIN LOGIN CRAM-MD5",
        b"HELP",
    ]  # no STARTTLS: this server has no TLS
    assert lines[-1].startswith(b"250 ") and all(line.startswith(b"250-") for line in lines[:-1])


async def test_a_message_is_stored_with_trace_fields_and_envelope(
    open_session: Open, store: MemoryStore
) -> None:
    wire, _ = await open_session()
    await wire.cmd("EHLO client.test")
    reply = await send_mail(wire, "a@x.test", ["bob@x.test"], b"Subject: hi\r\n\r\n..dot\r\n")
    assert reply.startswith(b"250 2.0.0 OK queued as ")
    (message,) = store.get("bob").listing()  # stored before the 250 could be read
    trace, _, rest = message.content.partition(b"Subject: hi")
    assert trace.startswith(b"Return-Path: <a@x.test>\r\nReceived: from client.test (")
    assert b"by mockmail.test (mockmail) with ESMTP id " in trace and b"for <bob@x.test>;" in trace
    assert rest == b"\r\n\r\n.dot\r\n"
    assert message.via == "smtp" and message.envelope is not None
    assert (message.envelope.mail_from, message.envelope.rcpt_to) == ("a@x.test", ["bob@x.test"])
    assert (message.envelope.helo, message.envelope.tls, message.envelope.auth) == (
        "client.test",
        False,
        None,
    )


async def test_recipients_resolve_by_address_then_local_part_then_catch_all(
    open_session: Open, store: MemoryStore
) -> None:
    wire, _ = await open_session(catch_all="inbox")
    await wire.cmd("EHLO c")
    reply = await send_mail(
        wire,
        "a@x.test",
        ["carol@shop.test", "bob@anywhere.test", "BOB@x.test", "who@x.test", "else@y.test"],
        b"S: m\r\n\r\n",
    )
    assert reply.startswith(b"250 ")
    carol, bob, inbox = (store.get(user).listing() for user in ("carol@shop.test", "bob", "inbox"))
    assert len(carol) == len(bob) == len(inbox) == 1  # one copy per mailbox
    assert bob[0].envelope is not None and bob[0].envelope.rcpt_to == ["bob@anywhere.test"]
    assert inbox[0].envelope is not None and inbox[0].envelope.rcpt_to == [
        "BOB@x.test",
        "who@x.test",
        "else@y.test",
    ]


async def test_an_unknown_recipient_is_refused_without_catch_all(open_session: Open) -> None:
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    await wire.cmd("MAIL FROM:<a@x.test>")
    assert await wire.cmd("RCPT TO:<nobody@x.test>") == b"550 5.1.1 no mailbox here for <nobody@x.test>\r\n"
    assert (await wire.cmd("DATA")).startswith(b"503 5.5.1 need RCPT")


async def test_pipelined_transactions_get_their_replies_in_order(
    open_session: Open, store: MemoryStore
) -> None:
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    await wire.send(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@x.test>\r\nRCPT TO:<no@x.test>\r\nDATA\r\n")
    replies = [await wire.reply() for _ in range(4)]
    assert [r[:3] for r in replies] == [b"250", b"250", b"550", b"354"]
    await wire.send(b"S: 1\r\n\r\n.\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\n")
    replies = [await wire.reply() for _ in range(4)]
    assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"354"]
    await wire.send(b"S: 2\r\n\r\n.\r\nQUIT\r\n")
    assert (await wire.reply())[:3] == b"250"
    assert (await wire.reply()).startswith(b"221 2.0.0")
    assert [m.summary.subject for m in store.get("bob").listing()] == ["", ""]
    assert store.get("bob").count == 2


async def test_a_client_gone_mid_data_stores_nothing(open_session: Open, store: MemoryStore) -> None:
    wire, session = await open_session()
    await wire.cmd("EHLO c")
    await wire.cmd("MAIL FROM:<a@x.test>")
    await wire.cmd("RCPT TO:<bob@x.test>")
    await wire.cmd("DATA")
    await wire.send(b"Subject: half\r\n\r\nmost of it\r\n")
    await wire.stream.aclose()
    with trio.fail_after(5):
        while session.end_reason == "running":
            await trio.sleep(0)
    assert session.end_reason == "client eof"
    assert store.get("bob").count == 0


async def test_size_limits(open_session: Open, store: MemoryStore) -> None:
    wire, _ = await open_session(max_message_size=200)
    await wire.cmd("EHLO c")
    assert (await wire.cmd("MAIL FROM:<a@x.test> SIZE=201")).startswith(b"552 5.3.4")
    reply = await send_mail(
        wire,
        "a@x.test",
        ["bob@x.test"],
        b"Subject: big\r\n\r\n" + b"x" * 80 + b"\r\n" * 3 + b"y" * 80 + b"\r\n" * 20,
    )
    assert reply.startswith(b"552 5.3.4") and b"nothing stored" in reply
    reply = await send_mail(wire, "a@x.test", ["bob@x.test"], b"Subject: long\r\n\r\n" + b"z" * 120 + b"\r\n")
    assert reply.startswith(b"250 ")  # under the size limit, lines under 1,000: fine
    assert store.get("bob").count == 1


async def test_a_long_text_line_refuses_the_message_and_the_session_goes_on(
    open_session: Open, store: MemoryStore
) -> None:
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    reply = await send_mail(wire, "a@x.test", ["bob@x.test"], b"Subject: x\r\n\r\n" + b"q" * 1200 + b"\r\n")
    assert reply.startswith(b"554 5.6.0 a text line is over 1000 octets")
    assert store.get("bob").count == 0
    assert (await wire.cmd("NOOP")) == b"250 2.0.0 OK\r\n"


async def test_bdat_delivers_like_data(open_session: Open, store: MemoryStore) -> None:
    wire, _ = await open_session()
    await wire.cmd("EHLO c")
    await wire.cmd("MAIL FROM:<a@x.test>")
    await wire.cmd("RCPT TO:<bob@x.test>")
    body = b"Subject: chunks\r\n\r\n.not stuffed\r\n"
    assert await wire.cmd("BDAT 10", raw=body[:10]) == b"250 2.0.0 10 octets received\r\n"
    assert (await wire.cmd(f"BDAT {len(body) - 10} LAST", raw=body[10:])).startswith(b"250 2.0.0 OK queued")
    (message,) = store.get("bob").listing()
    assert message.content.endswith(body)


async def test_utf8_addresses_need_smtputf8(open_session: Open, store: MemoryStore) -> None:
    wire, _ = await open_session(catch_all="inbox")
    await wire.cmd("EHLO c")
    assert (await wire.cmd("MAIL FROM:<jürgen@x.test>")).startswith(b"553 5.6.7")
    assert (await wire.cmd("MAIL FROM:<jürgen@x.test> SMTPUTF8")).startswith(b"250 ")
    assert (await wire.cmd("RCPT TO:<ñoño@x.test>")).startswith(b"250 ")
    assert (await wire.cmd("DATA")).startswith(b"354")
    await wire.send("Subject: ü\r\n\r\nhola\r\n.\r\n".encode())
    assert (await wire.reply()).startswith(b"250 ")
    assert b"with UTF8SMTP id" in store.get("inbox").listing()[0].content


async def test_helo_clients_get_no_parameters(open_session: Open) -> None:
    wire, _ = await open_session()
    assert await wire.cmd("HELO old.client") == b"250 mockmail.test\r\n"
    assert (await wire.cmd("MAIL FROM:<a@x.test> SIZE=10")).startswith(b"555 5.5.4")
    assert (await wire.cmd("MAIL FROM:<a@x.test>")).startswith(b"250 2.1.0")


def _plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


async def test_auth_required_checks_the_mailbox_password(open_session: Open, store: MemoryStore) -> None:
    wire, _ = await open_session(auth="required")
    await wire.cmd("EHLO c")
    assert (await wire.cmd("MAIL FROM:<a@x.test>")) == b"530 5.7.0 authentication required\r\n"
    assert (await wire.cmd(f"AUTH PLAIN {_plain('bob', 'wrong')}")).startswith(b"535 5.7.8")
    assert await wire.cmd("AUTH LOGIN") == b"334 VXNlcm5hbWU6\r\n"
    assert await wire.cmd(base64.b64encode(b"bob")) == b"334 UGFzc3dvcmQ6\r\n"
    assert await wire.cmd(base64.b64encode(b"s3cret")) == b"235 2.7.0 authentication successful\r\n"
    assert (await wire.cmd(f"AUTH PLAIN {_plain('bob', 's3cret')}")).startswith(b"503 5.5.1 already")
    reply = await send_mail(wire, "bob@x.test", ["bob@x.test"], b"S: a\r\n\r\n")
    assert reply.startswith(b"250 ")
    message = store.get("bob").listing()[0]
    assert message.envelope is not None and message.envelope.auth == "bob"
    assert b"with ESMTPA id" in message.content


async def test_auth_none_accepts_any_credentials(open_session: Open) -> None:
    wire, session = await open_session()
    await wire.cmd("EHLO c")
    assert (await wire.cmd(f"AUTH PLAIN {_plain('app@sender.test', 'whatever')}")).startswith(b"235 ")
    assert session.auth_user == "app@sender.test"


async def test_auth_mistakes(open_session: Open) -> None:
    wire, _ = await open_session(auth="optional")
    assert (await wire.cmd("AUTH PLAIN")).startswith(b"503 5.5.1")  # EHLO first
    await wire.cmd("EHLO c")
    assert (await wire.cmd("AUTH GSSAPI")).startswith(b"504 5.5.4")
    assert (await wire.cmd("AUTH PLAIN !!notbase64")).startswith(b"501 5.5.2")
    assert await wire.cmd("AUTH PLAIN") == b"334 \r\n"
    assert (await wire.cmd("*")).startswith(b"501 5.0.0 AUTH cancelled")
    assert (await wire.cmd("MAIL FROM:<a@x.test>")).startswith(b"250 ")  # optional: mail without AUTH


async def test_tls_servers_keep_auth_for_tls(nursery: trio.Nursery, store: MemoryStore) -> None:
    import ssl

    client, server = trio.testing.memory_stream_pair()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    session = SmtpSession(
        server, store, SessionConfig(tls_context=context), SmtpPolicy(10_000, auth="required")
    )
    nursery.start_soon(session.run)
    wire = SmtpWire(client)
    await wire.reply()
    ehlo = await wire.cmd("EHLO c")
    assert b"250-STARTTLS" in ehlo and b"AUTH" not in ehlo
    assert (await wire.cmd(f"AUTH PLAIN {_plain('bob', 's3cret')}")).startswith(b"538 5.7.11")


async def test_garbage_runs_out_the_budget_with_421(open_session: Open) -> None:
    wire, session = await open_session()
    for _ in range(BAD_COMMAND_BUDGET - 1):
        assert (await wire.cmd("FROB")).startswith(b"500 5.5.1")
    assert (await wire.cmd("FROB")).startswith(b"421 4.7.0")
    assert await wire.closed()
    assert session.end_reason == "too many bad commands"


async def test_misc_commands(open_session: Open) -> None:
    wire, _ = await open_session()
    assert (await wire.cmd("STARTTLS")).startswith(b"503 5.5.1 send EHLO")
    await wire.cmd("EHLO c")
    assert (await wire.cmd("VRFY bob")).startswith(b"252 2.5.0")
    assert (await wire.cmd("HELP")).startswith(b"214-2.0.0 commands:")
    assert (await wire.cmd("STARTTLS")).startswith(b"502 5.5.1")
    assert (await wire.cmd("EXPN list")).startswith(b"502 5.5.1")
    assert (await wire.cmd("RSET")) == b"250 2.0.0 OK\r\n"
    assert (await wire.cmd("QUIT")).startswith(b"221 2.0.0")
    assert await wire.closed()


async def test_the_transcript_redacts_auth_and_summarizes_data(
    open_session: Open, log: TranscriptLog
) -> None:
    wire, session = await open_session(auth="optional")
    await wire.cmd("EHLO c")
    await wire.cmd(f"AUTH PLAIN {_plain('bob', 's3cret')}")
    body = b"Subject: secret body\r\n\r\nhidden\r\n"
    await send_mail(wire, "bob@x.test", ["bob@x.test"], body)
    await wire.cmd("QUIT")
    await wire.closed()
    with trio.fail_after(5):
        while session.end_reason == "running":
            await trio.sleep(0)
    (recorder,) = log.sessions()
    detail = recorder.detail()
    assert detail.protocol == "smtp" and detail.user == "bob" and detail.end == "quit"
    texts = [line.text for line in detail.lines]
    assert "AUTH PLAIN ********" in texts
    assert "MAIL FROM:<bob@x.test>" in texts and f"(message: {len(body)} octets)" in texts
    assert not any("s3cret" in t or "hidden" in t or _plain("bob", "s3cret") in t for t in texts)


async def test_idle_sessions_are_closed(open_session: Open, autojump_clock: trio.testing.MockClock) -> None:
    wire, session = await open_session(idle_timeout=300.0)
    await wire.cmd("EHLO c")
    assert await wire.closed()
    assert session.end_reason == "idle timeout"


async def test_shutdown_says_421(nursery: trio.Nursery, store: MemoryStore) -> None:
    client, server = trio.testing.memory_stream_pair()
    session = SmtpSession(server, store, SessionConfig(), SmtpPolicy(10_000))
    wire = SmtpWire(client)
    scope = trio.CancelScope()

    async def serve() -> None:
        try:
            with scope:
                await session.run()
        finally:
            await server.aclose()  # as the listener does: the client then sees the end, not a hang

    nursery.start_soon(serve)
    await wire.reply()
    await wire.cmd("EHLO c")
    await wire.cmd("MAIL FROM:<a@x.test>")
    scope.cancel()  # the server stops (or the tenant is deleted) mid-transaction
    assert await wire.reply() == b"421 4.3.2 service shutting down, closing connection\r\n"
    await trio.testing.wait_all_tasks_blocked()
    assert session.end_reason == "server shutdown" and store.get("bob").count == 0
