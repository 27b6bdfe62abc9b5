"""`mockmail.client.Client` against a real server: the plugin's in-process `mockmail_server`, a
`mail_tenant` per test, and real poplib and smtplib sessions."""

from __future__ import annotations

import poplib
import smtplib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockmail.client import ApiError, Client, LiveLine, MailTimeout, Tenant
from mockmail.faults import FaultPlan, QuitFault
from mockmail.pytest_plugin import MockmailServer

RAW = b"From: bob@example.test\r\nTo: alice@example.test\r\nSubject: raw one\r\n\r\nhello\r\n"


def send(tenant: Tenant, subject: str, to: str = "alice@example.test") -> None:
    assert tenant.smtp is not None
    with smtplib.SMTP(tenant.smtp.host, tenant.smtp.port) as smtp:
        smtp.sendmail("bob@example.test", [to], f"Subject: {subject}\r\n\r\nbody of {subject}\r\n".encode())


def pop3_login(tenant: Tenant, user: str = "alice", password: str = "pw") -> poplib.POP3:
    assert tenant.pop3 is not None
    pop = poplib.POP3(tenant.pop3.host, tenant.pop3.port, timeout=10)
    pop.user(user)
    pop.pass_(password)
    return pop


@pytest.fixture(name="inbox")
def _inbox(mail_tenant: Tenant) -> Iterator[object]:
    yield mail_tenant.mailbox("alice", password="pw")


def test_a_created_tenant_reports_its_listeners_and_token(mockmail_server: MockmailServer) -> None:
    tenant = mockmail_server.client.create_tenant("client-created", smtp_auth="optional")
    try:
        assert tenant.name == "client-created"
        assert tenant.token is not None and len(tenant.token) == 43
        for endpoint in (tenant.pop3, tenant.pop3s, tenant.smtp, tenant.smtps):
            assert endpoint is not None and endpoint.host == "127.0.0.1" and endpoint.port > 0
        assert tenant.view.smtp_auth == "optional"
        again = mockmail_server.client.tenant("client-created")
        assert again.pop3 == tenant.pop3 and again.token is None
        assert "client-created" in [t.name for t in mockmail_server.client.tenants()]
    finally:
        tenant.delete()
    with pytest.raises(ApiError) as gone:
        mockmail_server.client.tenant("client-created")
    assert gone.value.status == 404 and gone.value.problem.field == "tenant"


def test_errors_carry_the_problem_document(mockmail_server: MockmailServer) -> None:
    with pytest.raises(ApiError) as bad:
        mockmail_server.client.create_tenant("Not A Name")
    assert bad.value.status == 422
    assert bad.value.problem.field == "$.name"
    assert "422" in str(bad.value) and "$.name" in str(bad.value)


def test_seed_takes_bytes_files_and_fields(mail_tenant: Tenant, tmp_path: Path) -> None:
    inbox = mail_tenant.mailbox("alice", password="pw")
    one = inbox.seed(RAW)
    eml = tmp_path / "two.eml"
    eml.write_bytes(RAW.replace(b"raw one", b"from a file"))
    two = inbox.seed(eml)
    mbox = tmp_path / "more.mbox"
    mbox.write_bytes(
        b"From a@b Thu Jan  1 00:00:00 2026\nSubject: m1\n\nx\n\nFrom a@b Thu Jan  1 00:00:00 2026\nSubject: m2\n\ny\n"
    )
    many = inbox.seed(mbox)
    composed = inbox.seed(subject="composed", text="Hi Alice", html="<p>Hi</p>", headers={"X-Test": "1"})
    assert not isinstance(one, list) and not isinstance(two, list) and not isinstance(composed, list)
    assert isinstance(many, list) and len(many) == 2
    listed = inbox.messages()
    assert [m.subject for m in listed] == ["raw one", "from a file", "m1", "m2", "composed"]
    assert [m.id for m in listed] == [one.id, two.id, many[0].id, many[1].id, composed.id]
    assert inbox.raw(one.id) == RAW
    detail = inbox.message(composed.id)
    assert ["X-Test", "1"] in detail.headers and detail.via == "api"
    bodies = inbox.parts(composed.id)
    assert bodies.text == "Hi Alice\n" and bodies.html == "<p>Hi</p>\n" and bodies.attachments == []
    assert inbox.info().messages == 5
    inbox.delete_message(one.id)
    assert len(inbox.messages()) == 4
    inbox.purge()
    assert inbox.messages() == []
    with pytest.raises(TypeError):
        inbox.seed(RAW, subject="both")


