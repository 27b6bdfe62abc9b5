"""Waiting for and finding mail with the clients: `wait_for` filters, search and a message's links,
against a real server, with mail delivered by smtplib over a real socket."""

from __future__ import annotations

import smtplib
import threading
from email.message import EmailMessage

import pytest
import trio

from mockmail.client import ApiError, AsyncTenant, MailTimeout, MessageSummary, Tenant

TOKEN = "q7Rk-20b9"


def deliver(
    tenant: Tenant | AsyncTenant, subject: str, *, sender: str = "noreply@app.test", html: str = ""
) -> None:
    """What the application under test does: send one mail to alice over SMTP."""
    assert tenant.smtp is not None
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, "alice@example.test", subject
    mail.set_content(f"Hello,\n\nthis is {subject}.\n")
    if html:
        mail.add_alternative(html, subtype="html")
    with smtplib.SMTP(tenant.smtp.host, tenant.smtp.port) as smtp:
        smtp.send_message(mail)


def in_background(*sends: tuple[str, dict[str, str]], tenant: Tenant) -> threading.Thread:
    thread = threading.Thread(target=lambda: [deliver(tenant, subject, **kw) for subject, kw in sends])
    thread.start()
    return thread


def test_wait_for_a_subject_that_holds_the_token(mail_tenant: Tenant) -> None:
    inbox = mail_tenant.mailbox("alice", password="pw")
    deliver(mail_tenant, "Your receipt")  # there already, and not what the test waits for
    sender = in_background(("Welcome, Alice!", {}), (f"verify {TOKEN}", {}), tenant=mail_tenant)
    try:
        found = inbox.wait_for(subject=TOKEN, timeout=20)
        welcome = inbox.wait_for(subject="Welcome", timeout=20)
    finally:
        sender.join()
    assert [m.subject for m in found] == [f"verify {TOKEN}"]  # the server sent nothing else
    assert found[0].via == "smtp"
    assert [m.subject for m in welcome] == ["Welcome, Alice!"]
    assert [m.subject for m in inbox.wait_for(subject="WELCOME, alice")] == ["Welcome, Alice!"]


def test_wait_for_by_sender_recipient_and_text(mail_tenant: Tenant) -> None:
    inbox = mail_tenant.mailbox("alice", password="pw")
    inbox.seed(subject="a", **{"from": "news@other.test"}, to=["list@other.test"], text="weekly digest")
    inbox.seed(subject="b", html="<p>Your code is <b>8812</b></p>", **{"from": "App <noreply@app.test>"})
    assert [m.subject for m in inbox.wait_for(sender="NOREPLY@", timeout=5)] == ["b"]
    assert [m.subject for m in inbox.wait_for(to="list@other", timeout=5)] == ["a"]
    assert [m.subject for m in inbox.wait_for(text="code is 8812", timeout=5)] == ["b"]
    assert [m.subject for m in inbox.wait_for(text="digest", sender="news", timeout=5)] == ["a"]


def test_wait_for_with_a_predicate_waits_past_what_it_refuses(mail_tenant: Tenant) -> None:
    inbox = mail_tenant.mailbox("alice", password="pw")
    inbox.seed(subject="code 1111")

    def second_code(message: MessageSummary) -> bool:
        return message.subject != "code 1111"

    sender = in_background(("code 2222", {}), tenant=mail_tenant)
    try:
        found = inbox.wait_for(subject="code", match=second_code, timeout=20)
    finally:
        sender.join()
    assert [m.subject for m in found] == ["code 2222"]


def test_mail_timeout_says_what_was_asked_and_what_was_there(mail_tenant: Tenant) -> None:
    inbox = mail_tenant.mailbox("alice", password="pw")
    inbox.seed(subject="Welcome, Alice!", **{"from": "team@app.test"})
    inbox.seed(subject=f"verify {TOKEN}", **{"from": "someone@else.test"})

    def never(message: MessageSummary) -> bool:
        return False

    with pytest.raises(MailTimeout) as late:
        inbox.wait_for(subject="verify", sender="noreply", timeout=0.2)
    text = str(late.value)
    assert "subject containing 'verify'" in text and "sender containing 'noreply'" in text
    assert "held 2 message(s)" in text and "'Welcome, Alice!' from 'team@app.test'" in text
    assert late.value.messages == [] and [m.subject for m in late.value.held] == [
        "Welcome, Alice!",
        f"verify {TOKEN}",
    ]
    with pytest.raises(MailTimeout) as refused:
        inbox.wait_for(subject="verify", match=never, timeout=0.2)
    assert "match=never" in str(refused.value) and "(0 passed)" in str(refused.value)


def test_search_a_mailbox_and_the_tenant(mail_tenant: Tenant) -> None:
    alice = mail_tenant.mailbox("alice", password="pw")
    bob = mail_tenant.mailbox("bob", password="pw")
    alice.seed(subject="Invoice 7", text="please pay")
    alice.seed(subject="Welcome", text="hello alice")
    bob.seed(subject="Invoice 8", **{"from": "billing@app.test"})  # MessageSpec spells it "from"
    assert [m.subject for m in alice.search("invoice")] == ["Invoice 7"]
    assert [m.subject for m in alice.search(text="pay")] == ["Invoice 7"]
    found = mail_tenant.search("invoice")
    assert [(m.mailbox, m.subject) for m in found] == [("alice", "Invoice 7"), ("bob", "Invoice 8")]
    assert [m.mailbox for m in mail_tenant.search(sender="billing")] == ["bob"]
    with pytest.raises(ApiError) as bad:
        alice.search(subject="")
    assert bad.value.status == 422 and bad.value.problem.field == "subject"


def test_the_verification_link_of_a_mail_sent_over_smtp(mail_tenant: Tenant) -> None:
    inbox = mail_tenant.mailbox("alice", password="pw")
    link = f"https://app.test/verify?token={TOKEN}&user=alice"
    html = f'<p>Welcome! <a href="{link.replace("&", "&amp;")}">Verify your address</a></p>'
    sender = in_background((f"verify {TOKEN}", {"html": html}), tenant=mail_tenant)
    try:
        [mail] = inbox.wait_for(subject="verify", timeout=20)
    finally:
        sender.join()
    assert inbox.message(mail.id).links == [link]


async def test_the_async_client_waits_searches_and_lists_links(trio_mail_tenant: AsyncTenant) -> None:
    inbox = await trio_mail_tenant.mailbox("alice", password="pw")
    await trio.to_thread.run_sync(lambda: deliver(trio_mail_tenant, "Your receipt"))
    found: list[MessageSummary] = []

    async def waiter(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        found.extend(await inbox.wait_for(subject=TOKEN, sender="noreply", timeout=20))

    html = f'<a href="https://app.test/v/{TOKEN}">verify</a>'
    async with trio.open_nursery() as nursery:
        await nursery.start(waiter)
        await trio.to_thread.run_sync(lambda: deliver(trio_mail_tenant, f"verify {TOKEN}", html=html))
    assert [m.subject for m in found] == [f"verify {TOKEN}"]
    assert (await inbox.message(found[0].id)).links == [f"https://app.test/v/{TOKEN}"]
    assert [m.subject for m in await inbox.search(q="receipt")] == ["Your receipt"]
    assert [m.mailbox for m in await trio_mail_tenant.search(subject=TOKEN)] == ["alice"]
    with pytest.raises(MailTimeout, match="text containing 'nowhere'"):
        await inbox.wait_for(text="nowhere", timeout=0.2)
