"""The set-up path: README commands, .ci/run, Dockerfile and the wheel's contents."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", setup)


def test_readme_starts_with_the_two_commands() -> None:
    commands = readme_commands()
    assert commands == ["pip install . && mockmail serve", "pip install -e '.[test]' && python -m pytest"]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci


def test_dockerfile_runs_unprivileged_with_a_health_check() -> None:
    docker = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim$", docker, re.M)
    assert re.search(r"^USER mockmail$", docker, re.M)
    assert "EXPOSE 8025" in docker
    assert "/api/v1/health" in docker.split("HEALTHCHECK", 1)[1]
    assert docker.rstrip().endswith('CMD ["mockmail", "serve", "--host", "0.0.0.0"]')


def test_wheel_carries_the_contract(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("mockmail-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "api/openapi.yaml" in names
    assert "mockmail/pop3/_connection.py" in names
    assert zipfile.ZipFile(wheel).read("api/openapi.yaml") == (ROOT / "openapi.yaml").read_bytes()
