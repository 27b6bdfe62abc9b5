"""A helpdesk's email channel end to end over real sockets: the application sends with Ruby Net::SMTP, the
REST long-poll says when the mail is there, and the helpdesk's IMAP fetch (Ruby net-imap) picks it up.
Under greylisting the first send is refused with 451 and stores nothing; the retry gets through."""

from __future__ import annotations

import base64

from tests.conftest import Seeded
from tests.rest import Rest

from .external import ruby
from .imap_support import imap_ports, listing

ADDRESS = "alice@mockmail.test"


async def send(tenant: Seeded, subject: str) -> dict[str, object]:
    return await ruby(
        "helpdesk_send.rb", tenant.host, tenant.smtp_port, "app@helpdesk.test", ADDRESS, subject
    )


async def fetch(rest: Rest, tenant: Seeded, *extra: str) -> dict[str, object]:
    ports = await imap_ports(rest, tenant)
    out = await ruby(
        "helpdesk_imap.rb", ports.host, ports.imap, tenant.user, tenant.password, "INBOX", *extra
    )
    assert out["ok"], out
    return out


def bodies(out: dict[str, object]) -> list[bytes]:
    fetched = out["fetched"]
    assert isinstance(fetched, list)
    return [base64.b64decode(e["body"]) for e in fetched]


async def test_sent_mail_is_fetched_over_imap(rest: Rest, tenant: Seeded, ca_file: str) -> None:
    sent = await send(tenant, "Channel verification")
    assert sent["ok"] and sent["status"] == "250", sent
    (arrived,) = await listing(rest, tenant, query="&wait=30&count=1")  # no sleep: the long-poll
    assert arrived["subject"] == "Channel verification" and arrived["via"] == "smtp"
    out = await fetch(rest, tenant, "--starttls", ca_file)
    (body,) = bodies(out)
    assert b"Subject: Channel verification\r\n" in body
    assert body.endswith(b"Please confirm this channel.\r\n.leading dot line\r\n")  # dot-stuffing undone
    assert out["fetched"][0]["size"] == arrived["size"] == len(body)  # type: ignore[index]
    assert await listing(rest, tenant) == []


async def test_greylisted_send_arrives_on_the_retry_and_is_fetched(rest: Rest, tenant: Seeded) -> None:
    plan = {"smtp": {"greylisting": {"retry_after": 0}}}  # any later attempt of the triple is the retry
    assert (await rest.put(f"/tenants/{tenant.name}/faults", plan)).status == 200
    first = await send(tenant, "Greylisted once")
    assert first["ok"] is False and first["error"] == "Net::SMTPServerBusy", first
    assert str(first["message"]).startswith("451 4.7.1"), first
    nothing = await fetch(rest, tenant)  # the refusal stored nothing: IMAP sees an empty INBOX
    assert nothing["exists"] == 0 and nothing["fetched"] == []
    retry = await send(tenant, "Greylisted once")
    assert retry["ok"] and retry["status"] == "250", retry
    (arrived,) = await listing(rest, tenant, query="&wait=30&count=1")
    assert arrived["subject"] == "Greylisted once"
    out = await fetch(rest, tenant)
    (body,) = bodies(out)
    assert b"Subject: Greylisted once\r\n" in body and len(body) == arrived["size"]
    assert await listing(rest, tenant) == []


async def test_mail_arriving_while_the_helpdesk_keeps_messages(rest: Rest, tenant: Seeded) -> None:
    """Keep-on-server: each poll fetches only what is new (unseen), as the scheduled fetch does."""
    assert (await send(tenant, "First ticket"))["ok"]
    await listing(rest, tenant, query="&wait=30&count=1")
    first = await fetch(rest, tenant, "--keep")
    assert [b"Subject: First ticket\r\n" in b for b in bodies(first)] == [True]
    assert (await send(tenant, "Second ticket"))["ok"]
    await listing(rest, tenant, query="&wait=30&count=2")
    second = await fetch(rest, tenant, "--keep")
    assert second["ids"] == [1, 2]
    assert [b"Subject: Second ticket\r\n" in b for b in bodies(second)] == [True]
    kept = await listing(rest, tenant)
    assert [m["subject"] for m in kept] == ["First ticket", "Second ticket"]
    assert all("\\Seen" in m["flags"] for m in kept)
