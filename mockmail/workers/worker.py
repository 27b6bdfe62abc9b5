"""One worker process of `mockmail serve --workers N`: today's server, its API on a Unix socket only.

The supervisor starts it as `python -m mockmail.workers.worker` and writes one JSON line to its stdin: a
`WorkerConfig` (the server's settings with this worker's `worker_id` and `data_dir`, the socket path, the
shared TLS certificate).  There are no command-line options: nothing of this is for people to type.

Rules it keeps:
- The worker serves `main.serve` unchanged but for where the API listens and, without a data dir, the
  `JournalCatalog` that lets a restart bring its tenants back on their ports.
- Its API answers on `WorkerConfig.socket` only, in the supervisor's private (0700) run folder; the
  supervisor checks tokens as well, so the worker's own checks (it holds the same keys) are a second line.
- One route is added for the supervisor, `POST /internal/v1/principal`: who the bearer token of the
  request is here (`{"tenant": NAME}` or `{"tenant": null}` for the admin), or 404 when it is none of
  this worker's tokens.  It is not on the public API: the supervisor answers `/internal/...` with 404.
- It dies with the supervisor: it stops when its stdin reaches EOF (the supervisor's end of the pipe is
  closed when that process ends, however it ends, SIGKILL included).  Not `PR_SET_PDEATHSIG`: that fires
  when the parent *thread* ends, and trio starts processes from its thread cache, whose idle threads
  exit after a few seconds.
- SIGTERM stops it gracefully (as `mockmail serve`); SIGINT is the supervisor's to handle (the worker
  runs in a session of its own, so a terminal's Ctrl-C does not reach it).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import msgspec
import trio

from ..config.settings import Settings
from ..observe import logs
from ..routing.asgi import header
from ..server.tls import TlsMaterial, load_certificate
from ..serving.tls import make_tls
from ..store import Catalog
from ..tenancy.service import Service
from .journal import JournalCatalog

__all__ = ["PRINCIPAL_PATH", "WorkerConfig", "WorkerRole", "main"]

log = logging.getLogger("mockmail.workers")

PRINCIPAL_PATH = "/internal/v1/principal"
INTERNAL_PREFIX = "/internal/"

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Message, Receive, Send], Awaitable[None]]


class WorkerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the supervisor tells a worker on its stdin."""

    settings: Settings
    socket: str
    """Path of the Unix socket its API listens on."""
    journal: str | None = None
    """The `JournalCatalog` file, when the server keeps no data dir."""
    tls_cert: str | None = None
    """PEM file with the key and chain of the certificate every worker serves (made by the supervisor)."""
    tls_ca_pem: str | None = None
    """The CA that signed `tls_cert`, handed out by `/api/v1/tls/ca.pem`."""
    parent: int = 0
    """The supervisor's pid: a worker whose parent is already another one (it died) stops at once."""


@dataclass(frozen=True)
class WorkerRole:
    """What `main.serve` does differently in a worker."""

    socket: str
    tls: TlsMaterial | None
    catalog: Catalog | None
    """None: the catalog of the settings (`--data-dir`)."""

    def wrap(self, app: Any, service: Service) -> Any:
        """The worker's ASGI app: the API, plus the supervisor's internal route."""
        keys = service.keys

        async def asgi(scope: Message, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not scope["path"].startswith(INTERNAL_PREFIX):
                await app(scope, receive, send)
                return
            token = _bearer(scope)
            who = keys.principal(token) if token is not None and scope["path"] == PRINCIPAL_PATH else None
            status, body = (200, msgspec.json.encode({"tenant": who.tenant})) if who else (404, b"{}")
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})

        return asgi


def _bearer(scope: Message) -> str | None:
    """The request's bearer token (`api/bearer.py`'s reading of the header), or None without a usable one."""
    from mockmail.api.bearer import Unauthorized, bearer_token

    try:
        return bearer_token(header(scope, b"authorization"))
    except Unauthorized:
        return None


def role_of(config: WorkerConfig) -> WorkerRole:
    if config.tls_cert is not None:  # the supervisor's self-signed certificate, shared by all
        loaded = load_certificate(config.tls_cert, None)
        ca = config.tls_ca_pem.encode() if config.tls_ca_pem is not None else None
        tls: TlsMaterial | None = TlsMaterial(loaded.context, ca)
    else:
        tls = make_tls(config.settings)  # an operator's certificate, or none
    catalog = JournalCatalog(config.journal) if config.journal is not None else None
    return WorkerRole(config.socket, tls, catalog)


async def _until_stdin_closes(stop: trio.Event) -> None:
    stream = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    async with stream:
        while await stream.receive_some(4096):
            pass
    log.info("worker: the supervisor is gone; stopping")
    stop.set()


async def _until_sigterm(stop: trio.Event) -> None:
    with trio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            stop.set()
            return


async def run(config: WorkerConfig) -> None:
    """Serve until SIGTERM or the supervisor's end (see the module's rules)."""
    from ..main import Running, serve

    async with trio.open_nursery() as nursery:
        running: Running = await nursery.start(partial(serve, config.settings, worker=role_of(config)))
        sys.stdout.write("ready\n")  # what the supervisor waits for
        sys.stdout.flush()
        async with trio.open_nursery() as watchers:
            watchers.start_soon(_until_stdin_closes, running.stop)
            watchers.start_soon(_until_sigterm, running.stop)
            await running.stop.wait()
            watchers.cancel_scope.cancel()


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = msgspec.json.decode(sys.stdin.buffer.readline(), type=WorkerConfig)
    if config.parent and os.getppid() != config.parent:
        return 1  # the supervisor is gone already
    from ..main import pin_mmap_threshold, run_until_done

    pin_mmap_threshold()
    logs.configure(config.settings.log_level, config.settings.log_format)
    return run_until_done(run, config, who=f"worker {config.settings.worker_id:d}: ")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
