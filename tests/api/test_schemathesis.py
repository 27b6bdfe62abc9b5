"""Schemathesis against the openapi.yaml a real running server serves, bounded in time.

Two runs against one `mockmail serve` process seeded with tenant `acme`, mailbox `alice` and a message,
and two more against one started with `--admin-token` (as the admin, and with acme's tenant token):
- deep: every path parameter fixed to the seeded tenant and mailbox, so generated bodies and queries reach
  the handlers (deleting the tenant or the mailbox is left out: it would turn the rest into 404s);
- broad: parameters generated too, every operation, and the stateful phase following the spec's links.
`schemathesis_hooks.py` works around one schemathesis quirk (path values holding `%XX`).
Every check runs except `use_after_free`: DELETE on a tenant's faults, sessions or messages empties a
collection or resets a plan, so a later GET answers 200 with `[]` or `{}` by design, which that check
counts as a deleted resource still served.  The SSE stream is endless by design and covered by
tests/test_transcripts.py.  `--request-timeout` turns a hung request into a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import serve_cli

ROOT = Path(__file__).resolve().parents[2]
SEED = """
[[tenants]]
name = "acme"
[[tenants.mailboxes]]
user = "alice"
password = "s3cret"
[[tenants.mailboxes.messages]]
subject = "hello"
text = "hi"
"""
SHORT_WAIT = '"query.wait" = 0.5\n'
"""The long-poll's `wait` may be up to 300 s, and a generated one would hold a request (and the run) that
long; every phase uses this valid value instead (the long-poll has its own tests in tests/api)."""
FIXED = '[parameters]\ntenant = "acme"\nuser = "alice"\n' + SHORT_WAIT
COMMON = [
    "--checks",
    "all",
    "--exclude-checks",
    "use_after_free",
    "--exclude-operation-id",
    "streamSessions",
    "--request-timeout",
    "10",
    "--workers",
    "1",  # hypothesis's lambda-source reflection is not thread-safe: with 2 workers the engine crashed once
    "--seed",
    "20261201",
    "--suppress-health-check",
    "filter_too_much",  # the hook's filter, not the spec, throws the values away
    "--no-color",
]


@pytest.fixture(name="api_url", scope="module")
def _api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("schemathesis")
    (folder / "seed.toml").write_text(SEED)
    with serve_cli("--config", str(folder / "seed.toml")) as cli:
        yield cli.url
    assert "Traceback" not in cli.log, cli.log[-5000:]


def _schemathesis(api_url: str, config: str, seconds: int, *extra: str, cwd: Path) -> str:
    (cwd / "schemathesis.toml").write_text(config)
    st = shutil.which("st", path=os.path.dirname(sys.executable))
    assert st is not None, "schemathesis is not installed next to this Python"
    done = subprocess.run(
        [
            st,
            "--config-file",
            str(cwd / "schemathesis.toml"),
            "run",
            f"{api_url}/api/v1/openapi.yaml",
            "--url",
            api_url,
            "--max-time",
            str(seconds),
            *COMMON,
            *extra,
        ],
        cwd=cwd,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    output = done.stdout + done.stderr
    summary = re.search(r"Test cases:\s*\n\s*(.+)", output)
    tested = re.search(r"Tested: (\d+)", output)
    print(f"schemathesis: {tested[1] if tested else '?'} operations, {summary[1] if summary else '?'}")
    assert done.returncode == 0, output[-20000:]
    assert summary and "generated" in summary[1]
    return output


def test_deep_run_with_the_seeded_tenant(api_url: str, tmp_path: Path) -> None:
    output = _schemathesis(
        api_url,
        FIXED,
        40,
        "--exclude-operation-id",
        "deleteTenant",
        "--exclude-operation-id",
        "deleteMailbox",
        cwd=tmp_path,
    )
    assert "Tested: 33" in output


def test_broad_run_with_generated_parameters(api_url: str, tmp_path: Path) -> None:
    output = _schemathesis(api_url, "[parameters]\n" + SHORT_WAIT, 30, cwd=tmp_path)
    assert "Tested: 35" in output


ADMIN_TOKEN = "schemathesis-admin-token-0123456789"


@pytest.fixture(name="guarded", scope="module")
def _guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server with `--admin-token`, seeded like the open one; yields its URL and acme's tenant token."""
    folder = tmp_path_factory.mktemp("schemathesis-guarded")
    (folder / "seed.toml").write_text(SEED)
    with serve_cli("--config", str(folder / "seed.toml"), "--admin-token", ADMIN_TOKEN) as cli:
        request = urllib.request.Request(
            f"{cli.url}/api/v1/tenants/acme/token",
            method="POST",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            token = json.loads(response.read())["token"]
        yield cli.url, token
    assert "Traceback" not in cli.log, cli.log[-5000:]
    assert ADMIN_TOKEN not in cli.log and token not in cli.log  # never logged


KEEP_SEEDED = ("--exclude-operation-id", "deleteTenant", "--exclude-operation-id", "deleteMailbox")


def _as(token: str, url: str, seconds: int, *extra: str, cwd: Path) -> str:
    """A deep run that sends `token` with every request."""
    header = ("--header", f"Authorization: Bearer {token}")
    return _schemathesis(url, FIXED, seconds, *header, *KEEP_SEEDED, *extra, cwd=cwd)


def test_deep_run_with_the_admin_token(guarded: tuple[str, str], tmp_path: Path) -> None:
    url, _ = guarded
    assert "Tested: 33" in _as(ADMIN_TOKEN, url, 25, cwd=tmp_path)


def test_deep_run_with_a_tenant_token(guarded: tuple[str, str], tmp_path: Path) -> None:
    """The tenant's own paths work, the rest answer 401/403 as documented; no 5xx anywhere."""
    url, token = guarded
    # Rotating would end the run's own token.
    output = _as(token, url, 20, "--exclude-operation-id", "rotateTenantToken", cwd=tmp_path)
    assert "Tested: 32" in output
