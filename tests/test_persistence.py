"""`--data-dir`: a server stopped and started again on the same folder has everything it acknowledged.

Each test runs real servers one after the other in this process, talks to them over real sockets (REST,
poplib, smtplib), and checks what the second one serves.
"""

from __future__ import annotations

import contextlib
import poplib
import smtplib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import trio

from mockmail.config.settings import Settings
from mockmail.main import Running, serve
from tests.clients.external import require, run
from tests.rest import Rest

ADMIN = "admin-token-for-the-persistence-tests"
CURLE_LOGIN_DENIED = 67


@contextlib.asynccontextmanager
async def running(data_dir: Path, **more: Any) -> AsyncIterator[tuple[Running, Rest]]:
    """One server on `data_dir`, stopped (and its store closed) when the block ends."""
    settings = Settings(api_port=0, data_dir=str(data_dir), admin_token=ADMIN, **more)
    async with trio.open_nursery() as nursery:
        server: Running = await nursery.start(serve, settings)
        yield server, Rest(server.api_url, ADMIN)
        server.stop.set()


def pop3_fetch(host: str, port: int, user: str, password: str, *, dele: bool = False) -> list[bytes]:
    pop = poplib.POP3(host, port, timeout=10)
    pop.user(user)
    pop.pass_(password)
    count, _ = pop.stat()
    bodies = [b"\r\n".join(pop.retr(n)[1]) for n in range(1, count + 1)]
    if dele:
        for n in range(1, count + 1):
            pop.dele(n)
    pop.quit()
    return bodies


async def test_a_restart_keeps_tenants_ports_tokens_mail_and_spent_faults(tmp_path: Path) -> None:
    async with running(tmp_path) as (server, rest):
        created = await rest.post("/tenants", {"name": "acme", "smtp_auth": "none"})
        assert created.status == 201
        tenant = created.json()
        other = (await rest.post("/tenants", {"name": "other"})).json()
        assert (await rest.put("/tenants/acme/mailboxes/bob", {"password": "pw"})).status in (200, 201)
        seeded = await rest.post(
            "/tenants/acme/mailboxes/bob/messages", [{"subject": "one", "uid": "u-1"}, {"subject": "two"}]
        )
        assert seeded.status == 201
        faults = await rest.put("/tenants/acme/faults", {"quit": {"reply": "drop", "times": 1}})
        assert faults.status == 200
        pop3, smtp = tenant["pop3"], tenant["smtp"]

        def send() -> None:
            with smtplib.SMTP(smtp["host"], smtp["port"], timeout=10) as client:
                client.sendmail("app@example.com", ["bob@example.com"], b"Subject: three\r\n\r\nhi\r\n")

        await trio.to_thread.run_sync(send)
        # The one `times` of the QUIT fault is spent by this session (its QUIT gets no reply).
        pop = await trio.to_thread.run_sync(lambda: poplib.POP3(pop3["host"], pop3["port"], timeout=10))
        await trio.to_thread.run_sync(pop.user, "bob")
        await trio.to_thread.run_sync(pop.pass_, "pw")
        await trio.to_thread.run_sync(pop.close)
        listed = (await rest.get("/tenants/acme/mailboxes/bob/messages")).json()
        assert [m["subject"] for m in listed] == ["one", "two", "three"]
        deleted = await rest.delete(f"/tenants/acme/mailboxes/bob/messages/{listed[1]['id']}")
        assert deleted.status == 204
        await rest.delete("/tenants/other")

    async with running(tmp_path) as (server, rest):
        tenants = (await rest.get("/tenants")).json()
        assert [(t["name"], t["state"]) for t in tenants] == [("acme", "running")]
        (again,) = tenants
        assert (again["pop3"], again["smtp"]) == (pop3, smtp)  # the same ports
        own = Rest(server.api_url, tenant["token"])
        assert (await own.get("/tenants/acme")).status == 200  # the tenant's token still works
        assert (await Rest(server.api_url, other["token"]).get("/tenants")).status == 401
        listed_again = (await rest.get("/tenants/acme/mailboxes/bob/messages")).json()
        assert [(m["id"], m["uid"], m["subject"]) for m in listed_again] == [
            (m["id"], m["uid"], m["subject"]) for m in (listed[0], listed[2])
        ]
        detail = (await rest.get(f"/tenants/acme/mailboxes/bob/messages/{listed[2]['id']}")).json()
        assert detail["via"] == "smtp" and detail["envelope"]["mail_from"] == "app@example.com"
        reused = await rest.post("/tenants/acme/mailboxes/bob/messages", {"subject": "x", "uid": "u-1"})
        assert reused.status == 409  # UIDs are never reused, also across a restart
        plan = (await rest.get("/tenants/acme/faults")).json()
        assert plan["quit"]["times"] == 1
        # The fault is spent: this QUIT is answered, and its deletions are kept.
        bodies = await trio.to_thread.run_sync(
            lambda: pop3_fetch(pop3["host"], pop3["port"], "bob", "pw", dele=True)
        )
        assert len(bodies) == 2 and b"Subject: one" in bodies[0]
        assert bodies[1].startswith(b"Return-Path: <app@example.com>") and b"Subject: three" in bodies[1]

    async with running(tmp_path) as (server, rest):
        assert (await rest.get("/tenants/acme/mailboxes/bob/messages")).json() == []
        assert (await rest.get("/tenants/other")).status == 404


