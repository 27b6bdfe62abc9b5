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
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt . && .venv/bin/mockmail serve",
        "python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt -e '.[test]'"
        " && .venv/bin/python -m pytest",
    ]


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_every_dependency_is_locked_to_one_version() -> None:
    import tomllib

    pins = locked()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    for requirement in wanted:
        name = re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]).lower()
        assert name in pins, f"{name} is not in constraints.txt"


def test_the_running_environment_is_the_lock() -> None:
    """The suite runs on exactly what constraints.txt names (the README command installs it so)."""
    from importlib import metadata

    pins = locked()
    seen = {re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version for d in metadata.distributions()}
    for name, version in pins.items():
        if name in seen:
            assert seen[name] == version, f"{name} {seen[name]} is installed, constraints.txt says {version}"
    runtime = {"trio", "hypercorn", "quart-trio", "msgspec", "trustme", "pytest", "schemathesis"}
    assert runtime <= set(pins) and runtime <= set(seen)


def test_the_build_backend_is_pinned() -> None:
    import tomllib

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    assert all("==" in requirement for requirement in requires)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci


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
    assert "mockmail/api/openapi.yaml" in names
    assert not [n for n in names if n.startswith("api/")]  # no top-level `api` package to collide with
    assert "mockmail/pop3/_connection.py" in names
    for page in ("web/templates/index.html", "web/static/app.js", "web/static/app.css"):
        assert f"mockmail/api/{page}" in names  # the web page travels with the package
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    entries = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[pytest11]\nmockmail = mockmail.pytest_plugin" in entries  # pip install gives pytest the plugin
    assert zipfile.ZipFile(wheel).read("mockmail/api/openapi.yaml") == (ROOT / "openapi.yaml").read_bytes()
