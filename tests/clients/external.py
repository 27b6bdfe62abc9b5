"""Running external clients (ruby, curl) as subprocesses.  A missing client fails the test: it never skips."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import trio

RUBY_DIR = Path(__file__).parent / "ruby"


def require(program: str) -> str:
    path = shutil.which(program)
    assert path, f"{program} is not installed: .ci/run installs it (apt-get install -y {program})"
    return path


async def run(*args: str, check: bool = False, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(timeout):
        return await trio.run_process(list(args), capture_stdout=True, capture_stderr=True, check=check)


async def ruby(script: str, *args: object) -> dict[str, Any]:
    done = await run(require("ruby"), str(RUBY_DIR / script), *(str(a) for a in args))
    assert done.returncode == 0, done.stderr.decode()
    result: dict[str, Any] = json.loads(done.stdout)
    return result