async def test_a_taken_port_leaves_that_tenant_failed_and_deletable(tmp_path: Path) -> None:
    async with running(tmp_path) as (_server, rest):
        taken = (await rest.post("/tenants", {"name": "taken"})).json()
        await rest.post("/tenants", {"name": "fine"})
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((taken["smtp"]["host"], taken["smtp"]["port"]))
        squatter.listen()
        async with running(tmp_path) as (_server, rest):
            shown = (await rest.get("/tenants/taken")).json()
            assert shown["state"] == "failed"
            assert "smtp_port" in shown["failure"] and "restart" in shown["failure"]
            assert shown["smtp"] == taken["smtp"]
            assert (await rest.get("/tenants/fine")).json()["state"] == "running"
            ready = await rest.get("/ready")
            assert ready.status == 503 and ready.json()["tenants"] == ["taken"]
            assert (await rest.delete("/tenants/taken")).status == 204
            assert (await rest.get("/ready")).status == 200
    async with running(tmp_path) as (_server, rest):
        assert [t["name"] for t in (await rest.get("/tenants")).json()] == ["fine"]


async def test_config_seeds_once_and_the_data_dir_wins(tmp_path: Path) -> None:
    config = tmp_path / "seed.toml"
    config.write_text(
        '[[tenants]]\nname = "acme"\n[[tenants.mailboxes]]\nuser = "bob"\npassword = "pw"\n'
        '[[tenants.mailboxes.messages]]\nsubject = "welcome"\n'
    )
    data = tmp_path / "data"
    async with running(data, config=str(config)) as (_server, rest):
        (message,) = (await rest.get("/tenants/acme/mailboxes/bob/messages")).json()
        assert (await rest.delete(f"/tenants/acme/mailboxes/bob/messages/{message['id']}")).status == 204
    async with running(data, config=str(config)) as (_server, rest):
        assert (await rest.get("/tenants/acme/mailboxes/bob/messages")).json() == []


async def test_a_tenant_made_again_under_a_kept_name_starts_empty(tmp_path: Path) -> None:
    async with running(tmp_path) as (_server, rest):
        await rest.post("/tenants", {"name": "acme"})
        await rest.put("/tenants/acme/mailboxes/bob", {"password": "pw"})
        await rest.post("/tenants/acme/mailboxes/bob/messages", {"subject": "old", "uid": "u-1"})
        await rest.delete("/tenants/acme")
        await rest.post("/tenants", {"name": "acme"})
        assert (await rest.get("/tenants/acme/mailboxes")).json() == []
    async with running(tmp_path) as (_server, rest):
        assert (await rest.get("/tenants/acme/mailboxes")).json() == []


async def test_a_bearer_token_set_over_rest_survives_a_restart(tmp_path: Path) -> None:
    token = "ya29.kept-across-restarts"
    async with running(tmp_path) as (_server, rest):
        await rest.post("/tenants", {"name": "acme", "exclusive_sessions": False})
        put = await rest.put("/tenants/acme/mailboxes/bob", {"password": "pw", "bearer_token": token})
        assert put.status == 201 and put.json()["oauth"] is True
        await rest.put("/tenants/acme/mailboxes/carol", {"password": "pw"})
    async with running(tmp_path) as (_server, rest):
        shown = {m["user"]: m["oauth"] for m in (await rest.get("/tenants/acme/mailboxes")).json()}
        assert shown == {"bob": True, "carol": False}
        port = (await rest.get("/tenants/acme")).json()["pop3"]["port"]

        async def login(user: str) -> int:
            url = f"pop3://127.0.0.1:{port}/"
            args = ["-sS", "--max-time", "30", "-u", f"{user}:", "--oauth2-bearer", token, url]
            return (await run(require("curl"), *args)).returncode

        assert await login("bob") == 0
        assert await login("carol") == CURLE_LOGIN_DENIED


async def finished_session(rest: Rest, tenant: str, user: str) -> dict[str, Any]:
    """The newest finished session of `user`, once the server lists it as ended (it ends just after its
    last reply is out)."""
    with trio.fail_after(10):
        while True:
            (newest,) = (await rest.get(f"/tenants/{tenant}/sessions?user={user}&limit=1")).json()
            if newest["ended"] is not None:
                return dict((await rest.get(f"/tenants/{tenant}/sessions/{newest['id']}")).json())


async def test_finished_session_transcripts_survive_a_restart(tmp_path: Path) -> None:
    async with running(tmp_path, transcript_limit=2) as (_server, rest):
        pop3 = (await rest.post("/tenants", {"name": "acme"})).json()["pop3"]
        await rest.put("/tenants/acme/mailboxes/bob", {"password": "pw"})
        await rest.post("/tenants/acme/mailboxes/bob/messages", [{"subject": "one"}])
        for _ in range(3):  # the first is pushed out of the two kept
            await trio.to_thread.run_sync(lambda: pop3_fetch(pop3["host"], pop3["port"], "bob", "pw"))
        last = await finished_session(rest, "acme", "bob")
        before = (await rest.get("/tenants/acme/sessions")).json()
    assert len(before) == 2 and last["end"] == "quit" and ("C", "RETR 1") in [
        (line["dir"], line["text"]) for line in last["lines"]
    ]
    async with running(tmp_path, transcript_limit=2) as (_server, rest):
        assert (await rest.get("/tenants/acme/sessions")).json() == before
        assert (await rest.get(f"/tenants/acme/sessions/{last['id']}")).json() == last
        await trio.to_thread.run_sync(lambda: pop3_fetch(pop3["host"], pop3["port"], "bob", "pw"))
        newest = await finished_session(rest, "acme", "bob")
        assert newest["id"] not in {s["id"] for s in before}
        listed = (await rest.get("/tenants/acme/sessions")).json()
        assert [s["id"] for s in listed] == [newest["id"], last["id"]]
