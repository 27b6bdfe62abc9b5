"""Tenant `limits` as SMTP and POP3 clients meet them, over real sockets (smtplib, poplib): 452 4.2.2 at
RCPT when the tenant is full, 552 5.3.4 after DATA when a message would cross, `-ERR [SYS/TEMP]` and
`421 4.7.0` over the session limits."""

from __future__ import annotations

import poplib
import smtplib
import socket
from typing import Any

import pytest
import trio

from tests.rest import Rest


async def make(rest: Rest, users: tuple[str, ...] = ("bob",), **limits: Any) -> dict[str, Any]:
    created = await rest.post("/tenants", {"name": "acme", "limits": limits})
    assert created.status == 201, created.body
    for user in users:
        await rest.put(f"/tenants/acme/mailboxes/{user}", {"password": "pw"})
    view: dict[str, Any] = created.json()
    return view


async def subjects(rest: Rest, user: str = "bob") -> list[str]:
    listed = (await rest.get(f"/tenants/acme/mailboxes/{user}/messages")).json()
    return [m["subject"] for m in listed]


def message(subject: str, lines: int = 1) -> bytes:
    return f"Subject: {subject}\r\n\r\n".encode() + b"x" * 70 + b"\r\n" * lines


async def test_a_full_tenant_answers_452_at_rcpt(rest: Rest) -> None:
    smtp = (await make(rest, messages=2))["smtp"]

    def send() -> tuple[int, bytes]:
        with smtplib.SMTP(smtp["host"], smtp["port"], timeout=10) as client:
            for n in range(2):
                client.sendmail("a@example.com", ["bob@example.com"], message(f"m{n}"))
            client.mail("a@example.com")
            reply = client.rcpt("bob@example.com")
            client.rset()
            assert client.noop()[0] == 250  # the session stays usable
            return reply

    code, text = await trio.to_thread.run_sync(send)
    assert code == 452 and text.startswith(b"4.2.2") and b"messages" in text
    assert await subjects(rest) == ["m0", "m1"]


async def test_a_message_that_would_cross_bytes_is_552_after_data_and_no_copy_is_kept(rest: Rest) -> None:
    smtp = (await make(rest, ("bob", "eve"), bytes=6000))["smtp"]

    def send() -> None:
        with smtplib.SMTP(smtp["host"], smtp["port"], timeout=10) as client:
            client.sendmail("a@example.com", ["bob@example.com"], message("small"))
            # One copy of ~4.3 KB fits beside the first message; two do not.
            big = message("big", 2000)
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail("a@example.com", ["bob@example.com", "eve@example.com"], big)
            assert refused.value.smtp_code == 552
            assert refused.value.smtp_error.startswith(b"5.3.4")
            client.sendmail("a@example.com", ["eve@example.com"], message("after"))

    await trio.to_thread.run_sync(send)
    assert await subjects(rest, "bob") == ["small"]
    assert await subjects(rest, "eve") == ["after"]


async def test_smtp_size_follows_message_size(rest: Rest) -> None:
    smtp = (await make(rest, message_size=4096))["smtp"]

    def ehlo() -> str:
        with smtplib.SMTP(smtp["host"], smtp["port"], timeout=10) as client:
            client.ehlo()
            return client.esmtp_features["size"]

    assert await trio.to_thread.run_sync(ehlo) == "4096"


def greeting(host: str, port: int) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection((host, port), timeout=10)
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(512)
        if not chunk:
            break
        data += chunk
    return sock, data


async def test_session_limits_per_protocol(rest: Rest) -> None:
    view = await make(rest, pop3_sessions=1, smtp_sessions=1)
    pop3, smtp = view["pop3"], view["smtp"]

    def check() -> None:
        first = poplib.POP3(pop3["host"], pop3["port"], timeout=10)
        sock, refused = greeting(pop3["host"], pop3["port"])
        sock.close()
        assert refused.startswith(b"-ERR [SYS/TEMP]")
        with smtplib.SMTP(smtp["host"], smtp["port"], timeout=10):  # SMTP has its own limit
            sock, busy = greeting(smtp["host"], smtp["port"])
            sock.close()
            assert busy.startswith(b"421 4.7.0")
        first.quit()

    await trio.to_thread.run_sync(check)
