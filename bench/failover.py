"""Failover time of replicas on PostgreSQL: from `kill -9` of the replica that owns a tenant to the tenant
answering on the survivor, two ways, each timed on its own:

- `pop3_s`: a POP3 greeting (`+OK`) from a port of the survivor's `--port-range` (every port of the range
  is probed, so this does not wait for the REST view to say which);
- `rest_s`: the survivor's `GET /api/v1/tenants/{tenant}` answering 200 with `replica` naming the survivor
  and `state` running (before that it answers 421, naming the dead owner).

Two replicas (`mockmail serve --store URL --replica-id a|b --lease-seconds S --port-range ...`) share one
database; the tenant is created on one, the owner is killed after a random wait (so that the kill falls
anywhere in its renewal period, S/3), the other is polled every `POLL` s until both have happened, and the
dead replica is started again under its id (it claims nothing: the tenant is held) to be the survivor of
the next sample, whose kill is of the other one.  Each poll is bounded: a sample that takes more than
`3 S + 20` s fails.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from servers import Mockmail

__all__ = ["Detector", "Replica", "Sample", "failover_samples", "replica", "summary"]

TENANT = "moving"
POLL = 0.01
"""Seconds between two polls of the survivor."""


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One failover: seconds from the kill to each sign that the survivor serves the tenant."""

    pop3_s: float
    rest_s: float
    pop3_port: int
    """The port that greeted (it is also the one the survivor's REST view names)."""


class Replica:
    """One `mockmail serve --store` replica with its id, lease and port range."""

    def __init__(self, store: str, name: str, ports: range, lease: float) -> None:
        self.name, self.ports = name, ports
        self.server = Mockmail(
            "--store",
            store,
            "--replica-id",
            name,
            "--lease-seconds",
            f"{lease:g}",
            "--port-range",
            f"{ports[0]}-{ports[-1]}",
            seed=False,
        )
        self.api = self.server.api

    def kill(self) -> None:
        os.kill(self.server.proc.pid, signal.SIGKILL)
        self.server.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.server.proc.poll() is None:
            self.server.stop()


@contextmanager
def replica(store: str, name: str, ports: range, lease: float) -> Iterator[Replica]:
    server = Replica(store, name, ports, lease)
    try:
        yield server
    finally:
        server.stop()


def pop3_greeting(port: int, timeout: float = 2.0) -> bool:
    """Whether 127.0.0.1:port answers a new connection with a POP3 greeting."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            return sock.recv(512).startswith(b"+OK")
    except OSError:  # refused (nothing bound yet), reset or closed unanswered (lease not held), timed out
        return False


class Detector:
    """Polls a survivor for the two signs that it serves `tenant`; `poll()` until `done`."""

    def __init__(
        self, survivor: Replica, start: float, tenant: str = TENANT, foreign: frozenset[int] = frozenset()
    ) -> None:
        """`start`: when the owner was killed (`time.monotonic()`); `foreign`: ports of the survivor's range
        that greeted before (another program's), not probed."""
        self.survivor, self.tenant = survivor, tenant
        self.start = start
        self.probed = [port for port in survivor.ports if port not in foreign]
        self.pop3_s: float | None = None
        self.rest_s: float | None = None
        self.pop3_port: int | None = None
        self.view: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.pop3_s is not None and self.rest_s is not None

    def poll(self) -> None:
        if self.rest_s is None:
            view = self._view()
            if view is not None and view["replica"] == self.survivor.name and view["state"] == "running":
                self.rest_s, self.view = time.monotonic() - self.start, view
        if self.pop3_s is None:
            for port in self.probed:
                if pop3_greeting(port):
                    self.pop3_s, self.pop3_port = time.monotonic() - self.start, port
                    break

    def _view(self) -> dict[str, Any] | None:
        try:
            view: dict[str, Any] = self.survivor.api.call("GET", f"/tenants/{self.tenant}")
        except RuntimeError:  # 421 (another replica owns it) until the survivor claims it
            return None
        return view

    def wait(self, seconds: float) -> Sample:
        """Poll until both signs were seen, for at most `seconds`.

        Raises:
            TimeoutError: not within `seconds`.
        """
        deadline = self.start + seconds
        while not self.done:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.survivor.name} did not serve {self.tenant} within {seconds:g} s "
                    f"(POP3 after {self.pop3_s} s, REST after {self.rest_s} s)"
                )
            self.poll()
            time.sleep(POLL)
        assert self.pop3_s is not None and self.rest_s is not None and self.pop3_port is not None
        assert self.view is not None and self.view["pop3"]["port"] == self.pop3_port, (
            self.view,
            self.pop3_port,
        )
        return Sample(pop3_s=self.pop3_s, rest_s=self.rest_s, pop3_port=self.pop3_port)


def failover_samples(store: str, lease: float, samples: int, base_port: int) -> list[Sample]:
    """`samples` failovers between two replicas on `store` (an empty database) with `--lease-seconds lease`;
    their port ranges are base_port..+9 and base_port+10..+19."""
    ranges = {"a": range(base_port, base_port + 10), "b": range(base_port + 10, base_port + 20)}
    servers = {name: Replica(store, name, ports, lease) for name, ports in ranges.items()}
    try:
        owner = "a"
        view = servers[owner].api.call("POST", "/tenants", {"name": TENANT})
        assert view["replica"] == owner, view
        servers[owner].api.call("PUT", f"/tenants/{TENANT}/mailboxes/u", {"password": "p"})
        out = []
        for _ in range(samples):
            survivor = "b" if owner == "a" else "a"
            foreign = frozenset(port for port in ranges[survivor] if pop3_greeting(port))
            time.sleep(random.uniform(0, lease / 3))  # anywhere in the owner's renewal period
            killed = time.monotonic()
            servers[owner].kill()
            detector = Detector(servers[survivor], killed, foreign=foreign)
            out.append(detector.wait(3 * lease + 20))
            servers[owner] = Replica(store, owner, ranges[owner], lease)  # the next sample's survivor
            owner = survivor
        return out
    finally:
        for server in servers.values():
            server.stop()


def summary(samples: list[Sample]) -> dict[str, Any]:
    return {
        key: {
            "median": statistics.median(getattr(s, key) for s in samples),
            "max": max(getattr(s, key) for s in samples),
            "runs": [round(getattr(s, key), 2) for s in samples],
        }
        for key in ("pop3_s", "rest_s")
    }
