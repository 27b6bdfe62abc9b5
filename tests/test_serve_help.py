"""`mockmail serve --help`: an option that covers every protocol says so, instead of naming POP3 alone."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from mockmail.main import build_parser

EVERY_PROTOCOL = (
    "host",
    "tls",
    "tls_cert",
    "idle_timeout",
    "max_sessions",
    "max_message_size",
    "auth_failure_delay",
)


def serve_help() -> dict[str, str]:
    """Each `serve` option's help text, by its setting name."""
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    serve = commands.choices["serve"]
    return {action.dest: action.help or "" for action in serve._actions if action.dest != "help"}


@pytest.mark.parametrize("name", EVERY_PROTOCOL)
def test_an_option_for_every_protocol_says_so(name: str) -> None:
    text = serve_help()[name]
    assert "every protocol" in text or "any protocol" in text, text


def test_no_option_names_pop3_alone() -> None:
    """POP3 may be named beside the other protocols (or as the one a limit is about), never as all of them."""
    for name, text in serve_help().items():
        if "POP3" in text and "pop3" not in name:
            assert "SMTP" in text, f"--{name}: {text}"


def test_the_help_the_command_prints() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockmail.main", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    flat = " ".join(done.stdout.split())
    assert "every POP3 listener" not in flat and "POP3 sessions" not in flat
    assert "address the API and every protocol listener bind to" in flat
