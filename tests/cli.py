"""The real `mockmail serve` process, for tests that need one: started on a free port, waited for through
its health endpoint, stopped with SIGTERM (which must exit 0), its log kept for assertions."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


def call_json(url: str, token: str, method: str = "GET", payload: Any = None) -> Any:
    """One REST call with a bearer token; the decoded JSON answer (None for an empty one).

    Raises:
        urllib.error.HTTPError: the answer was 4xx or 5xx.
    """
    body = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        data = response.read()
    return json.loads(data) if data else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cli:
    proc: subprocess.Popen[str]
    port: int
    log: str = ""
    """Everything the process wrote to stderr; filled in once it has stopped."""
    killed: bool = False

    def kill(self) -> None:
        """SIGKILL now (a crash): no shutdown runs, and the block does not expect exit 0."""
        self.killed = True
        self.proc.kill()
        self.proc.wait()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serve_cli(
    *args: str, port_in_env: bool = False, preexec_fn: Callable[[], None] | None = None
) -> Iterator[Cli]:
    """Run `mockmail serve ARGS`; the API port goes in `--api-port` or, with `port_in_env`, in
    MOCKMAIL_API_PORT."""
    port = free_port()
    env = dict(os.environ)
    argv = [sys.executable, "-m", "mockmail.main", "serve", *args]
    if port_in_env:
        env["MOCKMAIL_API_PORT"] = str(port)
    else:
        argv += ["--api-port", str(port)]
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn
    )
    cli = Cli(proc, port)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(cli.url + "/api/v1/health", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None, "the server exited: " + (
                    proc.stderr.read() if proc.stderr else ""
                )
                assert time.monotonic() < deadline, "the server did not come up in 20 s"
                time.sleep(0.1)
        yield cli
        if not cli.killed:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        cli.log = proc.stderr.read() if proc.stderr else ""