def test_parts_and_attachments(mail_tenant: Tenant) -> None:
    inbox = mail_tenant.mailbox("alice", password="pw")
    made = inbox.seed(
        subject="files",
        text="see attached",
        attachments=[
            {"filename": "report.csv", "content": "YSxiCjEsMgo=", "content_type": "text/csv"},
            {"filename": "naïve.bin", "content": "AAECAw=="},
        ],
    )
    assert not isinstance(made, list)
    found = inbox.parts(made.id)
    assert found.text == "see attached\n" and found.html is None
    assert [(a.index, a.filename, a.content_type, a.size) for a in found.attachments] == [
        (0, "report.csv", "text/csv", 8),
        (1, "naïve.bin", "application/octet-stream", 4),
    ]
    assert inbox.attachment(made.id, 0) == b"a,b\n1,2\n"
    assert inbox.attachment(made.id, 1) == b"\x00\x01\x02\x03"
    with pytest.raises(ApiError) as missing:
        inbox.attachment(made.id, 2)
    assert missing.value.status == 404 and missing.value.problem.field == "index"


def test_mailbox_without_password_finds_an_existing_one(mail_tenant: Tenant) -> None:
    with pytest.raises(ApiError) as missing:
        mail_tenant.mailbox("nobody")
    assert missing.value.status == 404
    mail_tenant.mailbox("carol@example.test", password="pw")  # '@' travels percent-encoded
    assert mail_tenant.mailbox("carol@example.test").user == "carol@example.test"
    assert [box.user for box in mail_tenant.mailboxes()] == ["carol@example.test"]


def test_wait_for_returns_when_smtp_mail_arrives(mail_tenant: Tenant) -> None:
    inbox = mail_tenant.mailbox("alice", password="pw")
    sender = threading.Thread(target=lambda: [send(mail_tenant, "first"), send(mail_tenant, "wanted")])
    sender.start()
    try:
        found = inbox.wait_for(count=1, timeout=20, subject="wanted")
    finally:
        sender.join()
    assert [m.subject for m in found] == ["wanted"]
    assert found[0].via == "smtp" and found[0].envelope is not None
    assert len(inbox.wait_for(count=2, timeout=20)) == 2


def test_wait_for_raises_on_timeout_with_what_is_there(mail_tenant: Tenant) -> None:
    inbox = mail_tenant.mailbox("alice", password="pw")
    inbox.seed(subject="not it")
    with pytest.raises(MailTimeout) as late:
        inbox.wait_for(count=1, timeout=0.2, subject="never")
    assert late.value.messages == [] and "never" in str(late.value)
    with pytest.raises(MailTimeout) as short:
        inbox.wait_for(count=2, timeout=0.2)
    assert [m.subject for m in short.value.messages] == ["not it"]


def test_faults_set_is_a_context_manager_that_restores(mail_tenant: Tenant) -> None:
    mail_tenant.mailbox("alice", password="pw").seed(subject="one")
    assert mail_tenant.faults.get() == FaultPlan()
    base = mail_tenant.faults.set(quit={"reply": "hang", "times": 3})
    assert base.plan.quit == QuitFault(reply="hang", times=3)
    with mail_tenant.faults.set(profile="mailpit-legacy") as plan:
        assert plan.profile == "mailpit-legacy"
        pop = pop3_login(mail_tenant)
        assert pop._shortcmd("LIST 1").startswith(b"+OK")  # legacy: LIST n lists everything
        listing = pop._getline()[0]
        assert b"%!d(float64=" in listing
        pop.close()
    assert mail_tenant.faults.get() == base.plan
    patched = mail_tenant.faults.patch(quit=None, size_format={"format": "go-float"})
    assert patched.quit is None and patched.size_format is not None
    mail_tenant.faults.clear()
    assert mail_tenant.faults.get() == FaultPlan()


