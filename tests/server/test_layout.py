"""The driver/handler split keeps its rules: the POP3 handler reads no quirk, the driver names no protocol."""

from __future__ import annotations

import ast
from pathlib import Path

import mockmail.server.driver as driver
import mockmail.server.pop3_session as pop3_session


def _quirk_reads(module: Path) -> list[str]:
    """`<function>:<line>` of every `.quirks` read outside `_draw` (where the core gets them)."""
    tree = ast.parse(module.read_text())
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef) or func.name in ("_draw", "__init__"):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Attribute) and node.attr == "quirks":
                found.append(f"{func.name}:{node.lineno}")
    return found


def test_the_pop3_handler_reads_no_quirk() -> None:
    assert _quirk_reads(Path(pop3_session.__file__)) == []


def test_the_layout_check_sees_a_quirk_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def _on_LIST(self):\n    return self.quirks.octets_off_by_lf\n")
    assert _quirk_reads(sample) == ["_on_LIST:2"]


def test_the_driver_imports_no_protocol() -> None:
    tree = ast.parse(Path(driver.__file__).read_text())
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    assert not {name for name in imported if "pop3" in name or "smtp" in name}
