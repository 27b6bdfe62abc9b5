"""mbsync (isync) keeps a local Maildir in step with a tenant's mailbox over IMAP: a first sync of INBOX and a
second folder, then new mail, flag changes on both sides, a local deletion and a local new message, and a
second sync that carries each of them the right way.  Plain, STARTTLS (verified) and IMAPS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Seeded, seed
from tests.rest import Rest

from .external import require, run
from .imap_support import ImapPorts, imap_ports, listing, raw_message, set_flags

CONFIG = """\
IMAPAccount tenant
Host {host}
Port {port}
User {user}
Pass {password}
AuthMechs LOGIN
SSLType {ssl}
{certificate}

IMAPStore far
Account tenant

MaildirStore near
Path {root}/
Inbox {root}/INBOX
SubFolders Verbatim

Channel tenant
Far :far:
Near :near:
Patterns *
Create Both
Sync All
Expunge Both
SyncState *
"""


@dataclass(frozen=True)
class Maildir:
    path: Path
    config: Path

    async def sync(self) -> str:
        done = await run(require("mbsync"), "-V", "-c", str(self.config), "-a")  # state in the Maildir
        log = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
        assert done.returncode == 0, log
        return log

    def messages(self, folder: str) -> dict[bytes, tuple[Path, str]]:
        """Subject line -> (file, Maildir flag letters) for every message of one local folder."""
        found: dict[bytes, tuple[Path, str]] = {}
        for sub in ("new", "cur"):
            for file in sorted((self.path / folder / sub).iterdir()):
                subject = next(
                    line for line in file.read_bytes().split(b"\n") if line.startswith(b"Subject: ")
                )
                found[subject[9:]] = (file, file.name.partition(":2,")[2])
        return found


def maildir(tmp_path: Path, tenant: Seeded, ports: ImapPorts, ssl: str, ca_file: str) -> Maildir:
    root = tmp_path / "Mail"
    root.mkdir()
    # mbsync checks the name against the certificate's DNS names only (no IP addresses): "localhost" is one.
    host = "localhost" if ssl != "None" else ports.host
    config = tmp_path / "mbsyncrc"
    config.write_text(
        CONFIG.format(
            host=host,
            port=ports.imaps if ssl == "IMAPS" else ports.imap,
            user=tenant.user,
            password=tenant.password,
            ssl=ssl,
            certificate=f"CertificateFile {ca_file}" if ssl != "None" else "",
            root=root,
        )
    )
    return Maildir(root, config)


async def create_folder(ports: ImapPorts, tenant: Seeded, name: str) -> None:
    url = f"imap://{ports.host}:{ports.imap}/"
    done = await run(
        require("curl"), "-sS", "-u", f"{tenant.user}:{tenant.password}", "-X", f"CREATE {name}", url
    )
    assert done.returncode == 0, done.stderr


def lf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n")  # Maildir files hold LF line ends; mbsync converts both ways


def without_tuid(local: bytes) -> bytes:
    """A Maildir file less the `X-TUID:` header that mbsync adds to find its copy again (once, at the header's end)."""
    head, sep, body = local.partition(b"\n\n")
    lines = head.split(b"\n")
    assert [line[:7] for line in lines].count(b"X-TUID:") == 1 and lines[-1].startswith(b"X-TUID: "), head
    return b"\n".join(lines[:-1]) + sep + body


async def by_subject(rest: Rest, tenant: Seeded, folder: str) -> dict[str, dict[str, Any]]:
    return {m["subject"]: m for m in await listing(rest, tenant, folder=folder)}


@pytest.mark.parametrize("ssl", ["None", "STARTTLS", "IMAPS"])
async def test_two_syncs_carry_mail_and_flags_both_ways(
    rest: Rest, tenant: Seeded, ca_file: str, tmp_path: Path, ssl: str
) -> None:
    ports = await imap_ports(rest, tenant)
    (plain,) = await seed(rest, tenant, {"subject": "plain", "text": "one\n.\ntwo\n"})
    flagged_resp = await rest.post(
        f"/tenants/{tenant.name}/mailboxes/{tenant.user}/messages?flags=%5CFlagged", {"subject": "flagged"}
    )
    assert flagged_resp.status == 201, flagged_resp.body
    await create_folder(ports, tenant, "Work")
    work = await rest.post(
        f"/tenants/{tenant.name}/mailboxes/{tenant.user}/messages?folder=Work", {"subject": "project"}
    )
    assert work.status == 201, work.body
    box = maildir(tmp_path, tenant, ports, ssl, ca_file)

    await box.sync()
    inbox = box.messages("INBOX")
    assert sorted(inbox) == [b"flagged", b"plain"]
    assert without_tuid(inbox[b"plain"][0].read_bytes()) == lf(
        await raw_message(rest, tenant, str(plain["id"]))
    )
    assert inbox[b"plain"][1] == "" and inbox[b"flagged"][1] == "F"
    assert sorted(box.messages("Work")) == [b"project"]

    # Between the syncs: new mail and a flag change on the server, a flag change, a deletion and a new
    # message on the local side.
    (late,) = await seed(rest, tenant, {"subject": "late", "text": "arrived after the first sync"})
    await set_flags(rest, tenant, str(plain["id"]), "\\Seen", "\\Answered")
    file, _ = inbox[b"flagged"]
    file.rename(box.path / "INBOX" / "cur" / (file.name.partition(":2,")[0] + ":2,FS"))
    project, _ = box.messages("Work")[b"project"]
    project.rename(box.path / "Work" / "cur" / (project.name.partition(":2,")[0] + ":2,T"))
    local = b"From: me@x.test\nTo: alice@mockmail.test\nSubject: written offline\n\nfrom the laptop\n"
    (box.path / "Work" / "new" / "1700000000.local_1.laptop").write_bytes(local)

    await box.sync()
    inbox = box.messages("INBOX")
    assert sorted(inbox) == [b"flagged", b"late", b"plain"]
    assert without_tuid(inbox[b"late"][0].read_bytes()) == lf(
        await raw_message(rest, tenant, str(late["id"]))
    )
    assert inbox[b"plain"][1] == "RS"  # \Answered \Seen set over REST came down
    server_inbox = await by_subject(rest, tenant, "INBOX")
    assert set(server_inbox["flagged"]["flags"]) == {"\\Flagged", "\\Seen"}  # the local S went up
    assert set(server_inbox["plain"]["flags"]) == {"\\Seen", "\\Answered"}
    server_work = await by_subject(rest, tenant, "Work")
    assert sorted(server_work) == ["written offline"]  # the trashed one expunged, the new one appended
    uploaded = await raw_message(rest, tenant, str(server_work["written offline"]["id"]))
    assert b"Subject: written offline\r\n" in uploaded and uploaded.endswith(b"\r\n\r\nfrom the laptop\r\n")
    assert sorted(box.messages("Work")) == [b"written offline"]

    await box.sync()  # a third sync with nothing new changes nothing
    assert {k: v[1] for k, v in box.messages("INBOX").items()} == {
        b"flagged": "FS",
        b"late": "",
        b"plain": "RS",
    }
    assert len(await listing(rest, tenant)) == 3
