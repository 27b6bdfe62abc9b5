"""Every replica answers every REST call (mockmail/replicas/router.py): two `mockmail serve --store`
processes on one PostgreSQL database (a fresh one per test), tenants created on one and used through the
other: forwarded calls, a long-poll woken by NOTIFY, the live transcript stream, token rotation, the
gathered tenant list, and 503 with Retry-After while a killed owner's tenant is taken over.

Every wait is bounded by a deadline on something a replica reports; nothing sleeps to synchronize.
"""

from __future__ import annotations

import http.client
import json
import smtplib
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

import pytest

from tests.cli import Cli, serve_cli
from tests.store.pg import fresh_database

from .test_failover import ADMIN, TAKEOVER, call, poll, pop3_login, port_ranges, served_by, status_of

MESSAGES_ROUTE = 'route="/api/v1/tenants/<tenant>/mailboxes/<user>/messages",status="200"'


@pytest.fixture(name="store")
def _store(postgresql_dsn: str) -> Iterator[str]:
    with fresh_database(postgresql_dsn) as url:
        yield url


@contextmanager
def replica(store: str, name: str, ports: range, lease: int = 2) -> Iterator[Cli]:
    with serve_cli(
        "--store",
        store,
        "--replica-id",
        name,
        "--lease-seconds",
        str(lease),
        "--port-range",
        f"{ports[0]}-{ports[-1]}",
        "--admin-token",
        ADMIN,
    ) as cli:
        yield cli


@contextmanager
def two_replicas(store: str, lease: int = 2) -> Iterator[tuple[Cli, Cli]]:
    ports_a, ports_b = port_ranges()
    with ExitStack() as stack:
        yield (
            stack.enter_context(replica(store, "a", ports_a, lease)),
            stack.enter_context(replica(store, "b", ports_b, lease)),
        )


