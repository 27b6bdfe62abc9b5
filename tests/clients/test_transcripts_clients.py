"""Transcripts of real client sessions over REST, and the live stream a test can wait on."""

from __future__ import annotations

import json

import trio

from mockmail.main import Running
from tests.conftest import Seeded, seed
from tests.rest import Rest

from .external import ruby


async def test_transcript_of_the_failed_helpdesk_run_shows_the_unanswered_quit(
    rest: Rest, tenant: Seeded
) -> None:
    await rest.put(f"/tenants/{tenant.name}/faults", {"quit": {"reply": "drop"}})
    out = await ruby("helpdesk.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert out["error"] == "EOFError"
    sessions = (await rest.get(f"/tenants/{tenant.name}/sessions?user={tenant.user}")).json()
    assert len(sessions) == 1 and sessions[0]["end"] == "fault: QUIT dropped"
    detail = (await rest.get(f"/tenants/{tenant.name}/sessions/{sessions[0]['id']}")).json()
    lines = [(line["dir"], line["text"]) for line in detail["lines"]]
    assert ("C", "USER alice") in lines and ("C", "PASS ********") in lines
    assert tenant.password not in json.dumps(detail)
    quit_at = lines.index(("C", "QUIT"))
    assert lines[quit_at + 1 :] == [
        ("fault", "quit (drop)"),
        ("end", "fault: QUIT dropped"),
    ]  # no S line after QUIT
    assert detail["faults"] == ["quit (drawn)", "quit (drop)"]


async def test_bodies_are_summarized(rest: Rest, tenant: Seeded) -> None:
    created = await seed(rest, tenant, {"subject": "x", "text": "secret body text"})
    await ruby("block_form.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    (summary,) = (await rest.get(f"/tenants/{tenant.name}/sessions")).json()
    detail = (await rest.get(f"/tenants/{tenant.name}/sessions/{summary['id']}")).json()
    texts = [line["text"] for line in detail["lines"]]
    size = created[0]["size"]
    assert any(text.startswith(f"+OK {size} octets [{size} octets,") for text in texts)
    assert "secret body text" not in json.dumps(detail)
    assert summary["end"] == "quit" and summary["commands"] >= 5


async def test_sessions_api_errors_and_clear(rest: Rest, tenant: Seeded) -> None:
    assert (await rest.get(f"/tenants/{tenant.name}/sessions/nope")).status == 404
    assert (await rest.get(f"/tenants/{tenant.name}/sessions?limit=0")).status == 422
    await ruby("apop.rb", tenant.host, tenant.port, tenant.user, tenant.password)
    assert len((await rest.get(f"/tenants/{tenant.name}/sessions")).json()) == 1
    assert (await rest.delete(f"/tenants/{tenant.name}/sessions")).status == 204
    assert (await rest.get(f"/tenants/{tenant.name}/sessions")).json() == []


async def test_live_stream_lets_a_test_wait_for_quit(server: Running, tenant: Seeded) -> None:
    host, port = server.api_url.removeprefix("http://").rsplit(":", 1)
    stream = await trio.open_tcp_stream(host, int(port))
    path = f"/api/v1/tenants/{tenant.name}/sessions/stream"
    await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
    buffer = b""
    while b"mockmail transcript stream" not in buffer:
        buffer += await stream.receive_some(4096)
    assert b"200" in buffer.split(b"\r\n", 1)[0] and b"text/event-stream" in buffer

    async def client() -> None:
        await ruby("block_form.rb", tenant.host, tenant.port, tenant.user, tenant.password)

    events = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(client)
        with trio.fail_after(30):
            while not any(e["dir"] == "C" and e["text"] == "QUIT" for e in events):
                buffer += await stream.receive_some(4096)
                *complete, buffer = buffer.split(b"\n\n")
                for block in complete:
                    for line in block.split(b"\n"):
                        if line.startswith(b"data: "):
                            events.append(json.loads(line[6:]))
    await stream.aclose()
    assert events[0]["dir"] == "S" and events[0]["text"].startswith("+OK mockmail POP3 server ready")
    assert {e["session"] for e in events} == {events[0]["session"]}
    assert ("C", "PASS ********") in [(e["dir"], e["text"]) for e in events]
