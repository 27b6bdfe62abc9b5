"""Real SMTP clients against a real server on 127.0.0.1: smtplib, Ruby Net::SMTP, curl and swaks, each
followed by a real POP3 fetch of what was sent (the helpdesk's channel check: send, then poll POP3)."""

from __future__ import annotations

import base64
import email
import email.policy
import poplib
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.conftest import Seeded, make_tenant, stored
from tests.rest import Rest

from .external import require, ruby, run


async def thread(fn: Any, *args: Any) -> Any:
    return await trio.to_thread.run_sync(fn, *args)


async def wait_for(rest: Rest, tenant: Seeded, user: str, count: int = 1) -> list[dict[str, Any]]:
    """The long-poll: returns as soon as `count` messages are there (the mail was acknowledged already)."""
    result = await rest.get(f"/tenants/{tenant.name}/mailboxes/{user}/messages?wait=30&count={count}")
    assert result.status == 200
    found: list[dict[str, Any]] = result.json()
    return found


def message(subject: str, to: str = "alice@mockmail.test", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "app@sender.test"
    msg["To"] = to
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name] = value
    msg.set_content("Hello.\n.\nA lone dot above, and a line\n.starting with one.\n")
    return msg


def pop_all(tenant: Seeded, user: str, password: str) -> list[bytes]:
    pop = poplib.POP3(tenant.host, tenant.port, timeout=30)
    pop.user(user)
    pop.pass_(password)
    count, _ = pop.stat()
    bodies = [b"\r\n".join(pop.retr(n)[1]) + b"\r\n" for n in range(1, count + 1)]
    for n in range(1, count + 1):
        pop.dele(n)
    assert pop.quit().startswith(b"+OK")
    return bodies


async def test_smtplib_sends_to_several_recipients_and_poplib_fetches(rest: Rest, tenant: Seeded) -> None:
    assert (await rest.put(f"/tenants/{tenant.name}/mailboxes/bob", {"password": "b0b"})).status == 201
    msg = message("Invoice", to="alice@mockmail.test", Cc="bob@mockmail.test")

    def send() -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP(tenant.host, tenant.smtp_port, timeout=30) as smtp:
            code, _ = smtp.ehlo("app.test")
            assert code == 250 and smtp.has_extn("pipelining") and smtp.has_extn("size")
            refused = smtp.send_message(msg)
            return refused  # type: ignore[no-any-return]

    assert await thread(send) == {}
    alice, bob = await wait_for(rest, tenant, "alice"), await wait_for(rest, tenant, "bob")
    assert alice[0]["via"] == "smtp" and alice[0]["envelope"]["rcpt_to"] == ["alice@mockmail.test"]
    assert bob[0]["envelope"]["rcpt_to"] == ["bob@mockmail.test"]
    assert alice[0]["envelope"]["helo"] == "app.test" and alice[0]["envelope"]["tls"] is False
    (body,) = await thread(pop_all, tenant, tenant.user, tenant.password)
    assert len(body) == alice[0]["size"]
    fetched = email.message_from_bytes(body, policy=email.policy.default)
    assert fetched["Return-Path"] == "<app@sender.test>" and "by 127.0.0.1 (mockmail)" in fetched["Received"]
    assert fetched["Subject"] == "Invoice"
    assert (
        fetched.get_content().replace("\r\n", "\n") == msg.get_content()
    )  # the dot lines survived stuffing on both sides
    assert await stored(rest, tenant) == []


async def test_smtplib_refused_recipient_and_the_rest_delivered(rest: Rest, tenant: Seeded) -> None:
    def send() -> tuple[Any, Any]:
        with smtplib.SMTP(tenant.host, tenant.smtp_port, timeout=30) as smtp:
            refused = smtp.sendmail(
                "a@x.test", ["alice@x.test", "nobody@x.test"], b"Subject: part\r\n\r\nx\r\n"
            )
            try:
                smtp.sendmail("a@x.test", ["nobody@x.test"], b"Subject: none\r\n\r\nx\r\n")
            except smtplib.SMTPRecipientsRefused as exc:
                return refused, exc.recipients
            return refused, None

    refused, all_refused = await thread(send)
    assert refused == {"nobody@x.test": (550, b"5.1.1 no mailbox here for <nobody@x.test>")}
    assert all_refused == refused
    assert [m["subject"] for m in await wait_for(rest, tenant, "alice")] == ["part"]


async def test_smtplib_starttls_and_auth_then_the_envelope_says_so(
    rest: Rest, server: Any, ca_file: str
) -> None:
    tenant = await make_tenant(rest, "secure", smtp_auth="required")

    def send() -> tuple[int, int]:
        context = ssl.create_default_context(cafile=ca_file)
        with smtplib.SMTP(tenant.host, tenant.smtp_port, timeout=30) as smtp:
            smtp.ehlo()
            assert not smtp.has_extn("auth")  # not before TLS
            code, _ = smtp.mail("a@x.test")
            smtp.rset()
            smtp.starttls(context=context)
            smtp.ehlo()
            assert smtp.has_extn("auth")
            smtp.login(tenant.user, tenant.password)
            smtp.send_message(message("over TLS"))
            return code, 0

    code, _ = await thread(send)
    assert code == 530
    (found,) = await wait_for(rest, tenant, tenant.user)
    assert found["envelope"]["tls"] is True and found["envelope"]["auth"] == tenant.user


