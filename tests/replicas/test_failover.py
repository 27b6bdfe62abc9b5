"""Two `mockmail serve --store` processes on one PostgreSQL database (one fresh database per test), with
disjoint port ranges and 2-second leases: a replica killed with SIGKILL loses its tenants to the other with
nothing acknowledged lost and nothing un-QUIT deleted (and the finished sessions' transcripts listed by the
new owner), and one frozen with SIGSTOP past its lease wakes up serving nothing, not even the connections
that queued while it slept, nor a read of a session opened before it froze.

Every wait is a poll with a deadline on what the other replica reports; nothing sleeps to synchronize.
"""

from __future__ import annotations

import os
import poplib
import random
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

import psycopg
import pytest

from mockmail.store.pg_database import PG_SCHEMA_VERSION
from tests.cli import Cli, call_json, serve_cli
from tests.store.pg import fresh_database

ADMIN = "admin-token-for-the-replica-tests"
LEASE = 2
TAKEOVER = LEASE + 10
"""Seconds within which another replica must serve a dead replica's tenants (the issue's bound)."""

T = TypeVar("T")


@pytest.fixture(name="store")
def _store(postgresql_dsn: str) -> Iterator[str]:
    with fresh_database(postgresql_dsn) as url:
        yield url


def port_ranges() -> tuple[range, range]:
    base = random.randrange(20000, 40000, 100)
    return range(base, base + 20), range(base + 50, base + 70)


@contextmanager
def replica(store: str, name: str, ports: range) -> Iterator[Cli]:
    with serve_cli(
        "--store",
        store,
        "--replica-id",
        name,
        "--lease-seconds",
        str(LEASE),
        "--port-range",
        f"{ports[0]}-{ports[-1]}",
        "--admin-token",
        ADMIN,
    ) as cli:
        yield cli


def call(cli: Cli, path: str, method: str = "GET", payload: Any = None, token: str = ADMIN) -> Any:
    return call_json(cli.url + "/api/v1" + path, token, method, payload)


def status_of(cli: Cli, path: str, token: str = ADMIN) -> tuple[int, Any]:
    try:
        return 200, call(cli, path, token=token)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def poll(what: str, seconds: float, probe: Callable[[], T | None]) -> T:
    """`probe()` until it gives something, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.05)


def served_by(cli: Cli, name: str, tenant: str = "acme") -> Callable[[], dict[str, Any] | None]:
    def probe() -> dict[str, Any] | None:
        status, view = status_of(cli, f"/tenants/{tenant}")
        return view if status == 200 and view["replica"] == name else None

    return probe


def pop3_login(endpoint: dict[str, Any]) -> poplib.POP3:
    pop = poplib.POP3(endpoint["host"], endpoint["port"], timeout=10)
    pop.user("bob")
    pop.pass_("pw")
    return pop


def subjects(cli: Cli) -> list[str]:
    return sorted(m["subject"] for m in call(cli, "/tenants/acme/mailboxes/bob/messages"))


SYS_TEMP = b"-ERR [SYS/TEMP] server shutting down\r\n"
"""POP3's last line when a session's server stops serving it."""


def raw_pop3_login(endpoint: dict[str, Any], user: str) -> socket.socket:
    """A POP3 session logged in as `user` on a plain socket (to see exactly what comes after)."""
    sock = socket.create_connection((endpoint["host"], endpoint["port"]), timeout=10)
    received = b""
    for line in (None, f"USER {user}", "PASS pw"):
        if line is not None:
            sock.sendall(line.encode() + b"\r\n")
        while not received.endswith(b"\r\n"):
            received += sock.recv(512)
        assert received.startswith(b"+OK"), received
        received = b""
    return sock


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset ends it too)."""
    received = b""
    try:
        while data := sock.recv(65536):
            received += data
    except ConnectionResetError:
        pass
    return received


def finished_session(cli: Cli, user: str) -> dict[str, Any]:
    """The newest finished session of `user` as the replica shows it, once it lists it as ended (a session
    ends just after its last reply is out)."""

    def probe() -> dict[str, Any] | None:
        listed = call(cli, f"/tenants/acme/sessions?user={user}&limit=1")
        if not listed or listed[0]["ended"] is None:
            return None
        return dict(call(cli, f"/tenants/acme/sessions/{listed[0]['id']}"))

    return poll(f"a finished session of {user}", 10, probe)


