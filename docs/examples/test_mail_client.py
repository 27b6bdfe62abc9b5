"""An example suite for a mail client, run with `pytest` once mockmail is installed with its pytest extra
(`pip install 'mockmail[pytest]'`, or `pip install -e '/path/to/mockmail[pytest]'` from a checkout).

Each test gets `mail_tenant`: a fresh tenant with its own POP3 and SMTP ports, deleted afterwards.
tests/test_pytest_plugin.py runs this file, so the example stays true.
"""

import poplib
import smtplib

import pytest

MESSAGE = (
    b"From: bob@example.test\r\nTo: alice@example.test\r\nSubject: Ticket #42\r\n\r\nPrinter on fire.\r\n"
)


def fetch_all(host, port, user, password):
    """The client under test: fetch and delete every message over POP3, as a helpdesk does."""
    pop = poplib.POP3(host, port, timeout=10)
    pop.user(user)
    pop.pass_(password)
    messages = []
    for number in range(1, len(pop.list()[1]) + 1):
        messages.append(b"\r\n".join(pop.retr(number)[1]))
        pop.dele(number)
    pop.quit()
    return messages


def test_mail_sent_over_smtp_is_fetched_over_pop3(mail_tenant):
    inbox = mail_tenant.mailbox("alice", password="s3cret")
    with smtplib.SMTP(mail_tenant.smtp.host, mail_tenant.smtp.port) as smtp:
        smtp.sendmail("bob@example.test", ["alice@example.test"], MESSAGE)
    inbox.wait_for(count=1)  # the long-poll: answers when the mail is stored
    fetched = fetch_all(mail_tenant.pop3.host, mail_tenant.pop3.port, "alice", "s3cret")
    assert len(fetched) == 1 and b"Subject: Ticket #42" in fetched[0]
    assert inbox.messages() == []  # deleted, because the client said QUIT
    pop3, smtp = mail_tenant.sessions()  # newest first
    assert smtp.protocol == "smtp" and smtp.end == "quit"
    assert [line.text for line in pop3.lines if line.dir == "C"][-3:] == ["RETR 1", "DELE 1", "QUIT"]


def test_seeded_mail_and_a_transcript_assertion(mail_tenant):
    inbox = mail_tenant.mailbox("alice", password="s3cret")
    inbox.seed(subject="Seeded", text="No SMTP needed")
    assert len(fetch_all(mail_tenant.pop3.host, mail_tenant.pop3.port, "alice", "s3cret")) == 1
    (session,) = mail_tenant.sessions()
    assert session.end == "quit" and session.user == "alice"


@pytest.mark.mockmail(profile="mailpit-legacy")
def test_the_client_survives_the_legacy_server(mail_tenant):
    """Mailpit's old POP3 server closed after QUIT without +OK; poplib raises, a robust client copes."""
    inbox = mail_tenant.mailbox("alice", password="s3cret")
    inbox.seed(subject="Legacy")
    with pytest.raises(poplib.error_proto):
        fetch_all(mail_tenant.pop3.host, mail_tenant.pop3.port, "alice", "s3cret")
    (session,) = mail_tenant.sessions()
    assert "quit (drop)" in session.faults


def test_a_fault_for_one_block_of_the_test(mail_tenant):
    inbox = mail_tenant.mailbox("alice", password="s3cret")
    inbox.seed(subject="one")
    with mail_tenant.faults.set(quit={"reply": "drop", "commit": False}), pytest.raises(poplib.error_proto):
        fetch_all(mail_tenant.pop3.host, mail_tenant.pop3.port, "alice", "s3cret")
    assert len(inbox.messages()) == 1  # the dropped QUIT committed nothing
    assert len(fetch_all(mail_tenant.pop3.host, mail_tenant.pop3.port, "alice", "s3cret")) == 1
