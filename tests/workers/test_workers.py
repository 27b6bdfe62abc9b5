"""`mockmail serve --workers 2` as a real process: tenants spread over both workers, every protocol and the
REST calls (long-polls and the live transcript stream included) pass through the supervisor, gathered
lists and metrics, a SIGKILLed worker comes back with its tenants on their ports, and the supervisor's
end takes every worker with it."""

from __future__ import annotations

import imaplib
import os
import poplib
import signal
import smtplib
import ssl
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mockmail.client import Client

from .supervised import Answer, Supervised, alive, poll, supervised

ADMIN = "admin-token-of-the-workers-test"


def make_tenants(server: Supervised, names: list[str]) -> dict[str, Any]:
    created = {name: server.call("/api/v1/tenants", "POST", {"name": name}) for name in names}
    for name in names:
        server.call(
            f"/api/v1/tenants/{name}/mailboxes/alice", "PUT", {"password": "pw"}, created[name]["token"]
        )
    return created


def send(tenant: Any, subject: str) -> None:
    smtp = smtplib.SMTP(tenant["smtp"]["host"], tenant["smtp"]["port"], timeout=30)
    smtp.sendmail("app@example.com", ["alice@example.com"], f"Subject: {subject}\r\n\r\nhello\r\n")
    smtp.quit()


def pop_subjects(tenant: Any) -> list[str]:
    pop = poplib.POP3(tenant["pop3"]["host"], tenant["pop3"]["port"], timeout=30)
    pop.user("alice")
    pop.pass_("pw")
    count = len(pop.list()[1])
    subjects = []
    for number in range(1, count + 1):
        lines = pop.retr(number)[1]
        subjects += [line.decode()[len("Subject: ") :] for line in lines if line.startswith(b"Subject: ")]
    pop.quit()
    return subjects


def imap_subjects(tenant: Any) -> list[str]:
    imap = imaplib.IMAP4(tenant["imap"]["host"], tenant["imap"]["port"], timeout=30)
    imap.login("alice", "pw")
    imap.select("INBOX", readonly=True)
    _, data = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    imap.logout()
    return [part[1].decode().strip()[len("Subject: ") :] for part in data if isinstance(part, tuple)]


def by_worker(server: Supervised) -> dict[int, list[str]]:
    placed: dict[int, list[str]] = {}
    for view in server.call("/api/v1/tenants"):
        placed.setdefault(view["worker"], []).append(view["name"])
    return placed


@pytest.mark.parametrize("value", ["0", "x", "-1"])
def test_a_bad_worker_count_exits_2_naming_the_option(value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockmail.main", "serve", "--workers", value, "--api-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers" in done.stderr


def test_a_bad_worker_count_in_the_environment_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockmail.main", "serve", "--api-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MOCKMAIL_WORKERS": "0"},
    )
    assert done.returncode == 2
    assert "--workers" in done.stderr