async def test_smtplib_wrong_password_is_535_and_three_close(rest: Rest, server: Any) -> None:
    tenant = await make_tenant(rest, "strict", smtp_auth="optional", smtp_plaintext_auth=True)

    def one_mechanism() -> int:
        with smtplib.SMTP(tenant.host, tenant.smtp_port, timeout=30) as smtp:
            smtp.ehlo()
            code, _ = smtp.docmd(
                "AUTH", "PLAIN " + base64.b64encode(f"\0{tenant.user}\0wrong".encode()).decode()
            )
            return code

    def every_mechanism() -> tuple[int, bool]:
        """smtplib's login tries CRAM-MD5, PLAIN and LOGIN in turn: three failures, and the third closes."""
        with smtplib.SMTP(tenant.host, tenant.smtp_port, timeout=30) as smtp:
            try:
                smtp.login(tenant.user, "wrong")
            except smtplib.SMTPAuthenticationError as exc:
                code = exc.smtp_code
            else:
                return 0, False
            try:
                smtp.noop()
            except smtplib.SMTPServerDisconnected:
                return code, True
            return code, False

    assert await thread(one_mechanism) == 535
    assert await thread(every_mechanism) == (421, True)


async def test_smtp_ssl_on_the_submissions_port(rest: Rest, tenant: Seeded, ca_file: str) -> None:
    def send() -> None:
        context = ssl.create_default_context(cafile=ca_file)
        with smtplib.SMTP_SSL(tenant.host, tenant.smtps_port, context=context, timeout=30) as smtp:
            smtp.login(tenant.user, tenant.password)
            smtp.send_message(message("implicit TLS"))

    await thread(send)
    (found,) = await wait_for(rest, tenant, tenant.user)
    assert found["subject"] == "implicit TLS" and found["envelope"]["tls"] is True


async def test_ruby_net_smtp_sends_and_net_pop3_fetches(rest: Rest, tenant: Seeded) -> None:
    """The helpdesk's channel check, both sides in Ruby."""
    out = await ruby(
        "helpdesk_send.rb",
        tenant.host,
        tenant.smtp_port,
        "desk@helpdesk.test",
        "alice@mockmail.test",
        "Verify",
    )
    assert out["ok"], out
    assert out["status"] == "250" and out["message"].startswith("250 2.0.0 OK queued as ")
    fetched = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert fetched["ok"] and fetched["count"] == 1, fetched
    body = fetched["fetched"][0]["body"]
    assert "Subject: Verify" in body and "\r\n.leading dot line\r\n" in body
    assert await stored(rest, tenant) == []


async def test_ruby_net_smtp_starttls_with_verify_peer_and_auth(
    rest: Rest, tenant: Seeded, ca_file: str
) -> None:
    out = await ruby(
        "helpdesk_send.rb",
        tenant.host,
        tenant.smtp_port,
        "desk@helpdesk.test",
        "alice@mockmail.test,alice@other.test",
        "Over STARTTLS",
        tenant.user,
        tenant.password,
        "login",
        "--starttls",
        ca_file,
    )
    assert out["ok"], out
    (found,) = await wait_for(rest, tenant, tenant.user)  # two addresses, one mailbox: one copy
    assert found["envelope"]["rcpt_to"] == ["alice@mockmail.test", "alice@other.test"]
    assert found["envelope"]["tls"] is True and found["envelope"]["auth"] == tenant.user


async def test_ruby_net_smtp_cram_md5_on_smtps(rest: Rest, tenant: Seeded, ca_file: str) -> None:
    out = await ruby(
        "helpdesk_send.rb",
        tenant.host,
        tenant.smtps_port,
        "desk@helpdesk.test",
        "alice@mockmail.test",
        "CRAM",
        tenant.user,
        tenant.password,
        "cram_md5",
        "--tls",
        ca_file,
    )
    assert out["ok"], out
    assert [m["subject"] for m in await wait_for(rest, tenant, tenant.user)] == ["CRAM"]


async def test_curl_uploads_over_smtp_and_smtps(
    rest: Rest, tenant: Seeded, ca_file: str, tmp_path: Path
) -> None:
    mail = tmp_path / "mail.txt"
    mail.write_bytes(b"From: curl@x.test\r\nSubject: from curl\r\n\r\nline\r\n.dot\r\n")
    for scheme, port, extra in (
        ("smtp", tenant.smtp_port, []),
        ("smtps", tenant.smtps_port, ["--cacert", ca_file, "-u", f"{tenant.user}:{tenant.password}"]),
    ):
        done = await run(
            require("curl"),
            "-sS",
            "--max-time",
            "30",
            f"{scheme}://{tenant.host}:{port}",
            "--mail-from",
            "curl@x.test",
            "--mail-rcpt",
            "alice@mockmail.test",
            "-T",
            str(mail),
            *extra,
        )
        assert done.returncode == 0, done.stderr
    found = await wait_for(rest, tenant, tenant.user, 2)
    assert [m["subject"] for m in found] == ["from curl", "from curl"]
    assert [m["envelope"]["tls"] for m in found] == [False, True]
    bodies = await thread(pop_all, tenant, tenant.user, tenant.password)
    assert all(body.endswith(b"\r\n\r\nline\r\n.dot\r\n") for body in bodies)


