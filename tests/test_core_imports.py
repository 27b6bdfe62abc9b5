"""Every protocol core is sans-IO: importing it loads neither trio nor any socket module, nor any layer
above it (the server adapters, the store, the tenancy layer or the API)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORES = ["mockmail.pop3", "mockmail.smtp", "mockmail.imap"]
IO_MODULES = {"trio", "socket", "ssl", "asyncio", "selectors"}
LAYERS_ABOVE = {"mockmail.server", "mockmail.store", "mockmail.tenancy", "mockmail.api", "mockmail.faults"}


@pytest.mark.parametrize("core", CORES)
def test_core_imports_without_trio_or_sockets(core: str) -> None:
    code = (
        f"import sys, {core};"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {IO_MODULES!r}"
        f" or '.'.join(m.split('.')[:2]) in {LAYERS_ABOVE!r});"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_check_sees_an_io_import() -> None:
    """The probe itself works: the server adapters do load trio."""
    code = "import sys, mockmail.server.driver; print('trio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
