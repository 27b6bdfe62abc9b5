"""The REST API suite once more, against a real `mockmail serve --workers 2`: the issue's "the REST API suite
also runs once against --workers 2", inside the one test command that `.ci/run` runs.

It is a pytest run of tests/api in a child process with `MOCKMAIL_API_WORKERS=2` (tests/api/over_workers.py
says what that changes and which tests are left out, by rule), in one process of its own so that it does not
take a second share of the cores the outer run's workers use."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_rest_api_suite_passes_against_a_supervisor_and_two_workers() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "XDIST_"))}
    env["MOCKMAIL_API_WORKERS"] = "2"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/api", "-q", "-p", "no:cacheprovider", "-n", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,  # a bound on a hang only
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    passed = re.search(r"(\d+) passed", summary)
    deselected = re.search(r"(\d+) deselected", summary)
    assert passed is not None and deselected is not None, summary
    # Most of the suite runs there: what is left out needs the in-process app (its registry, its clock).
    assert int(passed[1]) > 2 * int(deselected[1]), summary
    assert not re.search(r"failed|error|skipped", summary), summary
