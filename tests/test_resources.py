"""mockmail/resources.py: running out of file descriptors is told as what it is, once, and recovers.

The real CLI runs with a low RLIMIT_NOFILE; one keep-alive HTTP connection opened beforehand carries the
requests (a new connection could not be accepted while the table is full).
"""

from __future__ import annotations

import http.client
import json
import resource
from typing import Any

from mockmail.observe.resources import ResourceMonitor
from tests.cli import serve_cli

LIMIT = 64


def _low_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


def _call(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, "/api/v1" + path, body=data, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    return response.status, json.loads(payload) if payload else None


def test_out_of_descriptors_is_a_503_logged_once_and_shown_in_health() -> None:
    with serve_cli(preexec_fn=_low_limit) as cli:
        conn = http.client.HTTPConnection("127.0.0.1", cli.port, timeout=10)
        status, health = _call(conn, "GET", "/health")
        assert status == 200 and health["status"] == "ok" and health["problem"] is None
        assert health["max_open_files"] == LIMIT and 0 < health["open_files"] < LIMIT

        created, refusal = 0, None
        for i in range(LIMIT):
            status, body = _call(conn, "POST", "/tenants", {"name": f"t{i}"})
            if status != 201:
                refusal = (status, body)
                break
            created += 1
        assert refusal is not None, "the limit was never reached"
        status, problem = refusal
        assert status == 503, problem
        assert problem["type"] == "urn:mockmail:problem:resources-exhausted"
        assert "out of file descriptors" in problem["detail"] and str(LIMIT) in problem["detail"]
        assert "port" not in problem["detail"].lower() and problem.get("field") is None

        for i in range(3):  # more refusals in the same episode log nothing new
            assert _call(conn, "POST", "/tenants", {"name": f"again{i}"})[0] == 503
        status, health = _call(conn, "GET", "/health")
        assert health["status"] == "degraded" and "out of file descriptors" in health["problem"]

        assert _call(conn, "DELETE", "/tenants/t0")[0] == 204  # frees a descriptor: creation works again
        assert _call(conn, "POST", "/tenants", {"name": "after"})[0] == 201
        assert created >= 10
        conn.close()
    assert cli.log.count("out of file descriptors") == 1, cli.log
    assert "Traceback" not in cli.log


def test_the_monitor_forgets_an_old_episode(monkeypatch: Any) -> None:
    import errno

    from mockmail.observe import resources

    clock = [1000.0]
    monkeypatch.setattr(resources.time, "monotonic", lambda: clock[0])
    monitor = ResourceMonitor()
    assert monitor.current() is None
    reason = monitor.exhausted(OSError(errno.EMFILE, "Too many open files"), "test")
    assert monitor.current() == reason and "RLIMIT_NOFILE" in reason
    clock[0] += resources.RECENT + 1
    assert monitor.current() is None
