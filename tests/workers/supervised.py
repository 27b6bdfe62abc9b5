"""A real `mockmail serve --workers N` process for the tests: started on a free port, waited for until every
worker is up, stopped with SIGTERM (which must exit 0 and leave no worker behind), its log in a file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tests.cli import free_port

T = TypeVar("T")
DEADLINE = 30.0
"""Seconds a poll waits for what it expects before the test fails (generous: a shared 2-core machine)."""


class Answer(Exception):
    """A 4xx or 5xx answer, with its status and decoded body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def poll(check: Callable[[], T | None], what: str, deadline: float = DEADLINE) -> T:
    """`check()`'s first answer that is not None, trying again until `deadline` seconds have passed."""
    end = time.monotonic() + deadline
    while True:
        found = check()
        if found is not None:
            return found
        assert time.monotonic() < end, f"not within {deadline} s: {what}"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@dataclass
class Supervised:
    proc: subprocess.Popen[bytes]
    port: int
    token: str | None
    log_file: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def call(self, path: str, method: str = "GET", payload: Any = None, token: str | None = None) -> Any:
        """The decoded JSON answer of one REST call (as the admin unless `token` is given).

        Raises:
            Answer: a 4xx or 5xx answer.
        """
        headers = {"Content-Type": "application/json"}
        bearer = token or self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        body = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            raise Answer(exc.code, json.loads(exc.read() or b"null")) from None
        return json.loads(data) if data else None

    def health(self) -> Any:
        return self.call("/api/v1/health")

    def all_up(self) -> Any:
        """The health once every worker is up, else None."""
        try:
            health = self.health()
        except (OSError, Answer):
            assert self.proc.poll() is None, "the supervisor exited:\n" + self.log
            return None
        return health if all(w["state"] == "up" for w in health["workers"]) else None


@contextmanager
def supervised(
    tmp_path: Path, *args: str, workers: int = 2, token: str | None = None
) -> Iterator[Supervised]:
    """Run `mockmail serve --workers N ARGS`; stop it with SIGTERM at the end (exit 0, no worker left)."""
    port = free_port()
    log_file = tmp_path / f"serve-{port}.log"
    argv = [
        sys.executable,
        "-m",
        "mockmail.main",
        "serve",
        "--workers",
        str(workers),
        "--api-port",
        str(port),
    ]
    argv += [*args, *(["--admin-token", token] if token else [])]
    with log_file.open("wb") as log:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log, env=dict(os.environ))
    server = Supervised(proc, port, token, log_file)
    try:
        health = poll(server.all_up, "every worker up")
        assert len(health["workers"]) == workers
        yield server
        if proc.poll() is None:
            pids = [w["pid"] for w in server.health()["workers"]]
            proc.send_signal(signal.SIGTERM)
            # The server stops within its own 10 s deadline; these bounds only keep a hang from lasting.
            assert proc.wait(timeout=DEADLINE) == 0, server.log
            poll(lambda: True if not any(alive(pid) for pid in pids) else None, "no worker left")
            assert "Traceback" not in server.log, server.log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