def finished_of(cli: Cli, count: int) -> list[dict[str, Any]] | None:
    """The tenant's finished sessions, newest first, once there are `count` of them."""
    ended = [s for s in call(cli, "/tenants/acme/sessions") if s["ended"] is not None]
    return ended if len(ended) == count else None


def greeting_or_close(host: str, port: int) -> bytes | None:
    """What a connection to host:port gets first: None when refused, b"" when closed unanswered."""
    try:
        sock = socket.create_connection((host, port), timeout=10)
    except ConnectionRefusedError:
        return None
    with sock:
        try:
            return sock.recv(512)
        except ConnectionResetError:
            return b""


def test_kill_9_moves_the_tenants_with_everything_acknowledged(store: str) -> None:
    ports_a, ports_b = port_ranges()
    with ExitStack() as stack:
        a = stack.enter_context(replica(store, "a", ports_a))
        b = stack.enter_context(replica(store, "b", ports_b))
        created = call(a, "/tenants", "POST", {"name": "acme", "smtp_auth": "none"})
        assert created["replica"] == "a" and created["pop3"]["port"] in ports_a
        token = created["token"]
        call(a, "/tenants/acme/mailboxes/bob", "PUT", {"password": "pw"})
        call(a, "/tenants/acme/mailboxes/bob/messages", "POST", [{"subject": f"s{i}"} for i in range(4)])
        with smtplib.SMTP(created["smtp"]["host"], created["smtp"]["port"], timeout=10) as client:
            client.sendmail("app@example.com", ["bob@example.com"], b"Subject: smtp\r\n\r\nhi\r\n")

        # Another replica knows the tenant, its owner, and its token (read from the database).
        status, view = status_of(b, "/tenants/acme", token)
        assert status == 200 and view["replica"] == "a"  # answered by a, through b
        assert status_of(b, "/tenants/acme", "not-a-token-of-anyone-here")[0] == 401
        rotated = call(a, "/tenants/acme/token", "POST", token=token)["token"]
        assert status_of(b, "/tenants/acme", token)[0] == 401  # the old one stopped at once, there too
        assert status_of(b, "/tenants/acme", rotated)[0] == 200

        # One POP3 session deletes s0 and gets QUIT's +OK; another deletes s1 and never QUITs.
        quitter = pop3_login(created["pop3"])
        first = [line.split()[1] for line in quitter.uidl()[1]]
        quitter.dele(1)
        assert quitter.quit().startswith(b"+OK")
        transcript = finished_session(a, "bob")  # the quitter's, which a keeps in the database
        assert transcript["end"] == "quit" and ("C", "DELE 1") in [(n["dir"], n["text"]) for n in transcript["lines"]]
        stayer = pop3_login(created["pop3"])
        stayer.dele(1)
        kept_uid = [line.split()[1] for line in stayer.uidl()[1]]
        assert len(first) == 5 and len(kept_uid) == 3
        ended = poll("a lists the SMTP and the quitter's sessions ended", 10, lambda: finished_of(a, 2))

        a.kill()
        moved = poll("b serves acme", TAKEOVER, served_by(b, "b"))
        assert moved["state"] == "running"
        assert moved["pop3"]["port"] in ports_b and moved["smtp"]["port"] in ports_b
        assert subjects(b) == ["s1", "s2", "s3", "smtp"]  # s0 QUIT away; s1 deleted without QUIT stays
        pop = pop3_login(moved["pop3"])
        # The quitter's transcript moved with the tenant, as a showed it; the open session's did not.
        assert call(b, f"/tenants/acme/sessions/{transcript['id']}") == transcript
        live, *kept = call(b, "/tenants/acme/sessions")
        assert kept == ended and transcript["id"] in [s["id"] for s in ended]
        assert live["ended"] is None and live["id"] not in [s["id"] for s in ended]  # pop's, a new id
        assert len(pop.list()[1]) == 4
        pop.quit()
        assert status_of(b, "/tenants/acme", rotated)[0] == 200  # the token moved with the tenant
        assert greeting_or_close(created["pop3"]["host"], created["pop3"]["port"]) is None

        # The old owner comes back (same id): it serves nothing of acme, which stays on b alone.
        again = stack.enter_context(replica(store, "a", ports_a))
        status, view = status_of(again, "/tenants/acme")
        assert status == 200 and view["replica"] == "b"  # b's answer, through a
        assert [t["replica"] for t in call(again, "/tenants")] == ["b"]
        assert greeting_or_close(created["pop3"]["host"], created["pop3"]["port"]) is None
        assert [t["replica"] for t in call(b, "/tenants")] == ["b"]
        stayer.sock.close()


