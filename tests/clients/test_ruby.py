"""Ruby's Net::POP3 (the net-pop gem) against a real server on 127.0.0.1, seeded over REST."""

from __future__ import annotations

from tests.conftest import Seeded, seed, stored
from tests.rest import Rest

from .external import ruby


async def test_block_form_fetches_and_deletes(rest: Rest, tenant: Seeded) -> None:
    created = await seed(rest, tenant, {"subject": "one", "text": "a\n.\nb"}, {"subject": "two"})
    out = await ruby("block_form.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["ok"], out
    assert [m["size"] for m in out["mails"]] == [c["size"] for c in created]
    assert [m["uidl"] for m in out["mails"]] == [c["uid"] for c in created]
    assert [len(m["body"].encode()) for m in out["mails"]] == [c["size"] for c in created]
    assert "\r\n.\r\nb" in out["mails"][0]["body"]  # un-stuffed by the client
    assert await stored(rest, tenant) == []


async def test_helpdesk_sequence_with_mail(rest: Rest, tenant: Seeded) -> None:
    created = await seed(rest, tenant, *({"subject": f"ticket {i}", "text": "x" * 5000} for i in range(3)))
    out = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["ok"], out
    assert out["count"] == 3
    assert [f["size"] for f in out["fetched"]] == [c["size"] for c in created]
    assert all("Subject: ticket" in f["body"] for f in out["fetched"])
    assert await stored(rest, tenant) == []


async def test_helpdesk_sequence_on_an_empty_mailbox(tenant: Seeded) -> None:
    # STAT says 0, so no LIST; finish must still get +OK to QUIT (the EOFError of the legacy server).
    out = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out == {"ok": True, "fetched": [], "stage": "finish", "count": 0}


async def test_helpdesk_sequence_over_implicit_tls_with_verify_peer(
    rest: Rest, tenant: Seeded, ca_file: str
) -> None:
    await seed(rest, tenant, {"subject": "tls"})
    out = await ruby("helpdesk.rb", tenant.host, tenant.pop3s_port, tenant.user, tenant.password, ca_file)
    assert out["ok"], out
    assert out["count"] == 1
    assert await stored(rest, tenant) == []


async def test_wrong_password_raises_authentication_error(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "stays"})
    out = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, "wrong")
    assert out["ok"] is False
    assert out["error"] == "Net::POPAuthenticationError"
    assert "[AUTH]" in out["message"]
    assert len(await stored(rest, tenant)) == 1


async def test_apop(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "a"}, {"subject": "b"})
    out = await ruby("apop.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out == {"ok": True, "count": 2}
    bad = await ruby("apop.rb", tenant.host, tenant.port, tenant.user, "nope")
    assert bad["ok"] is False and bad["error"] == "Net::POPAuthenticationError"
