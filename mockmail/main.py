"""`mockmail serve`: the root nursery that runs the REST API and the tenant supervisor, and the entry point.

What it sets up first lives beside it: the options (`mockmail.config.options`), the store and a replica's
leases (`mockmail.serving.stores`), TLS material (`serving.tls`), the `--config` seed (`serving.seed`) and
the loopback check of an open API (`serving.exposure`).

Shutdown (SIGINT/SIGTERM, or `Running.stop`): the API stops accepting, every tenant is cancelled (listeners
close, sessions end, nothing is committed that a client did not QUIT for), then the process exits.  The
whole shutdown is bounded by `SHUTDOWN_GRACE` seconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import hypercorn.config
import hypercorn.trio
import trio

from . import __version__
from .config.options import build_parser, parse_settings, settings_from
from .config.settings import Settings
from .config.tenants_file import ConfigError, load_config
from .observe import logs
from .observe.resources import quiet_accept_retries
from .serving.exposure import check_exposure
from .serving.seed import prepare_seed, seed
from .serving.stores import open_catalog, open_replicas
from .serving.tls import make_tls
from .store import Catalog
from .tenancy.registry import Ownership, Registry
from .tenancy.service import Service

if TYPE_CHECKING:
    from .replicas.router import ReplicaRouter
    from .workers.worker import WorkerRole

# `serve`, `main` and `Running` are this module's; the others are re-exported from where they live now,
# for the tests that import them from here.
__all__ = [
    "SHUTDOWN_GRACE",
    "Running",
    "build_parser",
    "check_exposure",
    "main",
    "open_catalog",
    "parse_settings",
    "pin_mmap_threshold",
    "serve",
    "settings_from",
]

T = TypeVar("T")
log = logging.getLogger("mockmail")

SHUTDOWN_GRACE = 10.0


@dataclass(frozen=True)
class Running:
    """What `serve` reports once it accepts connections."""

    api_url: str
    registry: Registry
    stop: trio.Event


async def serve(
    settings: Settings,
    *,
    worker: WorkerRole | None = None,
    task_status: trio.TaskStatus[Running] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the API and the tenant supervisor until `Running.stop` is set (or the task is cancelled).

    `worker` makes it one worker of `--workers N` (`mockmail.workers.worker`): the API on its Unix socket.

    Raises:
        ConfigError: the `--config` file is unreadable or invalid (before anything is served).
        OSError: the API port or a configured tenant port cannot be bound.
    """
    from mockmail.api import create_app  # the API sits above the core; it is wired in only here

    check_exposure(settings)
    quiet_accept_retries()
    config_file = load_config(settings.config) if settings.config else None
    prepared = prepare_seed(*config_file, settings) if config_file is not None else None
    catalog = worker.catalog if worker is not None and worker.catalog is not None else open_catalog(settings)
    replicas = open_replicas(settings, catalog)
    ownership: Ownership | None = replicas
    registry = Registry(settings, make_tls(settings) if worker is None else worker.tls, catalog, ownership)
    service = Service(registry)
    stop = trio.Event()
    router: ReplicaRouter | None = None
    hyper = hypercorn.config.Config()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    hyper.bind = [f"{host}:{settings.api_port}"] if worker is None else [f"unix:{worker.socket}"]
    hyper.accesslog = None
    hyper.errorlog = logging.getLogger("hypercorn.error")
    hyper.graceful_timeout = 3.0
    try:
        async with _group_commit(catalog), trio.open_nursery() as root:
            await root.start(registry.run)
            if replicas is None:
                await registry.restore()
            else:  # the tenants free to claim, and those an earlier process of this replica id held
                await root.start(replicas.run, registry)
            if prepared is not None:
                await seed(service, prepared, settings)
            app = create_app(service)
            asgi = app if worker is None else worker.wrap(app, service)
            if replicas is not None:  # every replica answers for every tenant (replicas/router.py)
                from .replicas.router import ReplicaRouter

                router = ReplicaRouter(asgi, registry, replicas)
                await root.start(router.run)
                asgi = router
            binds = await root.start(partial(hypercorn.trio.serve, asgi, hyper, shutdown_trigger=stop.wait))
            api_url = binds[0]
            if replicas is not None and settings.advertise_url is None and not settings.api_port:
                await replicas.advertise(api_url)
            log.info("mockmail %s: REST API on %s/api/v1", __version__, api_url)  # tenants logged on creation
            # Everything made so far (modules, the app, restored tenants) lives as long as the process:
            # out of the collector's way, so that no collection pass walks it again (bench/instructions.py).
            gc.collect()
            gc.freeze()
            task_status.started(Running(api_url, registry, stop))
            await stop.wait()
            log.info("mockmail: shutting down")
            root.cancel_scope.deadline = trio.current_time() + SHUTDOWN_GRACE
            registry.shutdown()
            if replicas is not None:
                replicas.shutdown()
            if router is not None:
                router.shutdown()
    finally:
        if replicas is not None:
            replicas.close()  # every tenant has stopped: its lease is given back for others to claim
        catalog.close()


@contextlib.asynccontextmanager
async def _group_commit(catalog: Catalog) -> AsyncIterator[None]:
    """Run the catalog's group commit beside everything inside the block, and stop it once they are all
    done (it commits what is left then)."""
    async with trio.open_nursery() as committing:
        await committing.start(catalog.commit_units)
        try:
            yield
        finally:
            committing.cancel_scope.cancel()


async def _run_until_signalled(settings: Settings) -> None:
    from .workers.supervisor import supervise

    async with trio.open_nursery() as nursery:
        if settings.workers == 1:
            stop = (await nursery.start(serve, settings)).stop
        else:
            stop = (await nursery.start(supervise, settings)).stop
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                log.info("mockmail: received %s", signal.Signals(signum).name)
                stop.set()
                break


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
MMAP_THRESHOLD = 128 * 1024


def pin_mmap_threshold() -> bool:
    """Keep glibc returning large freed blocks (uploaded messages and their copies) to the system.

    glibc raises its mmap threshold each time it frees a large mapped block, after which blocks up to that
    size come from the heap and stay there once freed: seeding an 11 MiB mailbox left 30 MB of such
    residue in the process (measured in bench/).  Pinning the threshold at its default keeps large
    temporaries mapped.  Returns False where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point: `mockmail serve [options]`, or a client command (`mockmail tenant list`)."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command != "serve":
        from . import cli

        return cli.run(args)
    settings = settings_from(parser, args)
    pin_mmap_threshold()
    logs.configure(settings.log_level, settings.log_format)
    return run_until_done(_run_until_signalled, settings, who="")


def run_until_done(run: Callable[[T], Awaitable[None]], arg: T, *, who: str) -> int:
    """`trio.run(run, arg)` as a process's exit status: 0 when it ends; when it cannot start, each reason
    logged (`who` names the process) and 2 for a configuration error, 1 for an OS error (a port taken)."""
    try:
        trio.run(run, arg)
    except (ConfigError, OSError, BaseExceptionGroup) as exc:
        leaves = list(_leaves(exc))
        if not all(isinstance(leaf, (ConfigError, OSError)) for leaf in leaves):
            raise
        for leaf in leaves:
            log.error("%scannot start: %s", who, leaf)
        return 2 if any(isinstance(leaf, ConfigError) for leaf in leaves) else 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
