"""What real clients see under fault plans, set over REST: the proof that mockmail reproduces the legacy
server that broke a helpdesk's Ruby Net::POP3 fetching, and that clearing the plan makes it work again.
docs/faults.md tabulates these reactions."""

from __future__ import annotations

import poplib

import pytest
import trio

from tests.conftest import Seeded, seed, stored
from tests.rest import Rest

from .external import require, ruby, run


async def set_faults(rest: Rest, tenant: Seeded, plan: dict[str, object]) -> None:
    result = await rest.put(f"/tenants/{tenant.name}/faults", plan)
    assert result.status == 200, result.body


async def test_helpdesk_fetch_fails_on_float_sizes_when_mail_waits(rest: Rest, tenant: Seeded) -> None:
    created = await seed(rest, tenant, {"subject": "ticket", "text": "help"})
    await set_faults(rest, tenant, {"profile": "mailpit-legacy"})
    out = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["ok"] is False and out["stage"] == "mails"
    assert out["error"] == "Net::POPBadResponse"
    assert out["message"] == f"bad response: 1 %!d(float64={created[0]['size']})"
    assert len(await stored(rest, tenant)) == 1  # nothing was deleted


async def test_helpdesk_finish_raises_eof_on_an_empty_mailbox(rest: Rest, tenant: Seeded) -> None:
    await set_faults(rest, tenant, {"profile": "mailpit-legacy"})
    out = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out == {
        "ok": False,
        "fetched": [],
        "stage": "finish",
        "count": 0,
        "error": "EOFError",
        "message": "end of file reached",
    }


async def test_only_the_quit_drop_fetches_everything_then_raises_eof(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "one"}, {"subject": "two"})
    await set_faults(rest, tenant, {"quit": {"reply": "drop", "commit": True}})
    out = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["stage"] == "finish" and out["error"] == "EOFError" and len(out["fetched"]) == 2
    assert await stored(rest, tenant) == []  # commit: true applies the deletions before the drop


async def test_quit_drop_without_commit_keeps_the_mail(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "one"})
    await set_faults(rest, tenant, {"quit": {"reply": "drop", "commit": False}})
    out = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["error"] == "EOFError" and len(out["fetched"]) == 1
    assert len(await stored(rest, tenant)) == 1


async def test_clearing_the_plan_makes_the_same_script_work(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "one"}, {"subject": "two"})
    await set_faults(rest, tenant, {"profile": "mailpit-legacy"})
    assert (await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password))["ok"] is False
    assert (await rest.delete(f"/tenants/{tenant.name}/faults")).status == 204
    out = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["ok"] is True and len(out["fetched"]) == 2
    assert await stored(rest, tenant) == []


async def test_poplib_desynchronises_on_an_unstuffed_dot_line(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "dots", "text": "before\n.\nafter"})
    await set_faults(rest, tenant, {"profile": "mailpit-legacy"})

    def fetch() -> tuple[list[bytes], bytes]:
        pop = poplib.POP3(tenant.host, tenant.port, timeout=10)
        try:
            pop.user(tenant.user)
            pop.pass_(tenant.password)
            lines = pop.retr(1)[1]
            with pytest.raises(poplib.error_proto) as quit_reply:
                pop.quit()
            return lines, quit_reply.value.args[0]
        finally:
            pop.close()

    lines, quit_error = await trio.to_thread.run_sync(fetch)
    assert lines[-1] == b"before"  # the lone "." ended the message early
    assert quit_error == b"after"  # and the rest was read as the answer to QUIT


async def test_poplib_quit_raises_on_the_dropped_reply(rest: Rest, tenant: Seeded) -> None:
    await set_faults(rest, tenant, {"profile": "mailpit-legacy"})

    def session() -> bytes:
        pop = poplib.POP3(tenant.host, tenant.port, timeout=10)
        try:
            pop.user(tenant.user)
            pop.pass_(tenant.password)
            with pytest.raises(poplib.error_proto) as quit_reply:
                pop.quit()
            return quit_reply.value.args[0]
        finally:
            pop.close()

    assert await trio.to_thread.run_sync(session) == "-ERR EOF"


async def test_curl_prints_float_sizes_and_ignores_the_missing_quit_reply(rest: Rest, tenant: Seeded) -> None:
    created = await seed(rest, tenant, {"subject": "one"})
    await set_faults(rest, tenant, {"profile": "mailpit-legacy"})
    url = f"pop3://{tenant.host}:{tenant.port}/"
    done = await run(
        require("curl"), "-sS", "--max-time", "10", "-u", f"{tenant.user}:{tenant.password}", url
    )
    assert done.returncode == 0
    assert done.stdout == f"1 %!d(float64={created[0]['size']})\r\n".encode()


async def test_scripted_temporary_error_on_retr(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "one"})
    await set_faults(
        rest, tenant, {"replies": [{"command": "RETR", "line": "-ERR [SYS/TEMP] try later", "times": 1}]}
    )
    out = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["ok"] is False and out["stage"] == "pop"
    assert out["error"] == "Net::POPError" and out["message"] == "-ERR [SYS/TEMP] try later"
    second = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert second["ok"] is True  # times: 1 was spent by the first run


