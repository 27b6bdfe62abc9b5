"""Python's poplib against a real server on 127.0.0.1, seeded over REST."""

from __future__ import annotations

import email
import hashlib
import poplib
import ssl

import pytest
import trio

from tests.conftest import Seeded, make_tenant, seed, stored
from tests.rest import Rest


def connect(tenant: Seeded) -> poplib.POP3:
    return poplib.POP3(tenant.host, tenant.port, timeout=30)


async def in_thread(fn: object, *args: object) -> object:
    return await trio.to_thread.run_sync(fn, *args)  # type: ignore[arg-type]


async def test_fetch_and_delete(rest: Rest, tenant: Seeded) -> None:
    created = await seed(
        rest,
        tenant,
        {"subject": "Invoice 1", "text": "Pay me.\n.\nA lone dot above."},
        {"subject": "Invoice 2", "text": "Second."},
    )

    def fetch() -> list[bytes]:
        pop = connect(tenant)
        pop.user(tenant.user)
        pop.pass_(tenant.password)
        count, octets = pop.stat()
        assert count == 2 and octets == sum(int(c["size"]) for c in created)
        _, listing, _ = pop.list()
        assert listing == [f"{i + 1} {c['size']}".encode() for i, c in enumerate(created)]
        _, uids, _ = pop.uidl()
        assert uids == [f"{i + 1} {c['uid']}".encode() for i, c in enumerate(created)]
        bodies = []
        for n in (1, 2):
            _, lines, _size = pop.retr(n)
            bodies.append(b"\r\n".join(lines))
            pop.dele(n)
        assert pop.quit().startswith(b"+OK")
        return bodies

    bodies = await in_thread(fetch)
    first = email.message_from_bytes(bodies[0])  # type: ignore[index]
    assert first["Subject"] == "Invoice 1"
    assert first.get_payload().splitlines()[1] == "."  # the dot line survived stuffing both ways
    assert await stored(rest, tenant) == []


async def test_drop_without_quit_deletes_nothing(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "keep me"})

    def drop() -> None:
        pop = connect(tenant)
        pop.user(tenant.user)
        pop.pass_(tenant.password)
        pop.dele(1)
        pop.sock.close()  # vanish without QUIT

    await in_thread(drop)
    await trio.sleep(0.2)
    assert len(await stored(rest, tenant)) == 1
    mailbox = (await rest.get(f"/tenants/{tenant.name}/mailboxes/{tenant.user}")).json()
    assert mailbox["locked"] is False


async def test_wrong_password_and_in_use(rest: Rest, tenant: Seeded) -> None:
    def attempt() -> tuple[bytes, bytes]:
        pop = connect(tenant)
        pop.user(tenant.user)
        with pytest.raises(poplib.error_proto) as bad:
            pop.pass_("wrong")
        pop.user(tenant.user)
        pop.pass_(tenant.password)
        other = connect(tenant)
        other.user(tenant.user)
        with pytest.raises(poplib.error_proto) as busy:
            other.pass_(tenant.password)
        other.quit()
        pop.quit()
        return bad.value.args[0], busy.value.args[0]

    bad, busy = await in_thread(attempt)  # type: ignore[misc]
    assert bad == b"-ERR [AUTH] invalid user name or password"
    assert busy.startswith(b"-ERR [IN-USE]")


async def test_apop(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "apop"})

    def fetch() -> int:
        pop = connect(tenant)
        pop.apop(tenant.user, tenant.password)
        count = pop.stat()[0]
        pop.quit()
        return count

    assert await in_thread(fetch) == 1


async def test_capa_top_and_noop(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "top", "text": "l1\nl2\nl3\n"})

    def run() -> tuple[dict[str, list[str]], list[bytes]]:
        pop = connect(tenant)
        caps = pop.capa()
        pop.user(tenant.user)
        pop.pass_(tenant.password)
        _, lines, _ = pop.top(1, 1)
        assert pop.noop() == b"+OK"
        pop.quit()
        return caps, lines

    caps, lines = await in_thread(run)  # type: ignore[misc]
    assert {"TOP", "UIDL", "USER", "STLS", "PIPELINING", "RESP-CODES"} <= set(caps)
    assert caps["SASL"] == ["PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"]
    assert lines[-2:] == [b"", b"l1"]


async def test_stls_with_verified_certificate(rest: Rest, tenant: Seeded, ca_file: str) -> None:
    await seed(rest, tenant, {"subject": "secret"})

    def fetch() -> tuple[int, dict[str, list[str]]]:
        context = ssl.create_default_context(cafile=ca_file)
        pop = connect(tenant)
        pop.stls(context)
        caps = pop.capa()
        pop.user(tenant.user)
        pop.pass_(tenant.password)
        count = pop.stat()[0]
        pop.quit()
        return count, caps

    count, caps = await in_thread(fetch)  # type: ignore[misc]
    assert count == 1
    assert "STLS" not in caps  # RFC 2595: not offered again once TLS is on


async def test_implicit_tls(rest: Rest, tenant: Seeded, ca_file: str) -> None:
    await seed(rest, tenant, {"subject": "over tls", "text": "hi"})

    def fetch() -> bytes:
        context = ssl.create_default_context(cafile=ca_file)
        pop = poplib.POP3_SSL(tenant.host, tenant.pop3s_port, context=context, timeout=30)
        pop.user(tenant.user)
        pop.pass_(tenant.password)
        _, lines, _ = pop.retr(1)
        pop.quit()
        return b"\n".join(lines)

    assert b"Subject: over tls" in await in_thread(fetch)  # type: ignore[operator]


async def test_tenants_are_isolated(rest: Rest, tenant: Seeded) -> None:
    other = await make_tenant(rest, "globex", user="alice", password="different")
    await seed(rest, tenant, {"subject": "acme only"})

    def login(t: Seeded, password: str) -> int:
        pop = connect(t)
        pop.user("alice")
        pop.pass_(password)
        count = pop.stat()[0]
        pop.quit()
        return count

    assert await in_thread(login, other, "different") == 0  # same user name, its own empty maildrop
    with pytest.raises(poplib.error_proto, match="AUTH"):
        await in_thread(login, other, tenant.password)  # acme's password means nothing on globex
    assert await in_thread(login, tenant, tenant.password) == 1


async def test_lf_only_upload_is_served_with_exact_sizes(rest: Rest, tenant: Seeded) -> None:
    raw = b"Subject: lf\n\nline\n..two dots\n"
    result = await rest.post(
        f"/tenants/{tenant.name}/mailboxes/{tenant.user}/messages", raw=raw, content_type="message/rfc822"
    )
    assert result.status == 201
    size = result.json()["size"]
    assert size == len(raw.replace(b"\n", b"\r\n"))

    def fetch() -> tuple[bytes, int]:
        pop = connect(tenant)
        pop.user(tenant.user)
        pop.pass_(tenant.password)
        listed = int(pop.list(1).split()[2])
        _, lines, _octets = pop.retr(1)
        pop.quit()
        return b"\r\n".join(lines) + b"\r\n", listed

    body, listed = await in_thread(fetch)  # type: ignore[misc]
    assert listed == size == len(body)
    assert hashlib.sha256(body).digest() == hashlib.sha256(raw.replace(b"\n", b"\r\n")).digest()
