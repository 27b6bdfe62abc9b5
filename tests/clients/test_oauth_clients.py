"""Real clients log in with bearer tokens: curl (`--oauth2-bearer`, OAUTHBEARER and XOAUTH2) over POP3
and SMTP, and smtplib's XOAUTH2 including the error challenge of a wrong token.

Tokens are not kept per mailbox over REST yet, so these sessions are served straight from a listener on
127.0.0.1:0 with a `SessionConfig` that has a token lookup (the way a tenant will hand its lookup over).
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
import trio

from mockmail.server.driver import SessionConfig
from mockmail.server.pop3_session import Pop3Session
from mockmail.server.smtp_session import SmtpPolicy, SmtpSession
from mockmail.store import MemoryStore

from .external import require, run

TOKENS = {"bob": "tok-bob"}
CURLE_LOGIN_DENIED = 67


async def _serve(
    nursery: trio.Nursery, store: MemoryStore, make: Callable[[trio.SocketStream], object]
) -> int:
    async def handle(stream: trio.SocketStream) -> None:
        session = make(stream)
        assert isinstance(session, Pop3Session | SmtpSession)
        try:
            await session.run()
        finally:
            await trio.aclose_forcefully(stream)

    listeners = await nursery.start(partial(trio.serve_tcp, handle, 0, host="127.0.0.1"))
    port: int = listeners[0].socket.getsockname()[1]
    return port


@pytest.fixture(name="store")
def _store() -> MemoryStore:
    store = MemoryStore()
    box, _ = store.put("bob", "s3cret")
    box.add(b"Subject: for a token\r\n\r\nbody\r\n")
    return store


async def _pop3(nursery: trio.Nursery, store: MemoryStore) -> int:
    config = SessionConfig(bearer_tokens=TOKENS.get, exclusive_sessions=False)
    return await _serve(nursery, store, lambda stream: Pop3Session(stream, store, config))


async def _smtp(nursery: trio.Nursery, store: MemoryStore) -> int:
    config = SessionConfig(bearer_tokens=TOKENS.get)
    policy = SmtpPolicy(max_message_size=10_000, auth="required", plaintext_auth=True)
    return await _serve(nursery, store, lambda stream: SmtpSession(stream, store, config, policy))


@pytest.mark.parametrize("options", [[], ["--login-options", "AUTH=XOAUTH2"]], ids=["OAUTHBEARER", "XOAUTH2"])
async def test_curl_pop3_with_a_bearer_token(
    nursery: trio.Nursery, store: MemoryStore, options: list[str]
) -> None:
    port = await _pop3(nursery, store)
    url = f"pop3://127.0.0.1:{port}/1"
    done = await run(
        require("curl"), "-sS", "--max-time", "30", "-u", "bob:", "--oauth2-bearer", "tok-bob", *options, url
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"Subject: for a token\r\n\r\nbody\r\n"
    wrong = await run(
        require("curl"), "-sS", "--max-time", "30", "-u", "bob:", "--oauth2-bearer", "stolen", *options, url
    )
    assert wrong.returncode == CURLE_LOGIN_DENIED, wrong.stderr


async def test_curl_smtp_with_a_bearer_token(
    nursery: trio.Nursery, store: MemoryStore, tmp_path: Path
) -> None:
    port = await _smtp(nursery, store)
    mail = tmp_path / "mail.txt"
    mail.write_bytes(b"From: curl@x.test\r\nSubject: sent with a token\r\n\r\nline\r\n")
    done = await run(
        require("curl"),
        "-sS",
        "--max-time",
        "30",
        f"smtp://127.0.0.1:{port}",
        "-u",
        "bob:",
        "--oauth2-bearer",
        "tok-bob",
        "--mail-from",
        "curl@x.test",
        "--mail-rcpt",
        "bob@mockmail.test",
        "-T",
        str(mail),
    )
    assert done.returncode == 0, done.stderr
    newest = store.get("bob").listing()[-1]
    assert newest.envelope is not None and newest.envelope.auth == "bob"


async def test_smtplib_xoauth2_and_the_error_challenge(nursery: trio.Nursery, store: MemoryStore) -> None:
    port = await _smtp(nursery, store)

    def login(token: str) -> tuple[int, bytes] | smtplib.SMTPAuthenticationError:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo("client")
            answers = iter([f"user=bob\x01auth=Bearer {token}\x01\x01", ""])  # "" answers the error challenge
            try:
                return smtp.auth("XOAUTH2", lambda challenge=None: next(answers))
            except smtplib.SMTPAuthenticationError as exc:
                return exc

    assert await trio.to_thread.run_sync(login, "tok-bob") == (235, b"2.7.0 authentication successful")
    failed = await trio.to_thread.run_sync(login, "stolen")
    assert isinstance(failed, smtplib.SMTPAuthenticationError)
    assert (failed.smtp_code, failed.smtp_error) == (535, b"5.7.8 authentication credentials invalid")
