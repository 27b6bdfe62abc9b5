"""The pytest plugin, run as its users run it: whole pytest sessions in subprocesses (pytester), alone
and under xdist (`-n 2`), against the in-process server or one given with --mockmail-url."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockmail.client import Client
from mockmail.embedded import EmbeddedServer
from mockmail.pytest_plugin import tenant_name

SUITE = """
import os
import poplib
import smtplib
from pathlib import Path

import pytest


def test_send_fetch_and_read_the_transcript(mail_tenant):
    inbox = mail_tenant.mailbox("alice", password="pw")
    with smtplib.SMTP(mail_tenant.smtp.host, mail_tenant.smtp.port) as smtp:
        smtp.sendmail("bob@example.test", ["alice@example.test"], b"Subject: hi\\r\\n\\r\\nhello\\r\\n")
    inbox.wait_for(count=1)
    pop = poplib.POP3(mail_tenant.pop3.host, mail_tenant.pop3.port)
    pop.user("alice"); pop.pass_("pw"); assert pop.stat()[0] == 1; pop.quit()
    assert ("C", "QUIT") in [(line.dir, line.text) for s in mail_tenant.sessions() for line in s.lines]


@pytest.mark.mockmail(profile="mailpit-legacy", seed=7)
def test_the_marker_sets_the_plan(mail_tenant):
    plan = mail_tenant.faults.get()
    assert plan.profile == "mailpit-legacy" and plan.seed == 7


@pytest.mark.parametrize("n", range(6))
def test_each_test_has_its_own_tenant(mail_tenant, mockmail_server, n):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    assert mail_tenant.name.startswith(worker + "-test-each-test-has-its-own-tenant-")
    assert mail_tenant.mailboxes() == [] and mail_tenant.faults.get().profile is None
    inbox = mail_tenant.mailbox("alice", password="pw")
    for i in range(n):
        inbox.seed(subject=f"m{i}")
    assert len(inbox.messages()) == n
    mail_tenant.faults.set(quit={"reply": "drop"})  # would leak into the next test if tenants were shared
    record = Path(os.environ["PLUGIN_RECORD"]) / f"{worker}-{n}"
    record.write_text(mockmail_server.url)


@pytest.mark.trio
async def test_the_trio_variant(trio_mail_tenant):
    inbox = await trio_mail_tenant.mailbox("alice", password="pw")
    await inbox.seed(subject="async")
    assert [m.subject for m in await inbox.wait_for(count=1)] == ["async"]


def test_a_failure_reports_the_transcripts(mail_tenant):
    mail_tenant.mailbox("alice", password="pw")
    pop = poplib.POP3(mail_tenant.pop3.host, mail_tenant.pop3.port)
    pop.user("alice"); pop.pass_("pw"); pop.quit()
    assert False, "this test fails on purpose"
"""


@pytest.fixture(name="suite")
def _suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makepyfile(test_suite=SUITE)
    record = pytester.mkdir("record")
    monkeypatch.setenv("PLUGIN_RECORD", str(record))
    monkeypatch.delenv("MOCKMAIL_URL", raising=False)
    # The inner sessions are workers of their own (or none), also when this suite runs under xdist.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    return pytester


def check_outcome(result: pytest.RunResult, runs: int = 1) -> None:
    result.assert_outcomes(passed=9 * runs, failed=runs)
    text = result.stdout.str()
    assert "mockmail transcripts: tenant " in text and "-test-a-failure-reports-the-transcripts-" in text
    assert "C: USER alice" in text and "C: QUIT" in text and "C: PASS ********" in text
    assert "this test fails on purpose" in text
    page = (
        r"web page: http://127\.0\.0\.1:\d+/#/t/[a-z0-9-]+-test-a-failure-reports-the-transcripts-[0-9a-f]+\n"
    )
    assert re.search(page, text), text  # the link that opens the tenant on the web page


def servers_seen(suite: pytest.Pytester) -> dict[str, str]:
    """Each parametrized test's record: `WORKER-N` -> the URL of the server it used."""
    return {path.name: path.read_text() for path in (suite.path / "record").iterdir()}


def test_the_plugin_alone(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "-p", "trio", timeout=180)
    check_outcome(result)
    seen = servers_seen(suite)
    assert sorted(seen) == [f"main-{n}" for n in range(6)] and len(set(seen.values())) == 1


@pytest.mark.parametrize("dist", ["load", "each"])
def test_the_plugin_under_xdist(suite: pytest.Pytester, dist: str) -> None:
    """`load` is how users run it; `each` runs every test on both workers, so both surely take part."""
    args = ("-p", "no:cacheprovider", "-p", "trio", "-n", "2", "--dist", dist)
    result = suite.runpytest_subprocess(*args, timeout=180)
    check_outcome(result, runs=2 if dist == "each" else 1)
    seen = servers_seen(suite)
    by_worker = {name.split("-")[0]: url for name, url in seen.items()}
    assert set(by_worker) <= {"gw0", "gw1"}
    assert len(set(by_worker.values())) == len(by_worker)  # a server of its own for each worker
    if dist == "each":
        assert sorted(seen) == sorted(f"{w}-{n}" for w in ("gw0", "gw1") for n in range(6))
    else:
        assert sorted(int(name.split("-")[1]) for name in seen) == list(range(6))


@pytest.fixture(name="shared")
def _shared() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(admin_token="plugin-admin-token-0123456789") as server:
        yield server


def test_a_shared_server_given_by_url(
    suite: pytest.Pytester, shared: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCKMAIL_TOKEN", "plugin-admin-token-0123456789")
    result = suite.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "trio", "-n", "2", f"--mockmail-url={shared.url}", timeout=180
    )
    check_outcome(result)
    assert set(servers_seen(suite).values()) == {shared.url}
    with Client(shared.url, "plugin-admin-token-0123456789") as client:
        assert client.list_tenants() == []  # every test's tenant was deleted at its teardown
        assert client.get_health().tenants == 0


def test_a_wrong_url_fails_the_session_at_the_first_fixture(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "trio", "--mockmail-url=http://127.0.0.1:9", timeout=120
    )
    outcomes = result.parseoutcomes()
    assert (
        outcomes.get("errors", 0) == 9 and outcomes.get("passed", 0) == 1
    )  # the trio one has its own server
    assert "ConnectError" in result.stdout.str()


@pytest.mark.parametrize(
    ("test", "worker"),
    [("test_x", None), ("test_login[alice-1]", "gw3"), ("T" * 200, "gw12"), ("---", None)],
)
def test_tenant_names_fit_the_pattern(test: str, worker: str | None) -> None:
    import re

    from mockmail.tenancy.specs import TENANT_NAME_PATTERN

    name = tenant_name(test, worker)
    assert re.match(TENANT_NAME_PATTERN, name), name
    assert len(name) <= 63 and name.startswith((worker or "main") + "-")
    assert name != tenant_name(test, worker)  # a random tail: reruns against a shared server do not clash


def test_the_documented_example_suite_passes(pytester: pytest.Pytester) -> None:
    example = Path(__file__).parent.parent / "docs" / "examples" / "test_mail_client.py"
    pytester.makepyfile(test_mail_client=example.read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=4)
