"""Python's imaplib and imapclient against a real server on 127.0.0.1, seeded over REST and SMTP."""

from __future__ import annotations

import imaplib
import smtplib
import ssl
from collections.abc import Callable
from typing import Any

import imapclient
import trio

from tests.conftest import Seeded, make_tenant, seed, stored
from tests.rest import Rest


async def in_thread(fn: Callable[..., Any], *args: object) -> Any:
    return await trio.to_thread.run_sync(fn, *args)


async def imap_port(rest: Rest, tenant: Seeded, listener: str = "imap") -> int:
    view = (await rest.get(f"/tenants/{tenant.name}")).json()
    port: int = view[listener]["port"]
    return port


async def test_login_select_search_fetch_delete(rest: Rest, tenant: Seeded) -> None:
    await seed(
        rest, tenant, {"subject": "Invoice 1", "text": "Pay me."}, {"subject": "Invoice 2", "text": "Two."}
    )
    port = await imap_port(rest, tenant)

    def session() -> bytes:
        imap = imaplib.IMAP4(tenant.host, port, timeout=30)
        assert "IMAP4REV2" in imap.capabilities and "IDLE" in imap.capabilities
        imap.login(tenant.user, tenant.password)
        status, data = imap.select("INBOX")
        assert status == "OK" and data == [b"2"]
        status, found = imap.search(None, "SUBJECT", '"Invoice 2"')
        assert found == [b"2"]
        status, fetched = imap.fetch("1", "(RFC822)")
        body = fetched[0][1]  # type: ignore[index]
        assert isinstance(body, bytes)
        imap.store("1:2", "+FLAGS", "\\Deleted")
        status, gone = imap.expunge()
        assert gone == [b"1", b"1"]
        imap.logout()
        return body

    body = await in_thread(session)
    assert b"Subject: Invoice 1" in body
    assert await stored(rest, tenant) == []


async def test_append_is_stored(rest: Rest, tenant: Seeded) -> None:
    port = await imap_port(rest, tenant)

    def session() -> str:
        imap = imaplib.IMAP4(tenant.host, port, timeout=30)
        imap.login(tenant.user, tenant.password)
        status, data = imap.append("INBOX", "(\\Seen)", None, b"Subject: appended\r\n\r\nhello\r\n")
        imap.logout()
        assert status == "OK"
        return str(data[0])

    answer = await in_thread(session)
    assert "APPENDUID" in answer
    listing = await stored(rest, tenant)
    assert [m["subject"] for m in listing] == ["appended"] and listing[0]["flags"] == ["\\Seen"]


async def test_imaps_with_the_tenant_ca(rest: Rest, tenant: Seeded, ca_file: str) -> None:
    await seed(rest, tenant, {"subject": "secure"})
    port = await imap_port(rest, tenant, "imaps")

    def session() -> list[bytes]:
        context = ssl.create_default_context(cafile=ca_file)
        context.check_hostname = False
        imap = imaplib.IMAP4_SSL(tenant.host, port, ssl_context=context, timeout=30)
        imap.login(tenant.user, tenant.password)
        imap.select("INBOX", readonly=True)
        _, found = imap.search(None, "ALL")
        imap.logout()
        return found  # type: ignore[return-value]

    assert await in_thread(session) == [b"1"]


async def test_login_disabled_until_starttls(rest: Rest, ca_file: str) -> None:
    tenant = await make_tenant(rest, "tlsonly", imap_login_requires_tls=True)
    port = await imap_port(rest, tenant)

    def session() -> tuple[bool, str]:
        imap = imaplib.IMAP4(tenant.host, port, timeout=30)
        disabled = "LOGINDISABLED" in imap.capabilities and "STARTTLS" in imap.capabilities
        try:
            imap.login(tenant.user, tenant.password)
        except imaplib.IMAP4.error as exc:
            refused = str(exc)
        else:  # pragma: no cover - the server let a plaintext login through
            refused = ""
        context = ssl.create_default_context(cafile=ca_file)
        context.check_hostname = False
        imap.starttls(context)
        assert "LOGINDISABLED" not in imap.capabilities
        imap.login(tenant.user, tenant.password)
        imap.logout()
        return disabled, refused

    disabled, refused = await in_thread(session)
    assert disabled and "PRIVACYREQUIRED" in refused


async def test_idle_hears_a_rest_seed(rest: Rest, tenant: Seeded) -> None:
    port = await imap_port(rest, tenant)
    imap = await in_thread(lambda: imaplib.IMAP4(tenant.host, port, timeout=30))

    def start() -> bytes:
        imap.login(tenant.user, tenant.password)
        imap.select("INBOX")
        imap.send(b"idle1 IDLE\r\n")
        return imap.readline()

    assert await in_thread(start) == b"+ idling\r\n"
    await seed(rest, tenant, {"subject": "while idling"})

    def finish() -> tuple[bytes, bytes]:
        update = imap.readline()
        imap.send(b"DONE\r\n")
        done = imap.readline()
        imap.logout()
        return update, done

    update, done = await in_thread(finish)
    assert update == b"* 1 EXISTS\r\n" and done.startswith(b"idle1 OK")


async def test_imapclient_idle_hears_smtp_delivery(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "first"})
    port = await imap_port(rest, tenant)
    client = await in_thread(lambda: imapclient.IMAPClient(tenant.host, port, ssl=False, timeout=30))

    def start() -> list[int]:
        client.login(tenant.user, tenant.password)
        client.select_folder("INBOX")
        found: list[int] = client.search(["ALL"])
        client.idle()
        return found

    assert await in_thread(start) == [1]

    def send() -> None:
        with smtplib.SMTP(tenant.host, tenant.smtp_port, timeout=30) as smtp:
            smtp.sendmail(
                "app@example.com", [f"{tenant.user}@example.com"], b"Subject: by smtp\r\n\r\nhi\r\n"
            )

    await in_thread(send)

    def finish() -> tuple[list[Any], dict[int, Any]]:
        responses = client.idle_check(timeout=30)
        client.idle_done()
        fetched = client.fetch([2], ["FLAGS", "RFC822.SIZE"])
        client.logout()
        return responses, fetched

    responses, fetched = await in_thread(finish)
    assert (2, b"EXISTS") in responses
    assert b"RFC822.SIZE" in fetched[2]
