"""The quirk hooks reach a session only through `server/seams.py`: no underscore member, no import of it.

A session module imports its hooks; if the hooks imported the session back (even under TYPE_CHECKING)
the two would form a cycle, and a hook that touched `session._closing` would tie itself to the
session's insides.  These checks read the source (AST), so they hold for every code path, and the
subprocess check proves the import graph at run time.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import mockmail.server as server

SERVER = Path(server.__file__).parent
HOOK_MODULES = sorted(SERVER.glob("*_hooks.py"))
OWN = ("self", "cls")


def _violations(source: str) -> list[str]:
    """`<line>: <what>` for every import of a session module and every private member read through
    anything but `self`/`cls` (a hook's own helpers stay private)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [f"{node.module or ''}.{alias.name}" for alias in node.names]
            if any(name.rpartition(".")[2].endswith("_session") for name in names):
                found.append(f"{node.lineno}: imports {node.module or '.'}")
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name.endswith("_session")]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in OWN)
        ):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_there_are_hook_modules_to_check() -> None:
    assert {path.name for path in HOOK_MODULES} >= {"pop3_hooks.py", "smtp_hooks.py", "imap_hooks.py"}


@pytest.mark.parametrize("module", HOOK_MODULES, ids=lambda path: path.name)
def test_hooks_use_only_the_public_seams(module: Path) -> None:
    assert _violations(module.read_text()) == []


def test_the_seams_import_no_session_and_no_hooks() -> None:
    tree = ast.parse((SERVER / "seams.py").read_text())
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.endswith(("_session", "_hooks"))}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(session):\n    session._closing = 'x'\n", ["2: session._closing"]),
        ("def f(self):\n    self.session._HANDLERS\n", ["2: self.session._HANDLERS"]),
        ("from .pop3_session import Pop3Session\n", ["1: imports pop3_session"]),
        ("from . import smtp_session\n", ["1: imports ."]),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .smtp_session import S\n",
            ["3: imports smtp_session"],
        ),
        ("import mockmail.server.pop3_session\n", ["1: imports mockmail.server.pop3_session"]),
        ("def f(self):\n    return self._scripted(), type(self).__name__\n", []),
    ],
)
def test_the_check_sees_a_private_access_or_a_session_import(source: str, expected: list[str]) -> None:
    assert _violations(source) == expected


def test_importing_the_hooks_loads_no_session() -> None:
    script = (
        "import sys, mockmail.server.pop3_hooks, mockmail.server.smtp_hooks, mockmail.server.imap_hooks\n"
        "print(sorted(m for m in sys.modules if m.endswith('_session')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
