"""The set-up path: README commands, .ci/run, Dockerfile and the wheel's contents."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

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


@pytest.fixture(name="wheel", scope="module")
def _wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip install mockmail` would install, built once for the tests below."""
    folder = tmp_path_factory.mktemp("wheel")
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
            str(folder),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = folder.glob("mockmail-*.whl")
    return wheel


def test_wheel_carries_the_contract(wheel: Path) -> None:
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


def wheel_metadata(wheel: Path) -> tuple[list[str], list[str]]:
    """The METADATA of the wheel: its file names, and its `Requires-Dist` lines."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(archive.read(metadata).decode())
    return headers.get_all("Provides-Extra") or [], headers.get_all("Requires-Dist") or []


def test_the_pytest_extra_brings_what_the_plugin_needs(wheel: Path) -> None:
    """`pip install 'mockmail[pytest]'`: the plugin imports pytest, and its trio fixtures need pytest-trio."""
    from packaging.requirements import Requirement

    extras, requires = wheel_metadata(wheel)
    assert "pytest" in extras
    parsed = [Requirement(r) for r in requires]
    with_extra = {r.name for r in parsed if r.marker and r.marker.evaluate({"extra": "pytest"})}
    plain = {r.name for r in parsed if not r.marker}
    assert {"pytest", "pytest-trio"} <= with_extra, requires
    assert with_extra - plain == {"pytest", "pytest-trio"}  # a server install stays without pytest


def test_the_wheel_carries_the_license(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (license_file,) = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        text = archive.read(license_file).decode()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the mockmail authors" in text