@pytest.mark.parametrize("tls", [False, True])
async def test_swaks_pipelined_with_auth(rest: Rest, tenant: Seeded, tls: bool) -> None:
    args = [
        require("swaks"),
        "--server",
        f"{tenant.host}:{tenant.smtp_port}",
        "--from",
        "swaks@x.test",
        "--to",
        "alice@mockmail.test",
        "--header",
        "Subject: from swaks",
        "--body",
        "swaks body",
        "--pipeline",
        "--auth",
        "PLAIN",
        "--auth-user",
        tenant.user,
        "--auth-password",
        tenant.password,
        "--timeout",
        "30",
    ]
    if tls:
        args += ["--tls"]  # STARTTLS; swaks does not verify the certificate by default
    done = await run(*args)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    transcript = done.stdout.decode()
    assert "<-  250 2.0.0 OK queued as" in transcript or "<~  250 2.0.0 OK queued as" in transcript
    (found,) = await wait_for(rest, tenant, tenant.user)
    assert found["subject"] == "from swaks" and found["envelope"]["tls"] is tls


SMUGGLED = [b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r", b"\n\n.\r\n"]


@pytest.mark.parametrize("fake_end", SMUGGLED, ids=["LF.LF", "CRLF.LF", "LF.CRLF", "CR.CR", "LFLF.CRLF"])
async def test_smtp_smuggling_over_a_real_socket(rest: Rest, tenant: Seeded, fake_end: bytes) -> None:
    """CVE-2023-51764's published sequences: one message arrives, with the would-be second inside it."""
    stream = await trio.open_tcp_stream(tenant.host, tenant.smtp_port)
    payload = b"EHLO evil.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<alice@x.test>\r\nDATA\r\n"
    await stream.send_all(payload)
    received = b""
    while received.count(b"\r\n") < 12 or b"354 " not in received:
        received += await stream.receive_some(65536)
    await stream.send_all(
        b"Subject: real\r\n\r\nreal"
        + fake_end
        + b"MAIL FROM:<spoof@x.test>\r\nRCPT TO:<alice@x.test>\r\nDATA\r\n"
        b"Subject: smuggled\r\n\r\nspoofed\r\n.\r\nQUIT\r\n"
    )
    while not received.endswith(b"closing connection\r\n"):
        data = await stream.receive_some(65536)
        assert data, received
        received += data
    await stream.aclose()
    assert received.count(b"250 2.0.0 OK queued as") == 1
    found = await stored(rest, tenant)
    assert [m["subject"] for m in found] == ["real"] and found[0]["envelope"]["mail_from"] == "a@x.test"


async def test_greylisting_refuses_the_first_send_and_takes_the_retry(rest: Rest, tenant: Seeded) -> None:
    plan = {"smtp": {"greylisting": {"retry_after": 0}}}  # any later attempt counts as the retry
    assert (await rest.put(f"/tenants/{tenant.name}/faults", plan)).status == 200

    def send_twice() -> tuple[int, dict[str, Any]]:
        msg = message("greylisted")
        with smtplib.SMTP(tenant.host, tenant.smtp_port, timeout=30) as smtp:
            try:
                smtp.send_message(msg)
            except smtplib.SMTPRecipientsRefused as exc:
                code = exc.recipients["alice@mockmail.test"][0]
            else:
                code = 250
        with smtplib.SMTP(tenant.host, tenant.smtp_port, timeout=30) as smtp:
            return code, smtp.send_message(msg)  # type: ignore[return-value]

    code, refused = await thread(send_twice)
    assert code == 451 and refused == {}
    assert [m["subject"] for m in await wait_for(rest, tenant, tenant.user)] == ["greylisted"]


async def test_ruby_net_smtp_meets_a_full_mailbox(rest: Rest, tenant: Seeded) -> None:
    plan = {"smtp": {"replies": [{"command": "RCPT", "line": "452 4.2.2 mailbox full", "times": 1}]}}
    assert (await rest.put(f"/tenants/{tenant.name}/faults", plan)).status == 200
    first = await ruby(
        "helpdesk_send.rb", tenant.host, tenant.smtp_port, "d@x.test", "alice@mockmail.test", "One"
    )
    assert not first["ok"] and first["error"] == "Net::SMTPServerBusy" and "452 4.2.2" in first["message"]
    second = await ruby(
        "helpdesk_send.rb", tenant.host, tenant.smtp_port, "d@x.test", "alice@mockmail.test", "Two"
    )
    assert second["ok"], second
    assert [m["subject"] for m in await wait_for(rest, tenant, tenant.user)] == ["Two"]
