"""curl's IMAP client (imap:// with and without STARTTLS, imaps://) against a real server on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.conftest import Seeded, seed
from tests.rest import Rest

from .external import require, run
from .imap_support import imap_ports, listing, raw_message

CURLE_LOGIN_DENIED = 67
CURLE_PEER_FAILED_VERIFICATION = 60


async def curl(rest: Rest, tenant: Seeded, path: str, *extra: str, scheme: str = "imap") -> bytes:
    ports = await imap_ports(rest, tenant)
    port = ports.imaps if scheme == "imaps" else ports.imap
    url = f"{scheme}://{ports.host}:{port}{path}"
    done = await run(
        require("curl"), "-sS", "--max-time", "30", "-u", f"{tenant.user}:{tenant.password}", *extra, url
    )
    assert done.returncode == 0, (done.returncode, done.stderr)
    return done.stdout


async def test_list_folders_and_create_one(rest: Rest, tenant: Seeded) -> None:
    assert await curl(rest, tenant, "/") == b'* LIST (\\HasNoChildren) "/" INBOX\r\n'
    assert await curl(rest, tenant, "/", "-X", "CREATE Work") == b""
    folders = (await curl(rest, tenant, "/")).splitlines()
    assert folders == [b'* LIST (\\HasNoChildren) "/" INBOX', b'* LIST (\\HasNoChildren) "/" Work']
    rest_folders = await rest.get(f"/tenants/{tenant.name}/mailboxes/{tenant.user}/folders")
    assert [f["name"] for f in rest_folders.json()] == ["INBOX", "Work"]


async def test_fetch_by_uid_is_byte_exact_and_uids_survive_a_deletion(rest: Rest, tenant: Seeded) -> None:
    created = await seed(
        rest, tenant, {"subject": "one"}, {"subject": "two", "text": "a\n.\nb\n"}, {"subject": "three"}
    )
    raw_two = await raw_message(rest, tenant, str(created[1]["id"]))
    uids = {m["subject"]: m["imap_uid"] for m in await listing(rest, tenant)}
    assert (
        await rest.delete(f"/tenants/{tenant.name}/mailboxes/{tenant.user}/messages/{created[0]['id']}")
    ).status == 204
    assert await curl(rest, tenant, f"/INBOX;UID={uids['two']}") == raw_two
    assert await curl(rest, tenant, "/INBOX;MAILINDEX=1") == raw_two  # sequence number 1 is now "two"
    header = await curl(rest, tenant, f"/INBOX;UID={uids['three']};SECTION=HEADER.FIELDS%20(SUBJECT)")
    assert header == b"Subject: three\r\n\r\n"
    assert (
        await curl(rest, tenant, f"/INBOX;UID={uids['two']};SECTION=TEXT") == raw_two.split(b"\r\n\r\n", 1)[1]
    )


async def test_search(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "invoice x"}, {"subject": "hello"}, {"subject": "another X here"})
    assert await curl(rest, tenant, "/INBOX", "-X", "SEARCH SUBJECT x") == b"* SEARCH 1 3\r\n"
    assert await curl(rest, tenant, "/INBOX", "-X", "SEARCH SUBJECT nothing") == b"* SEARCH\r\n"
    uids = [m["imap_uid"] for m in await listing(rest, tenant)]
    found = await curl(rest, tenant, "/INBOX", "-X", "UID SEARCH SUBJECT hello")
    assert found == f"* SEARCH {uids[1]}\r\n".encode()


async def test_starttls_required_and_verified(rest: Rest, tenant: Seeded, ca_file: str) -> None:
    created = await seed(rest, tenant, {"subject": "over starttls"})
    raw = await raw_message(rest, tenant, str(created[0]["id"]))
    assert await curl(rest, tenant, "/INBOX;MAILINDEX=1", "--ssl-reqd", "--cacert", ca_file) == raw


async def test_imaps_list_fetch_and_search(rest: Rest, tenant: Seeded, ca_file: str) -> None:
    created = await seed(rest, tenant, {"subject": "secure x", "text": "secret"})
    raw = await raw_message(rest, tenant, str(created[0]["id"]))
    (uid,) = [m["imap_uid"] for m in await listing(rest, tenant)]
    tls = ("--cacert", ca_file)
    assert await curl(rest, tenant, "/", *tls, scheme="imaps") == b'* LIST (\\HasNoChildren) "/" INBOX\r\n'
    assert await curl(rest, tenant, f"/INBOX;UID={uid}", *tls, scheme="imaps") == raw
    assert (
        await curl(rest, tenant, "/INBOX", "-X", "SEARCH SUBJECT x", *tls, scheme="imaps")
        == b"* SEARCH 1\r\n"
    )


async def test_imaps_with_an_untrusted_certificate_is_refused_by_curl(rest: Rest, tenant: Seeded) -> None:
    ports = await imap_ports(rest, tenant)
    url = f"imaps://{ports.host}:{ports.imaps}/"
    done = await run(
        require("curl"), "-sS", "--max-time", "30", "-u", f"{tenant.user}:{tenant.password}", url
    )
    assert done.returncode == CURLE_PEER_FAILED_VERIFICATION


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5", "*"])
async def test_every_login_mechanism(rest: Rest, tenant: Seeded, mechanism: str) -> None:
    await seed(rest, tenant, {"subject": "auth"})
    assert await curl(rest, tenant, "/INBOX", "-X", "SEARCH ALL", "--login-options", f"AUTH={mechanism}") == (
        b"* SEARCH 1\r\n"
    )


async def test_wrong_password_is_login_denied(rest: Rest, tenant: Seeded) -> None:
    ports = await imap_ports(rest, tenant)
    url = f"imap://{ports.host}:{ports.imap}/"
    done = await run(require("curl"), "-sS", "--max-time", "30", "-u", f"{tenant.user}:wrong", url)
    assert done.returncode == CURLE_LOGIN_DENIED


async def test_upload_appends_to_a_folder(rest: Rest, tenant: Seeded, tmp_path: object) -> None:
    from pathlib import Path

    message = b"From: app@x.test\r\nSubject: uploaded\r\n\r\nline\r\n.\r\nlast\r\n"
    upload = Path(str(tmp_path)) / "upload.eml"
    upload.write_bytes(message)
    await curl(rest, tenant, "/", "-X", "CREATE Work")
    assert await curl(rest, tenant, "/Work", "-T", str(upload)) == b""
    (stored,) = await listing(rest, tenant, folder="Work")
    assert stored["subject"] == "uploaded" and stored["via"] == "imap" and stored["size"] == len(message)
    assert await raw_message(rest, tenant, str(stored["id"])) == message
    assert await listing(rest, tenant) == []