def test_a_replica_frozen_past_its_lease_wakes_up_serving_nothing(store: str) -> None:
    ports_a, ports_b = port_ranges()
    with ExitStack() as stack:
        a = stack.enter_context(replica(store, "a", ports_a))
        b = stack.enter_context(replica(store, "b", ports_b))
        created = call(a, "/tenants", "POST", {"name": "acme"})
        call(a, "/tenants/acme/mailboxes/bob", "PUT", {"password": "pw"})
        call(a, "/tenants/acme/mailboxes/bob/messages", "POST", [{"subject": "one"}, {"subject": "two"}])
        old = created["pop3"]
        session = pop3_login(old)  # open before the freeze: it deletes, then QUITs after the wake-up
        session.dele(1)
        readers = []  # open and logged in before the freeze: they ask for a listing and a message
        for n in range(3):
            call(a, f"/tenants/acme/mailboxes/r{n}", "PUT", {"password": "pw"})
            call(a, f"/tenants/acme/mailboxes/r{n}/messages", "POST", [{"subject": "read me"}])
            readers.append(raw_pop3_login(old, f"r{n}"))

        os.kill(a.proc.pid, signal.SIGSTOP)
        try:
            queued = socket.create_connection((old["host"], old["port"]), timeout=10)  # in a's backlog
            moved = poll("b serves acme", TAKEOVER, served_by(b, "b"))
            for reader in readers:  # waiting in a's socket buffers when it wakes up
                reader.sendall(b"LIST\r\nRETR 1\r\n")
        finally:
            os.kill(a.proc.pid, signal.SIGCONT)
        for reader in readers:
            # Whichever runs first after the wake-up, the session (its lease check before each command)
            # or the watchdog (the tenant stopped), no read is answered: the last line at most.
            with reader:
                assert until_closed(reader) in (SYS_TEMP, b"")
        with queued:
            queued.settimeout(10)
            try:
                first = queued.recv(512)
            except ConnectionResetError:
                first = b""
        assert first == b""  # closed without a greeting
        try:
            answer: bytes | None = session.quit()
        except (poplib.error_proto, OSError, EOFError) as exc:
            answer = str(exc).encode()
        # Whichever runs first after the wake-up, the watchdog (the session is cut) or the session (its
        # commit is fenced out: tests/replicas/test_leases.py), the deletion is not promised.
        assert not (answer or b"").startswith(b"+OK")
        assert subjects(b) == ["one", "two"]
        assert greeting_or_close(old["host"], old["port"]) in (None, b"")

        poll("a passes calls for acme on to b", TAKEOVER, served_by(a, "b"))
        assert [t["replica"] for t in call(a, "/tenants")] == ["b"]
        pop = pop3_login(moved["pop3"])
        assert len(pop.list()[1]) == 2
        pop.quit()


def test_a_store_that_cannot_be_reached_or_is_newer_stops_the_start_with_exit_2(store: str) -> None:
    unreachable = "postgresql://mockmail@127.0.0.1:1/nowhere"
    done = subprocess.run(
        [sys.executable, "-m", "mockmail.main", "serve", "--store", unreachable, "--api-port", "0"],
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    assert done.returncode == 2
    assert (
        "--store postgresql://mockmail@127.0.0.1:1/nowhere: cannot open the PostgreSQL store" in done.stderr
    )
    with psycopg.connect(store, autocommit=True) as conn:
        conn.execute("CREATE TABLE mockmail_schema (version integer NOT NULL)")
        conn.execute("INSERT INTO mockmail_schema VALUES (99)")
    done = subprocess.run(
        [sys.executable, "-m", "mockmail.main", "serve", "--store", store, "--api-port", "0"],
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    assert done.returncode == 2
    assert f"schema version 99, this mockmail knows {PG_SCHEMA_VERSION} and older" in done.stderr