async def poplib_fetch(tenant: Seeded, password: str | None = None) -> str:
    """Fetch and delete everything with poplib; return 'ok N' or how it failed."""

    def fetch() -> str:
        pop = None
        try:
            pop = poplib.POP3(tenant.host, tenant.port, timeout=3)
            pop.user(tenant.user)
            pop.pass_(password or tenant.password)
            count = len(pop.list()[1])
            for n in range(1, count + 1):
                pop.retr(n)
                pop.dele(n)
            pop.quit()
            return f"ok {count}"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            if pop is not None:
                pop.close()

    return await trio.to_thread.run_sync(fetch)


async def curl_retr(tenant: Seeded) -> tuple[int, bytes]:
    url = f"pop3://{tenant.host}:{tenant.port}/1"
    done = await run(require("curl"), "-sS", "--max-time", "3", "-u", f"{tenant.user}:{tenant.password}", url)
    return done.returncode, done.stdout


async def test_reset_on_retr(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "one"})
    await set_faults(rest, tenant, {"transport": [{"kind": "reset", "command": "RETR"}]})
    assert (await poplib_fetch(tenant)).startswith("ConnectionResetError")
    assert (await curl_retr(tenant))[0] == 56  # CURLE_RECV_ERROR
    out = await ruby("reaction.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["result"].startswith("Errno::ECONNRESET")
    assert len(await stored(rest, tenant)) == 1


async def test_truncated_retr_goes_unnoticed_by_curl(rest: Rest, tenant: Seeded) -> None:
    created = await seed(rest, tenant, {"subject": "one", "text": "x" * 500})
    await set_faults(rest, tenant, {"transport": [{"kind": "truncate_retr", "after_bytes": 100}]})
    code, body = await curl_retr(tenant)
    assert code == 0 and 0 < len(body) < created[0]["size"]  # curl exits 0 with a cut message
    out = await ruby("reaction.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["result"] == "EOFError: end of file reached"


async def test_refused_greeting(rest: Rest, tenant: Seeded) -> None:
    await set_faults(rest, tenant, {"greeting": {"mode": "err"}})
    assert "service not available" in await poplib_fetch(tenant)
    assert (await curl_retr(tenant))[0] == 8  # CURLE_WEIRD_SERVER_REPLY
    out = await ruby("reaction.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["result"].startswith("Net::POPError: -ERR [SYS/TEMP] service not available")


async def test_lf_line_endings_split_the_clients(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "one"})
    await set_faults(rest, tenant, {"line_endings": {"mode": "lf"}})
    assert await poplib_fetch(tenant) == "ok 1"  # poplib accepts bare LF
    await seed(rest, tenant, {"subject": "two"})
    out = await ruby("reaction.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["result"].startswith("Net::ReadTimeout")  # net-pop waits for a CRLF terminator


async def test_greenmail_preset(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "g", "text": "a\nb\n"})
    await set_faults(rest, tenant, {"profile": "greenmail"})

    def probe() -> tuple[dict[str, list[str]], str, int]:
        pop = poplib.POP3(tenant.host, tenant.port, timeout=5)
        try:
            caps = pop.capa()
            try:
                pop.apop(tenant.user, tenant.password)
                apop = "accepted"
            except poplib.error_proto as exc:
                apop = str(exc)
            pop.user(tenant.user)
            pop.pass_(tenant.password)
            top_lines = len(pop.top(1, 1)[1])  # TOP works though CAPA does not say so
            pop.quit()
            return caps, apop, top_lines
        finally:
            pop.close()

    caps, apop, top_lines = await trio.to_thread.run_sync(probe)
    assert caps == {"UIDL": [], "SASL": ["PLAIN", "XOAUTH2"]}
    assert apop == "b'-ERR APOP not supported'"
    assert top_lines > 0


async def test_smtp4dev_preset(rest: Rest, tenant: Seeded) -> None:
    await seed(rest, tenant, {"subject": "s"})
    await set_faults(rest, tenant, {"profile": "smtp4dev"})

    def probe() -> tuple[list[str], str]:
        pop = poplib.POP3(tenant.host, tenant.port, timeout=5)
        try:
            caps = list(pop.capa())
            pop.user(tenant.user)
            pop.pass_("not the password")
            try:
                pop.top(1, 0)
                top = "worked"
            except poplib.error_proto as exc:
                top = str(exc)
            pop.quit()
            return caps, top
        finally:
            pop.close()

    caps, top = await trio.to_thread.run_sync(probe)
    assert "TOP" in caps
    assert top == "b\"-ERR unknown command 'TOP'\""


async def test_mailpit_current_preset(rest: Rest, tenant: Seeded) -> None:
    created = await seed(rest, tenant, {"subject": "older"}, {"subject": "newer"})
    await set_faults(rest, tenant, {"profile": "mailpit-current"})

    def probe() -> tuple[dict[str, list[str]], bytes, str]:
        pop = poplib.POP3(tenant.host, tenant.port, timeout=5)
        try:
            caps = pop.capa()
            pop.user(tenant.user)
            pop.pass_(tenant.password)
            first_uid = pop.uidl(1)
            try:
                pop._shortcmd("NOOP " + "x" * 600)
                long_line = "accepted"
            except poplib.error_proto as exc:
                long_line = str(exc)
            pop.quit()
            return caps, first_uid, long_line
        finally:
            pop.close()

    caps, first_uid, long_line = await trio.to_thread.run_sync(probe)
    assert caps == {"TOP": [], "USER": [], "UIDL": [], "IMPLEMENTATION": ["Mailpit"]}
    assert first_uid == f"+OK 1 {created[1]['uid']}".encode()  # message 1 is the newest
    assert long_line == "b'-ERR line too long'"
