"""curl's POP3 client (pop3:// and pop3s://) against a real server on 127.0.0.1, seeded over REST."""

from __future__ import annotations

import pytest

from tests.conftest import Seeded, seed, stored
from tests.rest import Rest

from .external import require, run

CURLE_LOGIN_DENIED = 67


async def curl(
    tenant: Seeded, path: str = "/", *extra: str, scheme: str = "pop3", port: int | None = None
) -> bytes:
    url = f"{scheme}://{tenant.host}:{port or tenant.port}{path}"
    done = await run(
        require("curl"), "-sS", "--max-time", "30", "-u", f"{tenant.user}:{tenant.password}", *extra, url
    )
    assert done.returncode == 0, (done.returncode, done.stderr)
    return done.stdout


async def test_list_retr_and_delete(rest: Rest, tenant: Seeded) -> None:
    created = await seed(rest, tenant, {"subject": "first", "text": "hello\n.\nworld"}, {"subject": "second"})
    listing = await curl(tenant)
    assert listing == b"".join(f"{i + 1} {c['size']}\r\n".encode() for i, c in enumerate(created))
    body = await curl(tenant, "/1")
    assert len(body) == created[0]["size"]  # curl un-stuffs; what it prints is the message exactly
    assert b"Subject: first\r\n" in body and b"\r\n.\r\nworld" in body
    await curl(tenant, "/1", "-I", "-X", "DELE")
    remaining = await stored(rest, tenant)
    assert [m["subject"] for m in remaining] == ["second"]


async def test_custom_commands_uidl_and_top(rest: Rest, tenant: Seeded) -> None:
    created = await seed(rest, tenant, {"subject": "top me", "text": "l1\nl2\n"})
    uidl = await curl(tenant, "/", "-X", "UIDL")
    assert uidl == f"1 {created[0]['uid']}\r\n".encode()
    top = await curl(tenant, "/", "-X", "TOP 1 1")
    assert top.endswith(b"\r\n\r\nl1\r\n")


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5", "+APOP"])
async def test_every_login_mechanism(rest: Rest, tenant: Seeded, mechanism: str) -> None:
    await seed(rest, tenant, {"subject": "auth"})
    listing = await curl(tenant, "/", "--login-options", f"AUTH={mechanism}")
    assert listing.startswith(b"1 ")


async def test_wrong_password_is_login_denied(rest: Rest, tenant: Seeded) -> None:
    url = f"pop3://{tenant.host}:{tenant.port}/"
    done = await run(require("curl"), "-sS", "--max-time", "30", "-u", f"{tenant.user}:wrong", url)
    assert done.returncode == CURLE_LOGIN_DENIED


async def test_stls_required_and_verified(rest: Rest, tenant: Seeded, ca_file: str) -> None:
    await seed(rest, tenant, {"subject": "stls"})
    listing = await curl(tenant, "/", "--ssl-reqd", "--cacert", ca_file)
    assert listing.startswith(b"1 ")


async def test_pop3s(rest: Rest, tenant: Seeded, ca_file: str) -> None:
    await seed(rest, tenant, {"subject": "pop3s", "text": "secure"})
    body = await curl(tenant, "/1", "--cacert", ca_file, scheme="pop3s", port=tenant.pop3s_port)
    assert b"Subject: pop3s" in body


async def test_untrusted_certificate_is_refused_by_curl(tenant: Seeded) -> None:
    url = f"pop3s://{tenant.host}:{tenant.pop3s_port}/"
    done = await run(
        require("curl"), "-sS", "--max-time", "30", "-u", f"{tenant.user}:{tenant.password}", url
    )
    assert done.returncode == 60  # CURLE_PEER_FAILED_VERIFICATION: the CA is ours, not the system's