def answer(
    cli: Cli,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    token: str = ADMIN,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], bytes]:
    """One call; status, headers and body whatever the status."""
    request = urllib.request.Request(
        cli.url + "/api/v1" + path,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _lower(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, _lower(exc.headers.items()), exc.read()


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def asks_of_messages(cli: Cli) -> float:
    """How many listings of a mailbox's messages this replica has answered 200 (its /metrics)."""
    request = urllib.request.Request(cli.url + "/metrics", headers={"Authorization": f"Bearer {ADMIN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if MESSAGES_ROUTE in line)


def test_every_tenant_call_works_through_the_other_replica(store: str) -> None:
    with two_replicas(store) as (a, b):
        created = call(a, "/tenants", "POST", {"name": "acme"})
        assert created["replica"] == "a"
        token = created["token"]
        assert call(b, "/tenants/acme", token=token)["replica"] == "a"
        call(b, "/tenants/acme/mailboxes/bob", "PUT", {"password": "pw"})
        assert [m["user"] for m in call(a, "/tenants/acme/mailboxes")] == ["bob"]  # stored at a
        seeded = call(
            b, "/tenants/acme/mailboxes/bob/messages", "POST", [{"subject": "one"}, {"subject": "two"}]
        )
        raw = b"Subject: raw\r\n\r\n" + b"x" * 200_000 + b"\r\n"
        status, _, body = answer(
            b, "/tenants/acme/mailboxes/bob/messages", "POST", raw, headers={"Content-Type": "message/rfc822"}
        )
        assert status == 201
        big = json.loads(body)["id"]
        listed = call(b, "/tenants/acme/mailboxes/bob/messages")
        assert sorted(m["subject"] for m in listed) == ["one", "raw", "two"]
        status, headers, body = answer(
            b, f"/tenants/acme/mailboxes/bob/messages/{big}", headers={"Accept": "message/rfc822"}
        )
        assert status == 200 and body == raw and headers["content-type"] == "message/rfc822"
        assert call(b, f"/tenants/acme/mailboxes/bob/messages/{seeded[0]['id']}")["subject"] == "one"

        plan = call(b, "/tenants/acme/faults", "PUT", {"quit": {"reply": "hang"}}, token=token)
        assert call(a, "/tenants/acme/faults") == plan and "quit" in plan
        call(b, "/tenants/acme/faults", "DELETE")
        assert call(a, "/tenants/acme/faults") == {}

        call(b, f"/tenants/acme/mailboxes/bob/messages/{seeded[0]['id']}", "DELETE")
        assert sorted(m["subject"] for m in call(a, "/tenants/acme/mailboxes/bob/messages")) == ["raw", "two"]
        status, _, body = answer(b, "/tenants/acme/mailboxes/nobody")
        assert status == 404 and json.loads(body)["field"] == "user"  # a's own 404, passed on

        call(b, "/tenants/acme", "DELETE")
        assert status_of(a, "/tenants/acme")[0] == 404
        assert status_of(b, "/tenants/acme")[0] == 404


def test_a_long_poll_through_b_is_woken_by_mail_that_smtp_delivers_at_a(store: str) -> None:
    with two_replicas(store) as (a, b):
        created = call(a, "/tenants", "POST", {"name": "acme", "smtp_auth": "none"})
        call(a, "/tenants/acme/mailboxes/bob", "PUT", {"password": "pw"})
        before = asks_of_messages(a)
        got: list[tuple[int, dict[str, str], bytes]] = []

        def long_poll() -> None:
            # The wait is 60 s and the client gives up after 50: an answer at all came before the wait
            # ran out, which only a wakeup does (b asks a again only when told of new mail).
            with suppress(TimeoutError):
                got.append(
                    answer(b, "/tenants/acme/mailboxes/bob/messages?wait=60&subject=hello", timeout=50)
                )

        waiter = threading.Thread(target=long_poll)
        waiter.start()
        try:
            # b has asked a once (with wait=0) and found nothing: from now on it waits for a NOTIFY.
            poll("b asked a for bob's messages", 30, lambda: True if asks_of_messages(a) > before else None)
            assert not got
            with smtplib.SMTP(created["smtp"]["host"], created["smtp"]["port"], timeout=10) as client:
                client.sendmail("app@example.com", ["bob@example.com"], b"Subject: hello\r\n\r\nhi\r\n")
        finally:
            waiter.join(60)
        assert not waiter.is_alive()
        assert got, "the long-poll through b gave no answer before its wait ran out"
        status, _, body = got[0]
        assert status == 200
        assert [(m["subject"], m["via"]) for m in json.loads(body)] == [("hello", "smtp")]


def test_a_long_poll_through_b_answers_what_is_there_when_it_ends(store: str) -> None:
    with two_replicas(store) as (a, b):
        call(a, "/tenants", "POST", {"name": "acme"})
        call(a, "/tenants/acme/mailboxes/bob", "PUT", {"password": "pw"})
        call(a, "/tenants/acme/mailboxes/bob/messages", "POST", {"subject": "one"})
        status, _, body = answer(b, "/tenants/acme/mailboxes/bob/messages?wait=0.5&count=2")
        assert status == 200 and [m["subject"] for m in json.loads(body)] == ["one"]
        status, _, body = answer(b, "/tenants/acme/mailboxes/bob/messages?wait=1000")
        assert status == 422 and json.loads(body)["field"] == "wait"  # a's own check, passed on


def test_the_live_transcript_stream_through_b_shows_a_session_at_a(store: str) -> None:
    with two_replicas(store) as (a, b):
        created = call(a, "/tenants", "POST", {"name": "acme"})
        call(a, "/tenants/acme/mailboxes/bob", "PUT", {"password": "pw"})
        conn = http.client.HTTPConnection("127.0.0.1", b.port, timeout=20)
        try:
            conn.request(
                "GET", "/api/v1/tenants/acme/sessions/stream", headers={"Authorization": f"Bearer {ADMIN}"}
            )
            stream = conn.getresponse()
            assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
            assert stream.readline().startswith(b": mockmail transcript stream")  # subscribed at a
            pop3_login(created["pop3"]).quit()
            while not (line := stream.readline()).startswith(b"data: "):
                assert line, "the stream ended"
            event = json.loads(line[len(b"data: ") :])
            assert event["dir"] == "S" and event["text"].startswith("+OK")  # a's POP3 greeting
        finally:
            conn.close()


def test_a_token_rotated_through_b_stops_working_through_a_at_once(store: str) -> None:
    with two_replicas(store) as (a, b):
        token = call(a, "/tenants", "POST", {"name": "acme"})["token"]
        rotated = call(b, "/tenants/acme/token", "POST", token=token)["token"]
        assert status_of(a, "/tenants/acme", token)[0] == 401
        assert status_of(b, "/tenants/acme", token)[0] == 401
        assert status_of(a, "/tenants/acme", rotated)[0] == 200
        assert status_of(b, "/tenants/acme", rotated)[0] == 200
        status, headers, _ = answer(b, "/tenants/acme", token="no-such-token")
        assert status == 401 and "Bearer" in headers["www-authenticate"]


def test_the_tenant_list_through_either_replica_has_every_replicas_tenants(store: str) -> None:
    with two_replicas(store) as (a, b):
        acme = call(a, "/tenants", "POST", {"name": "acme"})
        call(b, "/tenants", "POST", {"name": "beta"})
        call(a, "/tenants", "POST", {"name": "cargo"})
        for cli in (a, b):
            listed = call(cli, "/tenants")
            assert [(t["name"], t["replica"]) for t in listed] == [
                ("acme", "a"),
                ("beta", "b"),
                ("cargo", "a"),
            ]
        assert [t["name"] for t in call(b, "/tenants", token=acme["token"])] == ["acme"]
        # A call another replica forwarded is answered from the receiver's own tenants, never sent on.
        forwarded = {"Mockmail-Forwarded-By": "a"}
        assert [t["name"] for t in json.loads(answer(b, "/tenants", headers=forwarded)[2])] == ["beta"]
        status, headers, body = answer(b, "/tenants/acme", headers=forwarded)
        assert status == 503 and headers["retry-after"] == "1"
        assert "replica 'a' sent the call here, but replica 'a' serves it" in json.loads(body)["detail"]
        assert answer(b, "/tenants/beta", headers=forwarded)[0] == 200
        status, _, body = answer(b, "/tenants/beta", token=acme["token"])
        assert status == 403 and json.loads(body)["title"] == "Forbidden"


def test_after_kill_9_calls_through_the_survivor_are_503_then_served(store: str) -> None:
    # A 5-second lease: the survivor answers 503 for at least the part of it left after the kill.
    with two_replicas(store, lease=5) as (a, b):
        call(a, "/tenants", "POST", {"name": "acme"})
        call(a, "/tenants/acme/mailboxes/bob", "PUT", {"password": "pw"})
        call(a, "/tenants/acme/mailboxes/bob/messages", "POST", {"subject": "kept"})
        a.kill()
        status, headers, body = answer(b, "/tenants/acme/mailboxes/bob/messages")
        assert status == 503
        assert int(headers["retry-after"]) >= 1
        assert headers["content-type"] == "application/problem+json"
        problem = json.loads(body)
        assert problem["title"] == "Tenant unavailable" and problem["field"] == "tenant"
        assert "'acme'" in problem["detail"]

        def listed() -> list[Any] | None:
            status, _, body = answer(b, "/tenants/acme/mailboxes/bob/messages")
            assert status in (200, 503)
            return json.loads(body) if status == 200 else None

        assert [m["subject"] for m in poll("b serves acme's mail", TAKEOVER + 5, listed)] == ["kept"]
        assert served_by(b, "b")() is not None


def test_a_long_poll_through_b_outlives_the_death_of_the_owner(store: str) -> None:
    with two_replicas(store) as (a, b):
        call(a, "/tenants", "POST", {"name": "acme"})
        call(a, "/tenants/acme/mailboxes/bob", "PUT", {"password": "pw"})
        before = asks_of_messages(a)
        got: list[tuple[int, dict[str, str], bytes]] = []

        def long_poll() -> None:
            with suppress(TimeoutError):
                got.append(answer(b, "/tenants/acme/mailboxes/bob/messages?wait=60", timeout=50))

        waiter = threading.Thread(target=long_poll)
        waiter.start()
        try:
            poll("b asked a for bob's messages", 30, lambda: True if asks_of_messages(a) > before else None)
            a.kill()
            poll("b serves acme", TAKEOVER, served_by(b, "b"))
            assert not got
            call(b, "/tenants/acme/mailboxes/bob/messages", "POST", {"subject": "after the move"})
        finally:
            waiter.join(60)
        assert got, "the long-poll through b gave no answer before its wait ran out"
        status, _, body = got[0]
        assert status == 200 and [m["subject"] for m in json.loads(body)] == ["after the move"]
