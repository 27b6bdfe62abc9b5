"""XOAUTH2 and OAUTHBEARER through the real POP3 and SMTP sessions: offered only with a token lookup,
the right token logs in, and a wrong one gets the error challenge and then the protocol's failure reply,
which counts against the failed-login policy like a wrong password."""

from __future__ import annotations

import base64
import json

import trio
import trio.testing

from mockmail.server.driver import SessionConfig
from mockmail.server.smtp_session import SmtpPolicy, SmtpSession
from mockmail.store import MemoryStore
from tests.wire import SmtpWire

from .conftest import Connect

TOKENS = {"bob": "tok-bob"}
OAUTH = "XOAUTH2 OAUTHBEARER"


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def xoauth2(user: str, token: str) -> str:
    return b64(f"user={user}\x01auth=Bearer {token}\x01\x01")


def oauthbearer(user: str, token: str) -> str:
    return b64(f"n,a={user},\x01host=mockmail.test\x01port=110\x01auth=Bearer {token}\x01\x01")


async def test_pop3_offers_the_bearer_mechanisms_only_with_a_lookup(connect: Connect) -> None:
    plain, _ = await connect()
    _status, lines = await plain.multi("CAPA")
    assert b"SASL PLAIN LOGIN CRAM-MD5" in lines and not any(b"XOAUTH2" in line for line in lines)
    assert (await plain.cmd(f"AUTH XOAUTH2 {xoauth2('bob', 'tok-bob')}")).startswith(
        b"-ERR unsupported SASL mechanism, use one of: PLAIN LOGIN CRAM-MD5\r\n"
    )
    oauth, _ = await connect(bearer_tokens=TOKENS.get)
    _status, lines = await oauth.multi("CAPA")
    assert f"SASL PLAIN LOGIN CRAM-MD5 {OAUTH}".encode() in lines
    _status, lines = await oauth.multi("AUTH")
    assert lines[-2:] == [b"XOAUTH2", b"OAUTHBEARER"]


async def test_pop3_xoauth2_and_oauthbearer_log_in(connect: Connect) -> None:
    client, session = await connect(bearer_tokens=TOKENS.get)
    assert (await client.cmd(f"AUTH XOAUTH2 {xoauth2('bob', 'tok-bob')}")).startswith(
        b"+OK bob has 2 messages"
    )
    assert session.user == "bob"
    assert (await client.cmd("QUIT")).startswith(b"+OK")
    assert await client.stream.receive_some(100) == b""  # closed: the maildrop lock is released
    client, _ = await connect(bearer_tokens=TOKENS.get)
    assert await client.cmd("AUTH OAUTHBEARER") == b"+ \r\n"
    assert (await client.cmd(oauthbearer("bob", "tok-bob"))).startswith(b"+OK bob has 2 messages")


async def test_pop3_wrong_token_gets_the_json_error_then_auth_failure(connect: Connect) -> None:
    client, session = await connect(bearer_tokens=TOKENS.get)
    for user in ("bob", "eve", "bob"):  # eve has a mailbox but no token
        challenge = await client.cmd(f"AUTH OAUTHBEARER {oauthbearer(user, 'stolen')}")
        assert challenge.startswith(b"+ ") and challenge.endswith(b"\r\n")
        assert json.loads(base64.b64decode(challenge[2:-2]))["status"] == "invalid_token"
        assert await client.cmd(b64(b"\x01")) == b"-ERR [AUTH] invalid user name or password\r\n"
    assert await client.stream.receive_some(100) == b""  # the third failure closes, as for passwords
    assert session.end_reason == "too many failed logins"


async def _smtp(nursery: trio.Nursery, **policy: object) -> tuple[SmtpWire, SmtpSession]:
    store = MemoryStore()
    store.put("bob", "s3cret")
    client, server = trio.testing.memory_stream_pair()
    session = SmtpSession(
        server,
        store,
        SessionConfig(bearer_tokens=TOKENS.get),
        SmtpPolicy(max_message_size=10_000, auth="required", plaintext_auth=True, **policy),  # type: ignore[arg-type]
    )

    async def run() -> None:
        await session.run()
        await server.aclose()

    nursery.start_soon(run)
    wire = SmtpWire(client)
    await wire.reply()
    ehlo = await wire.cmd("EHLO c")
    assert f"250-AUTH PLAIN LOGIN CRAM-MD5 {OAUTH}\r\n".encode() in ehlo
    return wire, session


async def test_smtp_xoauth2_logs_in_and_a_wrong_token_is_535(nursery: trio.Nursery) -> None:
    wire, session = await _smtp(nursery)
    challenge = await wire.cmd(f"AUTH XOAUTH2 {xoauth2('bob', 'stolen')}")
    assert challenge.startswith(b"334 ")
    assert json.loads(base64.b64decode(challenge[4:-2]))["status"] == "401"
    assert await wire.cmd("") == b"535 5.7.8 authentication credentials invalid\r\n"
    assert (
        await wire.cmd(f"AUTH XOAUTH2 {xoauth2('bob', 'tok-bob')}")
        == b"235 2.7.0 authentication successful\r\n"
    )
    assert session.auth_user == "bob"


async def test_smtp_oauthbearer_in_two_steps(nursery: trio.Nursery) -> None:
    wire, session = await _smtp(nursery)
    assert await wire.cmd("AUTH OAUTHBEARER") == b"334 \r\n"
    assert await wire.cmd(oauthbearer("bob", "tok-bob")) == b"235 2.7.0 authentication successful\r\n"
    assert session.auth_user == "bob"


async def test_smtp_without_a_lookup_does_not_know_them(nursery: trio.Nursery) -> None:
    store = MemoryStore()
    client, server = trio.testing.memory_stream_pair()
    session = SmtpSession(server, store, SessionConfig(), SmtpPolicy(max_message_size=10_000))
    nursery.start_soon(session.run)
    wire = SmtpWire(client)
    await wire.reply()
    assert b"250-AUTH PLAIN LOGIN CRAM-MD5\r\n" in await wire.cmd("EHLO c")
    assert await wire.cmd(f"AUTH OAUTHBEARER {oauthbearer('bob', 'x')}") == (
        b"504 5.5.4 unrecognized authentication type, use one of: PLAIN LOGIN CRAM-MD5\r\n"
    )
