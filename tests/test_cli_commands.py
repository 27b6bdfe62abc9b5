"""The client commands (`mockmail tenant|mailbox|seed|faults|sessions`), run as a script runs them: the real
console entry point in a subprocess, against an in-process server."""

from __future__ import annotations

import json
import os
import poplib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockmail.client import Client
from mockmail.embedded import EmbeddedServer
from tests.cli import free_port

ADMIN = "cli-admin-token-0123456789abcdef"


@pytest.fixture(name="server", scope="module")
def _server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(admin_token=ADMIN) as server:
        yield server


@pytest.fixture(name="env")
def _env(server: EmbeddedServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKMAIL_")}
    return {**env, "MOCKMAIL_URL": server.url, "MOCKMAIL_TOKEN": ADMIN}


def mockmail(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockmail.main", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(name="tenant")
def _tenant(env: dict[str, str], server: EmbeddedServer, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "cli-" + request.node.name.replace("_", "-")[:40].strip("-")
    created = mockmail(env, "tenant", "create", name, "--json")
    assert created.returncode == 0, created.stderr
    yield name
    with Client(server.url, ADMIN) as client:
        if name in [t.name for t in client.list_tenants()]:
            client.delete_tenant(name)


def test_tenant_create_list_show_delete(env: dict[str, str], server: EmbeddedServer) -> None:
    created = mockmail(env, "tenant", "create", "cli-one", "--smtp-auth", "optional", "--catch-all", "alice")
    assert created.returncode == 0, created.stderr
    assert "tenant cli-one: running" in created.stdout and "(shown this once)" in created.stdout
    token = created.stdout.split("token")[1].split()[0]
    assert len(token) == 43
    as_json = json.loads(mockmail(env, "tenant", "show", "cli-one", "--json").stdout)
    assert as_json["smtp_auth"] == "optional" and as_json["catch_all"] == "alice"
    listed = mockmail(env, "tenant", "list")
    assert listed.stdout.splitlines()[0].split() == [
        "NAME",
        "STATE",
        "POP3",
        "SMTP",
        "IMAP",
        "POP3S",
        "SMTPS",
        "IMAPS",
        "MAILBOXES",
        "SESSIONS",
    ]
    assert any(line.startswith("cli-one ") for line in listed.stdout.splitlines())
    own = mockmail({**env, "MOCKMAIL_TOKEN": token}, "tenant", "show", "cli-one")
    assert own.returncode == 0 and f"pop3   127.0.0.1:{as_json['pop3']['port']}" in own.stdout
    assert mockmail(env, "tenant", "delete", "cli-one").returncode == 0
    gone = mockmail(env, "tenant", "show", "cli-one")
    assert gone.returncode == 1
    assert gone.stderr.strip() == "mockmail: 404 Tenant not found: no tenant named 'cli-one' (field tenant)"


def test_create_with_a_spec_and_a_bad_field(env: dict[str, str], server: EmbeddedServer) -> None:
    bad = mockmail(env, "tenant", "create", "cli-bad", "--spec", '{"max_sessions": 0}', "--json")
    assert bad.returncode == 1
    problem = json.loads(bad.stderr)
    assert problem["status"] == 422 and problem["field"] == "$.max_sessions"
    made = mockmail(env, "tenant", "create", "cli-limits", "--spec", '{"limits": {"messages": 5}}', "--json")
    assert json.loads(made.stdout)["limits"]["messages"] == 5 and json.loads(made.stdout)["token"]
    assert mockmail(env, "tenant", "delete", "cli-limits").returncode == 0
    port = free_port()
    spec = json.dumps({"pop3_port": port, "smtp_auth": "required"})
    ported = json.loads(mockmail(env, "tenant", "create", "cli-port", "--spec", spec, "--json").stdout)
    assert ported["pop3"]["port"] == port and ported["smtp_auth"] == "required"  # the spec's own fields stand
    assert mockmail(env, "tenant", "delete", "cli-port").returncode == 0


def test_mailboxes_and_seeding(env: dict[str, str], tenant: str, tmp_path: Path) -> None:
    assert mockmail(env, "mailbox", "add", tenant, "alice", "--password", "pw").returncode == 0
    eml = tmp_path / "one.eml"
    eml.write_bytes(b"Subject: one\r\n\r\nbody\r\n")
    mbox = tmp_path / "more.mbox"
    mbox.write_bytes(
        b"From a@b Thu Jan  1 00:00:00 2026\nSubject: two\n\nx\n\nFrom a@b Thu Jan  1 00:00:00 2026\nSubject: three\n\ny\n"
    )
    missing = mockmail(env, "seed", tenant, "alice", str(eml), str(tmp_path / "nope.eml"))
    assert missing.returncode == 2 and "nope.eml: No such file or directory" in missing.stderr
    boxes = json.loads(mockmail(env, "mailbox", "list", tenant, "--json").stdout)
    assert boxes[0]["messages"] == 0  # nothing stored when one file is unreadable
    seeded = mockmail(env, "seed", tenant, "alice", str(eml), str(mbox))
    assert seeded.returncode == 0 and seeded.stdout.startswith("stored 3 message(s): ")
    seeded_json = json.loads(mockmail(env, "seed", tenant, "alice", str(eml), "--json").stdout)
    assert [set(m) for m in seeded_json] == [{"id", "uid", "size"}]
    listed = mockmail(env, "mailbox", "list", tenant)
    assert listed.stdout.splitlines()[1].split()[:2] == ["alice", "4"]
    assert mockmail(env, "mailbox", "delete", tenant, "alice").returncode == 0
    assert mockmail(env, "mailbox", "list", tenant).stdout.strip() == "(none)"
    unknown = mockmail(env, "mailbox", "delete", tenant, "alice")
    assert unknown.returncode == 1 and "404" in unknown.stderr


def test_mailbox_add_with_a_bearer_token(env: dict[str, str], tenant: str) -> None:
    added = mockmail(env, "mailbox", "add", tenant, "bob", "--password", "pw", "--bearer-token", "ya29.x-y")
    assert added.returncode == 0, added.stderr
    header, row = added.stdout.splitlines()[:2]
    assert header.split()[-1] == "OAUTH" and row.split()[-1] == "yes"
    shown = json.loads(mockmail(env, "mailbox", "list", tenant, "--json").stdout)
    assert [(m["user"], m["oauth"]) for m in shown] == [("bob", True)] and "ya29" not in str(shown)
    refused = mockmail(env, "mailbox", "add", tenant, "bob", "--password", "pw", "--bearer-token", "a b")
    assert refused.returncode == 1 and "bearer_token" in refused.stderr
    again = mockmail(env, "mailbox", "add", tenant, "bob", "--password", "pw", "--json")
    assert json.loads(again.stdout)["oauth"] is False  # the credentials are replaced as a whole


def test_faults_set_show_clear(env: dict[str, str], tenant: str) -> None:
    assert mockmail(env, "faults", "show", tenant).stdout.strip() == "compliant (no faults)"
    applied = mockmail(
        env, "faults", "set", tenant, "--profile", "mailpit-legacy", "--plan", '{"seed": 3}', "--json"
    )
    assert applied.returncode == 0
    plan = json.loads(applied.stdout)
    assert plan["profile"] == "mailpit-legacy" and plan["seed"] == 3 and plan["quit"]["reply"] == "drop"
    assert json.loads(mockmail(env, "faults", "show", tenant, "--json").stdout) == plan
    mockmail(env, "mailbox", "add", tenant, "alice", "--password", "pw")
    own = mockmail(
        env, "faults", "set", tenant, "--user", "alice", "--plan", '{"quit": {"reply": "hang"}}', "--json"
    )
    assert json.loads(own.stdout)["quit"]["reply"] == "hang"
    assert mockmail(env, "faults", "clear", tenant, "--user", "alice").returncode == 0
    assert (
        mockmail(env, "faults", "show", tenant, "--user", "alice").stdout.strip() == "compliant (no faults)"
    )
    assert mockmail(env, "faults", "clear", tenant).returncode == 0
    assert mockmail(env, "faults", "show", tenant).stdout.strip() == "compliant (no faults)"
    profiles = mockmail(env, "faults", "show", tenant, "--profiles").stdout
    assert "mailpit-legacy: Mailpit 1.14" in profiles
    bad = mockmail(env, "faults", "set", tenant, "--plan", '{"quit": {"reply": "sometimes"}}')
    assert bad.returncode == 1 and "$.quit.reply" in bad.stderr
    usage = mockmail(env, "faults", "set", tenant, "--plan", "[1]")
    assert usage.returncode == 2 and "must be a JSON object" in usage.stderr


def test_faults_print_text_unless_json(env: dict[str, str], tenant: str) -> None:
    """Like every command, `faults set` and `faults show` print text by default and JSON with --json."""
    plan = json.dumps(
        {
            "seed": 3,
            "replies": [{"command": "RETR", "line": "-ERR [SYS/TEMP] try later", "times": 2}],
            "transport": [{"kind": "latency", "ms": 200, "probability": 0.5}],
            "smtp": {"greylisting": {"retry_after": 60}},
        }
    )
    applied = mockmail(env, "faults", "set", tenant, "--profile", "mailpit-legacy", "--plan", plan)
    assert applied.returncode == 0, applied.stderr
    shown = mockmail(env, "faults", "show", tenant)
    assert shown.stdout == applied.stdout
    rows = {line.split()[0]: line.split(None, 1)[1] for line in shown.stdout.splitlines()}
    assert rows["profile"] == "mailpit-legacy" and rows["seed"] == "3"
    assert rows["quit"] == "reply=drop commit=true"  # from the preset
    assert rows["case_sensitive"] == "on"  # a knob with nothing to set
    assert rows["replies[0]"] == 'command=RETR line="-ERR [SYS/TEMP] try later" times=2'
    assert rows["transport[0]"] == "latency ms=200 jitter_ms=0 probability=0.5"
    assert rows["smtp.greylisting"] == "retry_after=60"
    assert not shown.stdout.lstrip().startswith("{")
    as_json = json.loads(mockmail(env, "faults", "show", tenant, "--json").stdout)
    assert as_json["replies"][0]["times"] == 2 and as_json["smtp"]["greylisting"]["retry_after"] == 60
    mockmail(env, "mailbox", "add", tenant, "alice", "--password", "pw")
    own = mockmail(env, "faults", "set", tenant, "--user", "alice", "--plan", '{"quit": {"reply": "hang"}}')
    assert own.stdout == "quit  reply=hang commit=true\n"
    assert mockmail(env, "faults", "show", tenant, "--user", "alice").stdout == own.stdout


def pop3_session(server: EmbeddedServer, tenant: str) -> None:
    with Client(server.url, ADMIN) as client:
        endpoint = client.tenant(tenant).pop3
    assert endpoint is not None
    pop = poplib.POP3(endpoint.host, endpoint.port, timeout=10)
    pop.user("alice")
    pop.pass_("pw")
    pop.quit()


def test_sessions_and_follow(env: dict[str, str], tenant: str, server: EmbeddedServer) -> None:
    mockmail(env, "mailbox", "add", tenant, "alice", "--password", "pw")
    follow = subprocess.Popen(
        [sys.executable, "-m", "mockmail.main", "sessions", tenant, "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stderr is not None and follow.stdout is not None
        assert follow.stderr.readline().startswith(f"mockmail: following {tenant}")  # subscribed
        pop3_session(server, tenant)
        seen = []
        for line in follow.stdout:
            seen.append(line.split(" ", 3)[3].rstrip("\n"))
            if line.rstrip().endswith("-- quit"):
                break
        follow.send_signal(signal.SIGINT)
        assert follow.wait(timeout=30) == 0
    finally:
        follow.kill()
    assert seen[:2] == ["S: +OK mockmail POP3 server ready " + seen[0].split("ready ")[1], "C: USER alice"]
    assert "C: PASS ********" in seen and "C: QUIT" in seen
    transcripts = mockmail(env, "sessions", tenant)
    assert (
        transcripts.stdout.splitlines()[0].startswith("pop3 session ") and "  C: QUIT" in transcripts.stdout
    )
    brief = mockmail(env, "sessions", tenant, "--brief").stdout.splitlines()
    assert brief[0].split() == ["ID", "PROTOCOL", "USER", "PEER", "END", "FAULTS"] and brief[1].split()[
        1:3
    ] == ["pop3", "alice"]
    as_json = json.loads(mockmail(env, "sessions", tenant, "--json", "--limit", "1").stdout)
    assert as_json[0]["end"] == "quit" and as_json[0]["lines"][1]["text"] == "USER alice"


def test_exit_codes_for_scripts(env: dict[str, str], server: EmbeddedServer) -> None:
    refused = mockmail({**env, "MOCKMAIL_TOKEN": ""}, "tenant", "list")
    assert refused.returncode == 1 and refused.stderr.startswith("mockmail: 401 ")
    unreachable = mockmail(env, "tenant", "list", "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 3 and "cannot reach http://127.0.0.1:9" in unreachable.stderr
    usage = mockmail(env, "tenant", "frobnicate")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
    assert mockmail(env, "mailbox", "add", "x", "alice").returncode == 2  # --password is required


def test_serve_does_not_load_the_client() -> None:
    """`mockmail serve` parses the same command line; the client and httpx stay out of the server."""
    probe = (
        "import sys; from mockmail.main import build_parser, settings_from; parser = build_parser(); "
        "settings_from(parser, parser.parse_args(['serve']), {}); "
        "print(sorted(m for m in ('httpx', 'mockmail.client', 'mockmail.cli._render') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
