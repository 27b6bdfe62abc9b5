"""The POP3 core is sans-IO: importing it loads neither trio nor any socket module."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_without_trio_or_sockets() -> None:
    code = (
        "import sys, mockmail.pop3;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'trio', 'socket', 'ssl', 'asyncio', 'selectors'});"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
