"""`mockmail.client.AsyncClient` under trio: the plugin's `trio_mail_tenant`, whose server runs in the
test's own nursery."""

from __future__ import annotations

import poplib
import smtplib

import pytest
import trio

from mockmail.client import ApiError, AsyncTenant, LiveLine, MailTimeout
from mockmail.faults import FaultPlan, QuitFault
from mockmail.pytest_plugin import MockmailTrioServer


def send(tenant: AsyncTenant, subject: str) -> None:
    assert tenant.smtp is not None
    with smtplib.SMTP(tenant.smtp.host, tenant.smtp.port) as smtp:
        smtp.sendmail("bob@example.test", ["alice@example.test"], f"Subject: {subject}\r\n\r\nx\r\n".encode())


def pop3_quit(tenant: AsyncTenant) -> int:
    assert tenant.pop3 is not None
    pop = poplib.POP3(tenant.pop3.host, tenant.pop3.port, timeout=10)
    pop.user("alice")
    pop.pass_("pw")
    count = pop.stat()[0]
    pop.quit()
    return count


async def test_wait_for_answers_when_the_mail_comes(trio_mail_tenant: AsyncTenant) -> None:
    inbox = await trio_mail_tenant.mailbox("alice", password="pw")
    found: list[str] = []

    async def waiter(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        messages = await inbox.wait_for(count=1, timeout=20, subject="wanted")
        found.extend(m.subject for m in messages)

    async with trio.open_nursery() as nursery:
        await nursery.start(waiter)
        await trio.to_thread.run_sync(send, trio_mail_tenant, "other")
        await trio.to_thread.run_sync(send, trio_mail_tenant, "wanted")
    assert found == ["wanted"]
    with pytest.raises(MailTimeout):
        await inbox.wait_for(count=3, timeout=0.2)


async def test_seed_faults_and_sessions(trio_mail_tenant: AsyncTenant) -> None:
    inbox = await trio_mail_tenant.mailbox("alice", password="pw")
    created = await inbox.seed(subject="seeded", text="hi")
    assert not isinstance(created, list)
    assert (await inbox.message(created.id)).subject == "seeded"
    async with await trio_mail_tenant.faults.set(quit={"reply": "drop"}) as plan:
        assert plan.quit == QuitFault(reply="drop")
        with pytest.raises(poplib.error_proto):  # QUIT closes without +OK
            await trio.to_thread.run_sync(pop3_quit, trio_mail_tenant)
    assert await trio_mail_tenant.faults.get() == FaultPlan()
    assert await trio.to_thread.run_sync(pop3_quit, trio_mail_tenant) == 1  # nothing was deleted
    sessions = await trio_mail_tenant.sessions(user="alice")
    assert [s.end for s in sessions] == ["quit", "fault: QUIT dropped"]
    assert "quit (drop)" in sessions[1].faults


async def test_stream_under_trio(trio_mail_tenant: AsyncTenant) -> None:
    await trio_mail_tenant.mailbox("alice", password="pw")
    seen: list[LiveLine] = []
    async with trio_mail_tenant.stream(user="alice") as lines, trio.open_nursery() as nursery:
        nursery.start_soon(trio.to_thread.run_sync, pop3_quit, trio_mail_tenant)
        async for line in lines:
            seen.append(line)
            if line.dir == "end":
                break
    assert [line.text for line in seen if line.dir == "C"][-1] == "QUIT"
    assert all(line.user == "alice" for line in seen)


async def test_errors_and_the_server_handle(mockmail_trio_server: MockmailTrioServer) -> None:
    client = mockmail_trio_server.client
    with pytest.raises(ApiError) as missing:
        await client.tenant("nope")
    assert missing.value.problem.status == 404
    tenant = await client.create_tenant("async-one")
    assert [t.name for t in await client.tenants()] == ["async-one"]
    assert (await tenant.refresh()).name == "async-one"
    assert "async-one" in mockmail_trio_server.running.registry
    await tenant.delete()
    assert await client.list_tenants() == []