def test_mailbox_faults_override_the_tenant_plan(mail_tenant: Tenant) -> None:
    inbox = mail_tenant.mailbox("alice", password="pw")
    with inbox.faults.set(quit={"reply": "drop"}) as plan:
        assert plan.quit == QuitFault(reply="drop")
        assert inbox.faults.get().quit == QuitFault(reply="drop")
    assert inbox.faults.get().quit is None
    assert mail_tenant.faults.get() == FaultPlan()


def test_sessions_have_their_lines(mail_tenant: Tenant) -> None:
    mail_tenant.mailbox("alice", password="pw").seed(subject="one")
    pop = pop3_login(mail_tenant)
    assert pop.stat()[0] == 1
    pop.quit()
    send(mail_tenant, "by smtp")
    sessions = mail_tenant.sessions()
    assert [s.protocol for s in sessions] == ["smtp", "pop3"]  # newest first
    pop3 = sessions[1]
    assert pop3.user == "alice" and pop3.end == "quit"
    said = [(line.dir, line.text) for line in pop3.lines]
    assert ("C", "PASS ********") in said and ("C", "QUIT") in said
    assert mail_tenant.sessions(user="alice", limit=1)[0].id == pop3.id
    mail_tenant.clear_sessions()
    assert mail_tenant.sessions() == []


def test_stream_yields_lines_from_the_moment_it_is_entered(mail_tenant: Tenant) -> None:
    mail_tenant.mailbox("alice", password="pw")
    seen: list[LiveLine] = []
    with mail_tenant.stream() as lines:
        client = threading.Thread(target=lambda: pop3_login(mail_tenant).quit())
        client.start()
        for line in lines:
            seen.append(line)
            if line.dir == "end":
                break
        client.join()
    texts = [(line.dir, line.text) for line in seen]
    assert texts[0][0] == "S" and texts[0][1].startswith("+OK")
    assert ("C", "USER alice") in texts and ("C", "QUIT") in texts
    assert seen[-1].user == "alice" and len({line.session for line in seen}) == 1


def test_every_other_operation(mockmail_server: MockmailServer, mail_tenant: Tenant) -> None:
    client = mockmail_server.client
    assert client.get_health().status == "ok"
    assert client.get_ready().status == "ready"
    assert "mockmail_" in client.get_metrics()
    assert client.get_open_api().startswith("openapi: 3.1.0")
    assert client.get_ca_certificate().startswith(b"-----BEGIN CERTIFICATE-----")
    assert "mailpit-legacy" in [p.name for p in client.list_fault_profiles()]
    rotated = client.rotate_tenant_token(mail_tenant.name)
    assert rotated.tenant == mail_tenant.name and len(rotated.token) == 43
    assert client.put_mailbox(mail_tenant.name, "bob", "pw").oauth is False
    assert client.put_mailbox(mail_tenant.name, "bob", "pw", bearer_token="ya29.t").oauth is True
    assert mail_tenant.mailbox("carol", "pw", bearer_token="t2").info().oauth is True
    client.delete_mailbox(mail_tenant.name, "carol")
    client.put_mailbox_faults(mail_tenant.name, "bob", {"quit": {"reply": "drop"}})
    assert client.patch_mailbox_faults(mail_tenant.name, "bob", {"quit": None}).quit is None
    client.delete_mailbox_faults(mail_tenant.name, "bob")
    client.put_tenant_faults(mail_tenant.name, {"profile": "greenmail"})
    assert client.get_tenant_faults(mail_tenant.name).profile == "greenmail"
    assert client.patch_tenant_faults(mail_tenant.name, {"seed": 7}).seed == 7
    client.delete_tenant_faults(mail_tenant.name)
    client.delete_mailbox(mail_tenant.name, "bob")
    assert client.list_mailboxes(mail_tenant.name) == []


def test_a_tenant_token_reaches_its_tenant(mockmail_server: MockmailServer) -> None:
    tenant = mockmail_server.client.create_tenant("client-token")
    try:
        with Client(mockmail_server.url, tenant.token) as own:
            assert own.tenant("client-token").name == "client-token"
    finally:
        tenant.delete()
