"""The README's tour runs verbatim against a real `mockmail serve`, and answers what its `#>` lines show;
its Python and Ruby snippets run too, and the Ruby one fails against `mailpit-legacy` the way the README
says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import Cli, call_json, serve_cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.+?)^```$", text, flags=re.M | re.S)


TOUR = section("A two-minute tour")
(SCRIPT,) = blocks(TOUR, "sh")
(PYTHON,) = blocks(TOUR, "python")
(RUBY,) = blocks(TOUR, "ruby")


def samples(script: str) -> list[str]:
    """Each run of `#> ` lines: what the command above it prints."""
    found: list[list[str]] = []
    previous = False
    for line in script.splitlines():
        sample = line.startswith("#> ")
        if sample and previous:
            found[-1].append(line[3:])
        elif sample:
            found.append([line[3:]])
        previous = sample
    return ["\n".join(lines) for lines in found]


_PIECES = re.compile(r"\.\.\.|\b[0-9a-f]{16}\b|\d+|\n")


def pattern(sample: str) -> str:
    """A sample as a regular expression: `...` stands for anything, an id for any id, a number for any
    number (ports, sizes), and a line break for a line break or none (wrapped JSON)."""
    out, at = [], 0
    for piece in _PIECES.finditer(sample):
        out.append(re.escape(sample[at : piece.start()]))
        text = piece.group()
        if text == "...":
            out.append(".*?")
        elif text == "\n":
            out.append(r"\s*")
        elif len(text) == 16 and not text.isdigit():
            out.append("[0-9a-f]{16}")
        else:
            out.append(r"\d+")
        at = piece.end()
    out.append(re.escape(sample[at:]))
    return "".join(out)


@pytest.fixture(name="server")
def _server() -> Iterator[Cli]:
    with serve_cli() as server:
        yield server


def run_tour(server: Cli, tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKMAIL_")}
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", SCRIPT],
        env={**env, "MOCKMAIL_URL": server.url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_samples_are_read_as_patterns() -> None:
    assert len(samples(SCRIPT)) >= 6
    assert re.fullmatch(pattern('{"id":"3ba7847876f24eee","size":24}'), '{"id":"0123456789abcdef","size":7}')
    assert re.fullmatch(pattern('{"a":1,...,"b":2}'), '{"a":5,"x":null,"b":2}')
    assert re.fullmatch(pattern('{"a":1,\n"b":2}'), '{"a":1,"b":2}')
    assert not re.fullmatch(pattern('{"state":"running"}'), '{"state":"failed"}')


def test_the_tour_runs_verbatim_and_answers_as_shown(server: Cli, tmp_path: Path) -> None:
    output = run_tour(server, tmp_path)
    at = 0
    for sample in samples(SCRIPT):
        found = re.compile(pattern(sample), re.S).search(output, at)
        assert found, (
            f"the README shows\n{sample}\nbut after what matched so far the tour printed\n{output[at:]}"
        )
        at = found.end()
    messages = call_json(f"{server.url}/api/v1/tenants/acme/mailboxes/alice/messages", "")
    assert [m["subject"] for m in messages] == ["raw", "sent"]  # what the tour's last answer shows


def test_the_python_and_ruby_snippets(server: Cli, tmp_path: Path) -> None:
    run_tour(server, tmp_path)
    port = str(call_json(f"{server.url}/api/v1/tenants/acme", "")["pop3"]["port"])
    python = subprocess.run(
        [sys.executable, "-c", PYTHON.replace("PORT", port)], capture_output=True, text=True, timeout=60
    )
    assert python.returncode == 0, python.stderr
    assert python.stdout.startswith("(2, ") and "b'Subject: raw'" in python.stdout
    ruby = subprocess.run(
        ["ruby", "-e", RUBY.replace("PORT", port)], capture_output=True, text=True, timeout=60
    )
    assert ruby.returncode == 0, ruby.stderr
    assert "Subject: raw" in ruby.stdout and "Subject: sent" in ruby.stdout
    assert call_json(f"{server.url}/api/v1/tenants/acme/mailboxes/alice/messages", "") == []  # each m.delete


def test_the_ruby_snippet_against_mailpit_legacy_fails_as_the_readme_says(
    server: Cli, tmp_path: Path
) -> None:
    run_tour(server, tmp_path)
    tenant = f"{server.url}/api/v1/tenants/acme"
    call_json(f"{tenant}/faults", "", "PUT", {"profile": "mailpit-legacy"})
    port = str(call_json(tenant, "")["pop3"]["port"])
    ruby = subprocess.run(
        ["ruby", "-e", RUBY.replace("PORT", port)], capture_output=True, text=True, timeout=60
    )
    assert ruby.returncode != 0
    said = section("The web page")
    raised = re.search(r"bad response: (1 %!d\(float64=\d+\)) \((Net::POPBadResponse)\)", ruby.stderr)
    assert raised, ruby.stderr
    assert f"raises `{raised.group(2)}` at LIST" in said
    assert re.sub(r"\d+\)", "N)", f"`{raised.group(1)}`") in re.sub(r"\d+\)", "N)", said)
    assert "EOFError" not in ruby.stderr