def test_store_is_refused_with_workers(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockmail.main",
            "serve",
            "--workers",
            "2",
            "--api-port",
            "0",
            "--store",
            "postgresql://nobody@localhost/none",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--store cannot be used with --workers" in done.stderr


def test_tenants_spread_and_every_protocol_passes(tmp_path: Path) -> None:
    with supervised(tmp_path, "--max-tenants", "5", token=ADMIN) as server:
        health = server.health()
        pids = {w["pid"] for w in health["workers"]}
        assert [w["id"] for w in health["workers"]] == [0, 1]
        assert len(pids) == 2 and server.proc.pid not in pids and all(alive(pid) for pid in pids)

        names = ["one", "two", "three", "four"]
        tenants = make_tenants(server, names)
        placed = by_worker(server)
        assert sorted(len(placed[k]) for k in (0, 1)) == [2, 2]
        assert [view["name"] for view in server.call("/api/v1/tenants")] == names  # creation order
        assert {name: tenants[name]["worker"] for name in names} == {
            name: k for k, owned in placed.items() for name in owned
        }
        health = server.health()
        assert [w["tenants"] for w in health["workers"]] == [2, 2] and health["tenants"] == 4

        # The same 409 as one process, whichever worker holds the name.
        for name in (placed[0][0], placed[1][0]):
            with pytest.raises(Answer) as taken:
                server.call("/api/v1/tenants", "POST", {"name": name})
            assert taken.value.status == 409 and taken.value.body["type"].endswith(":tenant-exists")
        with pytest.raises(Answer) as invalid:
            server.call("/api/v1/tenants", "POST", {"name": "Not A Name"})
        assert invalid.value.status == 422 and invalid.value.body["field"] == "$.name"

        # Mail in over SMTP, out over POP3 and IMAP, on a tenant of each worker.
        for k in (0, 1):
            tenant = tenants[placed[k][0]]
            send(tenant, f"to worker {k}")
            assert pop_subjects(tenant) == [f"to worker {k}"]
            assert imap_subjects(tenant) == [f"to worker {k}"]

        # Tokens: a tenant token sees its tenant only, and cannot reach another one on either worker.
        mine = placed[1][1]
        token = tenants[mine]["token"]
        assert [view["name"] for view in server.call("/api/v1/tenants", token=token)] == [mine]
        assert server.call(f"/api/v1/tenants/{mine}", token=token)["name"] == mine
        for other in (placed[0][0], placed[1][0], "no-such-tenant"):
            with pytest.raises(Answer) as refused:
                server.call(f"/api/v1/tenants/{other}", token=token)
            assert refused.value.status == 403
        with pytest.raises(Answer) as unknown:
            server.call("/api/v1/tenants", token="x" * 43)
        assert unknown.value.status == 401
        with pytest.raises(Answer) as no_such:
            server.call("/api/v1/tenants/no-such-tenant")
        assert no_such.value.status == 404 and no_such.value.body["field"] == "tenant"
        with pytest.raises(Answer) as internal:
            server.call("/internal/v1/principal", "POST")
        assert internal.value.status == 404

        # Deleting goes to the owner; the name is free again, and its token stops working.
        server.call(f"/api/v1/tenants/{mine}", "DELETE")
        with pytest.raises(Answer) as gone:
            server.call(f"/api/v1/tenants/{mine}", token=token)
        assert gone.value.status == 401
        again = server.call("/api/v1/tenants", "POST", {"name": mine})
        assert again["name"] == mine

        # --max-tenants counts the tenants of every worker.
        server.call("/api/v1/tenants", "POST", {"name": "five"})
        with pytest.raises(Answer) as full:
            server.call("/api/v1/tenants", "POST", {"name": "six"})
        assert full.value.status == 409 and full.value.body["type"].endswith(":tenant-limit")


def test_long_poll_and_live_stream_pass_through(tmp_path: Path) -> None:
    with supervised(tmp_path, token=ADMIN) as server:
        tenants = make_tenants(server, ["left", "right"])
        placed = by_worker(server)
        tenant = tenants[placed[1][0]]
        name = tenant["name"]

        # The live transcript stream: its opening comment says it is subscribed.
        request = urllib.request.Request(
            f"{server.url}/api/v1/tenants/{name}/sessions/stream",
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        stream = urllib.request.urlopen(request, timeout=60)
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.readline() == b": mockmail transcript stream\n"

        # A long-poll waiting on the same tenant, woken by an SMTP delivery.
        polled: list[Any] = []
        waiter = threading.Thread(
            target=lambda: polled.append(
                server.call(f"/api/v1/tenants/{name}/mailboxes/alice/messages?wait=60&count=1")
            )
        )
        waiter.start()
        send(tenant, "wakes the poll")
        waiter.join(60)
        assert [m["subject"] for m in polled[0]] == ["wakes the poll"]

        lines = []
        while not any('"text":"QUIT"' in line for line in lines):
            line = stream.readline().decode()
            assert line, "the stream ended"
            if line.startswith("data: "):
                lines.append(line)
        stream.close()
        assert any('"dir":"C"' in line and "MAIL FROM" in line for line in lines)


def test_gathered_metrics_are_one_exposition(tmp_path: Path) -> None:
    with supervised(tmp_path, token=ADMIN) as server:
        tenants = make_tenants(server, ["alpha", "beta"])
        for tenant in tenants.values():
            send(tenant, "counted")
        request = urllib.request.Request(
            server.url + "/metrics", headers={"Authorization": f"Bearer {ADMIN}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode()
        assert text.count("# TYPE mockmail_api_requests_total counter") == 1
        families = {family.name: family for family in text_string_to_metric_families(text)}
        requests = families["mockmail_api_requests"]
        seen = [(s.name, tuple(sorted(s.labels.items()))) for s in requests.samples]
        assert len(seen) == len(set(seen))  # each series once, summed over the workers
        delivered = {
            s.labels["tenant"]: s.value
            for family in families.values()
            for s in family.samples
            if s.name == "mockmail_messages_delivered_total" and s.labels.get("via") == "smtp"
        }
        assert delivered == {"alpha": 1.0, "beta": 1.0}
        with pytest.raises(Answer) as refused:
            server.call("/metrics", token=tenants["alpha"]["token"])
        assert refused.value.status == 403

        # The Python client sees the same tenants and which worker owns each.
        with Client(server.url, ADMIN) as client:
            assert {tenant.name: tenant.worker for tenant in client.tenants()} == {
                name: tenants[name]["worker"] for name in ("alpha", "beta")
            }
            assert {client.tenant(name).worker for name in ("alpha", "beta")} == {0, 1}


def kill_worker_and_wait(server: Supervised, k: int) -> Any:
    """SIGKILL worker `k`; the health once it is up again."""
    before = server.health()["workers"][k]
    os.kill(before["pid"], signal.SIGKILL)

    def back() -> Any:
        health = server.all_up()
        if health is None or health["workers"][k]["pid"] in (0, before["pid"]):
            return None
        return health

    return poll(back, f"worker {k} restarted")  # a bound on a hang: the machine may be loaded


@pytest.mark.parametrize("data", [False, True], ids=["memory", "data-dir"])
def test_a_killed_worker_comes_back_and_the_other_is_undisturbed(tmp_path: Path, data: bool) -> None:
    args = ("--data-dir", str(tmp_path / "data")) if data else ()
    with supervised(tmp_path, *args, token=ADMIN) as server:
        tenants = make_tenants(server, ["stays", "dies"])
        placed = by_worker(server)
        victim, survivor = tenants[placed[1][0]], tenants[placed[0][0]]
        for n in range(3):
            send(victim, f"acknowledged {n}")
        send(survivor, "kept")

        # A session open on the other worker across the kill.
        pop = poplib.POP3(survivor["pop3"]["host"], survivor["pop3"]["port"], timeout=30)
        pop.user("alice")
        pop.pass_("pw")

        health = kill_worker_and_wait(server, 1)
        assert [w["restarts"] for w in health["workers"]] == [0, 1]
        assert health["workers"][1]["tenants"] == 1

        again = server.call(f"/api/v1/tenants/{victim['name']}", token=victim["token"])  # the token too
        for listener in ("pop3", "smtp", "imap"):
            assert again[listener] == victim[listener]
        assert again["worker"] == 1
        if data:
            assert pop_subjects(victim) == [f"acknowledged {n}" for n in range(3)]
            assert (tmp_path / "data" / "worker-0").is_dir() and (tmp_path / "data" / "worker-1").is_dir()
        else:  # memory: the tenant and its token come back; its mailboxes do not
            assert server.call(f"/api/v1/tenants/{victim['name']}/mailboxes") == []
            server.call(f"/api/v1/tenants/{victim['name']}/mailboxes/alice", "PUT", {"password": "pw"})
        send(victim, "after the restart")
        assert "after the restart" in pop_subjects(victim)

        assert pop.stat()[0] == 1  # the session on worker 0 never noticed
        assert b"Subject: kept" in pop.retr(1)[1]
        pop.quit()


def test_workers_end_with_a_killed_supervisor(tmp_path: Path) -> None:
    with supervised(tmp_path) as server:
        pids = [w["pid"] for w in server.health()["workers"]]
        server.proc.kill()
        server.proc.wait()
        poll(lambda: True if not any(alive(pid) for pid in pids) else None, "every worker gone")


def test_one_ca_covers_every_worker_and_the_config_seeds_worker_0(tmp_path: Path) -> None:
    config = tmp_path / "seed.toml"
    config.write_text(
        '[[tenants]]\nname = "seeded"\n\n[[tenants.mailboxes]]\nuser = "alice"\npassword = "pw"\n\n'
        '[[tenants.mailboxes.messages]]\nsubject = "from the file"\ntext = "hi"\n'
    )
    with supervised(tmp_path, "--tls", "auto", "--config", str(config)) as server:
        assert server.health()["tls"] is True
        seeded = server.call("/api/v1/tenants/seeded")
        assert seeded["worker"] == 0
        created = make_tenants(server, ["second"])["second"]
        assert created["worker"] == 1  # worker 1 had none
        with urllib.request.urlopen(server.url + "/api/v1/tls/ca.pem", timeout=60) as response:
            ca = response.read().decode()
        context = ssl.create_default_context(cadata=ca)
        for tenant in (seeded, created):
            pop = poplib.POP3_SSL(
                tenant["pop3s"]["host"], tenant["pop3s"]["port"], context=context, timeout=30
            )
            pop.user("alice")
            pop.pass_("pw")
            assert pop.stat()[0] == (1 if tenant is seeded else 0)
            pop.quit()


def test_a_worker_that_cannot_start_stops_the_supervisor_with_its_status(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockmail.main",
            "serve",
            "--workers",
            "2",
            "--api-port",
            "0",
            "--data-dir",
            str(not_a_folder),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "cannot open the store" in done.stderr and "could not start (exit status 2)" in done.stderr
