"""docs/testing.md as a reader uses it: its tests pass under the plugin, and its client example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockmail.embedded import EmbeddedServer

DOC = (Path(__file__).resolve().parents[1] / "docs" / "testing.md").read_text()
PYTHON = re.findall(r"^```python\n(.+?)^```$", DOC, flags=re.M | re.S)


@pytest.fixture(name="server", scope="module")
def _server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as server:
        yield server


def test_the_install_command_names_the_pytest_extra() -> None:
    assert "pip install 'mockmail[pytest]'" in DOC
    assert "pip install mockmail\n" not in DOC  # the plugin needs pytest, which the plain install lacks


def test_the_tests_on_the_page_pass(pytester: pytest.Pytester) -> None:
    tests = [block for block in PYTHON if "\ndef test_" in "\n" + block]
    assert len(tests) >= 2
    pytester.makepyfile(test_page="import pytest\n\n" + "\n\n".join(tests))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(
        passed=sum(block.count("\ndef test_") + block.startswith("def test_") for block in tests)
    )


def test_the_client_example_runs(server: EmbeddedServer, tmp_path: Path) -> None:
    (example,) = [block for block in PYTHON if "Client(" in block]
    assert 'Client("http://127.0.0.1:8025")' in example
    done = subprocess.run(
        [sys.executable, "-c", example.replace("http://127.0.0.1:8025", server.url)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [line.rsplit(" ", 1)[0] for line in done.stdout.splitlines()] == ["raw", "Welcome", "Hello"]
