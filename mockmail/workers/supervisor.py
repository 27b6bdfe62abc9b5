"""The supervisor of `mockmail serve --workers N`: starts the workers, restarts them, stops them.

Theory of operation (docs/scaling.md, "Many workers on one machine"):
- `supervise` makes a private run folder (0700) for the workers' Unix sockets, the shared TLS certificate
  and, without `--data-dir`, their tenant journals; it is deleted when the supervisor stops.
- Each worker is `python -m mockmail.workers.worker` (`worker.py`), in a session of its own, told its
  `WorkerConfig` on stdin.  Its stdin stays open: the worker stops when it reaches EOF, which is how workers
  die with a supervisor that is killed.  It prints `ready` once its API and tenants are up; the supervisor
  then asks it which tenants it holds (`Placement.load`) and marks it `up`.
- A worker that exits while the supervisor runs is started again at once (after a failed start, with a
  growing pause of up to `MAX_BACKOFF` seconds), with the same data dir or journal, so its tenants come back
  on their ports.  Its `restarts` counts each time.  Tenant calls meanwhile get a 503 (`gateway.py`).
- A worker that cannot start the first time makes `supervise` fail as `mockmail serve` would: exit 2 for a
  configuration error, 1 otherwise.
- Stopping: the API stops accepting, every worker gets SIGTERM (it stops as `mockmail serve` does), and one
  still running after `STOP_GRACE` seconds gets SIGKILL.  The whole stop stays within `SHUTDOWN_GRACE`.
- With `--data-dir D`, worker K keeps its SQLite store in `D/worker-K/`.  `--store` (PostgreSQL) is
  refused: every worker would restore every tenant of the one database.  `--config` seeds worker 0.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import httpx
import hypercorn.config
import hypercorn.trio
import msgspec
import trio

from .. import __version__
from ..config.settings import Settings
from ..config.tenants_file import ConfigError
from ..serving.exposure import check_exposure
from .placement import Placement
from .worker import WorkerConfig

__all__ = ["Supervising", "WorkerPool", "WorkerProcess", "supervise"]

log = logging.getLogger("mockmail.workers")

STOP_GRACE = 7.0
"""Seconds a worker has to stop after SIGTERM before it is killed."""
MAX_BACKOFF = 5.0
READY_LINE = b"ready\n"
WORKER_TIMEOUT = httpx.Timeout(10.0, read=None, write=None, pool=None)
"""No read limit: long-polls and live transcript streams pass through."""


class WorkerStartFailed(Exception):
    def __init__(self, worker: int, returncode: int) -> None:
        super().__init__(f"worker {worker} could not start (exit status {returncode}); its log is above")
        self.returncode = returncode


@dataclass
class WorkerProcess:
    """One worker as the supervisor sees it."""

    id: int
    socket: str
    state: Literal["up", "restarting"] = "restarting"
    pid: int = 0
    restarts: int = 0
    client: httpx.AsyncClient | None = None
    """Reaches its API over its Unix socket while it is up."""
    process: trio.Process | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return "http://worker"


@dataclass(frozen=True)
class SharedTls:
    """The certificate every worker serves (`--tls auto`: made once, so that one CA covers them all)."""

    cert_file: str
    ca_pem: str


class WorkerPool:
    """The workers, their placement, and the tasks that keep them running."""

    def __init__(self, settings: Settings, run_dir: Path, tls: SharedTls | None) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.tls = tls
        self.workers = [WorkerProcess(k, str(run_dir / f"worker-{k}.sock")) for k in range(settings.workers)]
        self.placement = Placement(settings.workers)
        self.stopping = False

    def up(self) -> list[int]:
        return [worker.id for worker in self.workers if worker.state == "up" and worker.client is not None]

    def config(self, worker: int) -> WorkerConfig:
        settings = self.settings
        data_dir = str(Path(settings.data_dir) / f"worker-{worker}") if settings.data_dir else None
        own = msgspec.structs.replace(
            settings,
            workers=1,
            worker_id=worker,
            data_dir=data_dir,
            config=settings.config if worker == 0 else None,
        )
        return WorkerConfig(
            settings=own,
            socket=self.workers[worker].socket,
            journal=None if data_dir else str(self.run_dir / f"worker-{worker}.json"),
            tls_cert=self.tls.cert_file if self.tls else None,
            tls_ca_pem=self.tls.ca_pem if self.tls else None,
            parent=_own_pid(),
        )

    async def run(self, worker: WorkerProcess, *, task_status: trio.TaskStatus[None]) -> None:
        """Keep `worker` running until the pool stops; `started` once its first start is up.

        Raises:
            WorkerStartFailed: the first start failed.
        """
        first, failures = True, 0
        while not self.stopping:
            began = trio.current_time()
            try:
                returncode = await self._run_once(worker, task_status if first else trio.TASK_STATUS_IGNORED)
            except (WorkerStartFailed, OSError) as exc:  # OSError: no process could be made (EMFILE, ...)
                if first or self.stopping:
                    raise
                log.error("worker %d: %s", worker.id, exc)
                returncode = None
            if self.stopping:
                return
            first = False
            worker.restarts += 1
            failures = failures + 1 if trio.current_time() - began < 1.0 else 0
            log.error("worker %d: exited (status %s); starting it again", worker.id, returncode)
            if failures > 1:
                await trio.sleep(min(MAX_BACKOFF, 0.5 * failures))

    async def _run_once(self, worker: WorkerProcess, task_status: trio.TaskStatus[None]) -> int:
        line = msgspec.json.encode(self.config(worker.id)) + b"\n"
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "mockmail.workers.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # a terminal's Ctrl-C is the supervisor's to handle
        )
        worker.process = process
        assert process.stdin is not None and process.stdout is not None
        try:
            try:
                await process.stdin.send_all(line)  # kept open: its EOF tells the worker we are gone
                ready = await _read_ready(process.stdout)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                ready = False
            if not ready:
                raise WorkerStartFailed(worker.id, await process.wait())
            worker.client = httpx.AsyncClient(
                transport=httpx.AsyncHTTPTransport(uds=worker.socket),
                timeout=WORKER_TIMEOUT,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
            )
            try:
                names = await self._tenant_names(worker.client)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                log.error("worker %d: cannot list its tenants: %s", worker.id, exc)
                process.kill()
                raise WorkerStartFailed(worker.id, await process.wait()) from None
            self.placement.load(worker.id, names)
            worker.pid, worker.state = process.pid, "up"
            log.info("worker %d: up (pid %d)", worker.id, process.pid)
            task_status.started()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_drain, process.stdout)
                returncode = await process.wait()
                nursery.cancel_scope.cancel()
            return returncode
        finally:
            worker.state, worker.pid = "restarting", 0
            client, worker.client = worker.client, None
            with trio.CancelScope(shield=True):
                if client is not None:
                    await client.aclose()
                if process.returncode is None:
                    process.kill()
                    await process.wait()
                await process.stdin.aclose()
                await process.stdout.aclose()

    async def _tenant_names(self, client: httpx.AsyncClient) -> list[str]:
        token = self.settings.admin_token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = await client.get("http://worker/api/v1/tenants", headers=headers)
        answer.raise_for_status()
        return [str(view["name"]) for view in answer.json()]

    def stop(self) -> None:
        """SIGTERM to every worker; `run` returns as each exits (`supervise` kills the late ones)."""
        self.stopping = True
        for worker in self.workers:
            if worker.process is not None and worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)


def _own_pid() -> int:
    import os

    return os.getpid()


async def _read_ready(stream: trio.abc.ReceiveStream) -> bool:
    """Whether the worker says `ready` before its stdout ends."""
    seen = b""
    while READY_LINE not in seen:
        chunk = await stream.receive_some(4096)
        if not chunk:
            return False
        seen = (seen + chunk)[-4096:]
    return True


async def _drain(stream: trio.abc.ReceiveStream) -> None:
    """Read what else a worker prints, so that a full pipe never blocks it."""
    while await stream.receive_some(65536):
        pass


def shared_tls(settings: Settings, run_dir: Path) -> SharedTls | None:
    """With `--tls auto`, one self-signed certificate for every worker (an operator's certificate is
    loaded by each worker from `--tls-cert`)."""
    if settings.tls != "auto" or settings.tls_cert:
        return None
    import trustme

    ca = trustme.CA(organization_name="mockmail")
    names = ["localhost", "127.0.0.1", "::1", settings.advertised_host]
    cert = ca.issue_cert(*dict.fromkeys(names))
    path = run_dir / "tls.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(path))
    return SharedTls(str(path), ca.cert_pem.bytes().decode("ascii"))


@dataclass(frozen=True)
class Supervising:
    """What `supervise` reports once its API accepts connections."""

    api_url: str
    pool: WorkerPool
    stop: trio.Event


async def supervise(
    settings: Settings, *, task_status: trio.TaskStatus[Supervising] = trio.TASK_STATUS_IGNORED
) -> None:
    """Run the workers and the public API until `Supervising.stop` is set (see the module's rules).

    Raises:
        ConfigError: `--store` was given, or a worker's configuration is refused at its first start.
        OSError: the API port cannot be bound, or a worker failed to start for another reason.
    """
    from mockmail.api import hypercorn_errors
    from mockmail.api.keepalive import KeepAliveGuard

    from ..main import SHUTDOWN_GRACE
    from .gateway import Gateway

    check_exposure(settings)
    if settings.store is not None:
        raise ConfigError("--store cannot be used with --workers: give --data-dir (one file per worker)")
    run_dir = Path(tempfile.mkdtemp(prefix="mockmail-"))
    pool = WorkerPool(settings, run_dir, shared_tls(settings, run_dir))
    stop = trio.Event()
    hyper = hypercorn.config.Config()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    hyper.bind = [f"{host}:{settings.api_port}"]
    hyper.accesslog = None
    hyper.errorlog = logging.getLogger("hypercorn.error")
    hyper.graceful_timeout = 3.0
    hypercorn_errors.install()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per forwarded request otherwise
    try:
        async with trio.open_nursery() as root:
            try:
                async with trio.open_nursery() as starting:  # all at once: each takes a second or two
                    for worker in pool.workers:
                        starting.start_soon(root.start, partial(pool.run, worker))
            except* WorkerStartFailed as group:
                pool.stop()
                failed = [exc for exc in group.exceptions if isinstance(exc, WorkerStartFailed)]
                failure = ConfigError if any(exc.returncode == 2 for exc in failed) else OSError
                raise failure("; ".join(str(exc) for exc in failed)) from None
            app: Any = KeepAliveGuard(Gateway(settings, pool), drain_limit=settings.max_request_size)
            binds = await root.start(partial(hypercorn.trio.serve, app, hyper, shutdown_trigger=stop.wait))
            log.info(
                "mockmail %s: REST API on %s/api/v1, %d workers", __version__, binds[0], settings.workers
            )
            task_status.started(Supervising(binds[0], pool, stop))
            await stop.wait()
            log.info("mockmail: shutting down")
            # The workers' tasks end as the workers exit; one still running at the deadline is killed
            # as its task is cancelled.
            root.cancel_scope.deadline = trio.current_time() + min(STOP_GRACE, SHUTDOWN_GRACE - 1.0)
            pool.stop()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
