"""`mockmail serve`: the root nursery that runs the REST API and the tenant supervisor.

Shutdown (SIGINT/SIGTERM, or `Running.stop`): the API stops accepting, every tenant is cancelled (listeners
close, sessions end, nothing is committed that a client did not QUIT for), then the process exits.  The
whole shutdown is bounded by `SHUTDOWN_GRACE` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import gc
import ipaddress
import logging
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import hypercorn.config
import hypercorn.trio
import msgspec
import trio

from . import __version__
from .config.settings import Settings
from .config.tenants_file import ConfigError, ConfigFile, load_config, mailbox_messages
from .errors import DomainError, TenantExists
from .message.ingest import Incoming
from .observe import logs
from .observe.resources import quiet_accept_retries
from .server.tls import TlsMaterial, load_certificate, self_signed
from .store import Catalog, Database, MemoryCatalog, SqlCatalog
from .tenancy.registry import Ownership, Registry
from .tenancy.service import Service
from .tenancy.specs import TenantLimits, TenantSpec

if TYPE_CHECKING:
    from .replicas.claimer import Claimer
    from .replicas.router import ReplicaRouter
    from .workers.worker import WorkerRole

__all__ = ["Running", "build_parser", "main", "parse_settings", "serve"]

log = logging.getLogger("mockmail")

SHUTDOWN_GRACE = 10.0

# (setting, help); each is `--name-with-dashes` on the command line and MOCKMAIL_NAME in the environment.
OPTIONS: tuple[tuple[str, str], ...] = (
    ("host", "address the API and every protocol listener bind to (default 127.0.0.1)"),
    ("api_port", "REST API port (default 8025; 0 picks a free one)"),
    ("public_host", "host name to report in tenant addresses (default: --host)"),
    ("config", "TOML file declaring tenants, mailboxes and messages to create at start"),
    ("config_root", "folder that message files named in --config may lie in (default: the config file's)"),
    (
        "tls",
        "'auto' makes a self-signed certificate for every protocol's TLS: its implicit-TLS port and its "
        "upgrade command (POP3S and STLS, SMTPS and STARTTLS, ...); 'off' (default) disables TLS",
    ),
    ("tls_cert", "PEM certificate (chain) for every protocol's TLS listener and upgrade; enables TLS"),
    ("tls_key", "PEM private key for --tls-cert (if not inside the certificate file)"),
    (
        "idle_timeout",
        "seconds a session of any protocol may stay idle after its last command (default 600, RFC 1939)",
    ),
    (
        "line_timeout",
        "seconds a client may take to finish a line it began (default 60, at most the idle timeout)",
    ),
    ("handshake_timeout", "TLS handshake limit in seconds (default 10)"),
    (
        "max_command_line",
        "longest POP3 command line in octets, CRLF included (default 255, RFC 2449); SMTP's is 512",
    ),
    ("max_sessions", "concurrent sessions per tenant, every protocol together (default 10000)"),
    ("transcript_limit", "finished session transcripts kept per tenant (default 1000)"),
    ("max_message_size", "largest message the API or any protocol stores, in octets (default 32 MiB)"),
    ("max_request_size", "largest REST request body, in octets (default 64 MiB)"),
    ("log_level", "debug, info (default), warning or error"),
    ("max_tenants", "tenants the server holds at most (default: as many as file descriptors allow)"),
    (
        "port_range",
        "LOW-HIGH: the ports the system picks for tenants come from this range (with --store: disjoint "
        "per replica; a tenant claimed from another replica moves into it)",
    ),
    ("log_format", "text (default) or json: one object per line, and a line per session and API request"),
    (
        "admin_token",
        "bearer token that manages everything; every API call but health/ready/openapi/CA then needs one",
    ),
    (
        "data_dir",
        "folder that keeps tenants, mailboxes, messages and fault plans across restarts (SQLite)",
    ),
    (
        "store",
        "postgresql://USER@HOST/DB URL: keep what --data-dir keeps in PostgreSQL instead (mockmail[postgresql])",
    ),
    ("replica_id", "with --store: this replica's name among those on the database (default HOST-PID)"),
    (
        "lease_seconds",
        "with --store: seconds a replica holds a tenant unless it renews (default 10); a replica that "
        "dies loses its tenants to the others within that time",
    ),
    (
        "advertise_url",
        "with --store: http://HOST:PORT where the other replicas reach this one's REST API "
        "(default: --host and --api-port)",
    ),
    (
        "auth_failure_delay",
        "seconds a failed login of any protocol waits before its reply, that connection only (default 0.5)",
    ),
    ("workers", "processes that own the tenants behind one API (default 1: a single process; docs/scaling.md)"),
)
OPTIONS += tuple(
    (f"tenant_limit_{name}", f"default limits.{name} of a tenant that sets none (default: no limit)")
    for name in TenantLimits.__struct_fields__
)
FLAGS: tuple[tuple[str, str], ...] = (
    ("insecure", "serve an API without --admin-token on an address other than loopback"),
    ("metrics_public", "serve GET /metrics without the admin token"),
    ("no_metrics_tenant_labels", "sum metrics over tenants instead of one series per tenant"),
    ("fsync", "sync the --data-dir store at every commit: survives a power loss, costs throughput"),
)
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class Running:
    """What `serve` reports once it accepts connections."""

    api_url: str
    registry: Registry
    stop: trio.Event


def build_parser() -> argparse.ArgumentParser:
    """`mockmail serve` and the client commands of `mockmail.cli`."""
    from . import cli

    parser = argparse.ArgumentParser(
        prog="mockmail", description="Multi-tenant mock POP3, IMAP and SMTP server with a REST control API."
    )
    parser.add_argument("--version", action="version", version=f"mockmail {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the REST API and the tenants' mail listeners")
    for name, text in OPTIONS:
        serve_cmd.add_argument(
            "--" + name.replace("_", "-"), dest=name, help=f"{text} [MOCKMAIL_{name.upper()}]"
        )
    for name, text in FLAGS:
        serve_cmd.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            action="store_true",
            help=f"{text} [MOCKMAIL_{name.upper()}=1]",
        )
    cli.add_commands(commands)
    return parser


def parse_settings(argv: Sequence[str], environ: dict[str, str] | None = None) -> Settings:
    """Settings from the command line, then `MOCKMAIL_*` variables, then the embedded defaults."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.command != "serve":
        parser.error(f"{args.command} is not serve")
    return settings_from(parser, args, environ)


def settings_from(
    parser: argparse.ArgumentParser, args: argparse.Namespace, environ: dict[str, str] | None = None
) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, str | bool] = {}
    for name, _ in OPTIONS:
        given = getattr(args, name)
        if given is None:
            # An empty variable is an unset one: `MOCKMAIL_DATA_DIR: ""` in a compose file turns off what
            # an image's ENV set (deploy/replicas/compose.yaml does so to use --store instead).
            given = environ.get(f"MOCKMAIL_{name.upper()}") or None
        if given is not None:
            values[name] = given
    for name, _ in FLAGS:
        values[name] = bool(getattr(args, name)) or (
            environ.get(f"MOCKMAIL_{name.upper()}", "").strip().lower() in _TRUE
        )
    try:
        return msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as exc:
        parser.error(str(exc).replace("$.", "--").replace("_", "-"))
        raise  # pragma: no cover - parser.error exits


def is_loopback(host: str) -> bool:
    """Whether `host` is 127.0.0.0/8, ::1 or `localhost` (a wildcard or any other name is not)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse an open API (no admin token) beyond loopback, unless `--insecure` says so.

    Raises:
        ConfigError: naming both ways out.
    """
    if settings.admin_token is None and not settings.insecure and not is_loopback(settings.host):
        raise ConfigError(
            f"refusing to serve the API on {settings.host!r} without a token: anyone who can reach it "
            "could read and change every tenant.  Give --admin-token TOKEN (or MOCKMAIL_ADMIN_TOKEN), "
            "or --insecure to serve it open anyway."
        )


def open_catalog(settings: Settings) -> Catalog:
    """The PostgreSQL catalog of `--store`, the SQLite catalog in `--data-dir`, or one that keeps nothing.

    Raises:
        ConfigError: the data dir or database cannot be made or opened, or holds a store of another schema;
            both were given.
    """
    if settings.store is not None:
        return _open_postgresql(settings)
    if settings.data_dir is None:
        return MemoryCatalog()
    try:
        db = Database(settings.data_dir, fsync=settings.fsync)
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        raise ConfigError(f"--data-dir {settings.data_dir}: cannot open the store: {exc}") from None
    log.info("mockmail: store in %s%s", db.path, " (fsync at every commit)" if settings.fsync else "")
    return SqlCatalog(db)


def _open_postgresql(settings: Settings) -> Catalog:
    """The PostgreSQL catalog of `--store` (psycopg is imported only then: it is an optional extra)."""
    if settings.data_dir is not None:
        raise ConfigError("--store and --data-dir both name a store: give one")
    assert settings.store is not None
    try:
        import psycopg

        from .store.pg_database import PgDatabase
    except ImportError as exc:
        raise ConfigError(f"--store needs psycopg: pip install 'mockmail[postgresql]' ({exc})") from None
    try:
        db = PgDatabase(settings.store)
    except (psycopg.Error, RuntimeError) as exc:
        raise ConfigError(
            f"--store {_store_name(settings.store)}: cannot open the PostgreSQL store: {exc}"
        ) from None
    log.info("mockmail: store in PostgreSQL database %r", db.dbname)
    return SqlCatalog(db)


def _store_name(url: str) -> str:
    """The `--store` URL as an error may show it: its database, user and host, never a password."""
    import psycopg.conninfo

    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "(an unreadable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    where = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{where}{port}/{parts.get('dbname') or ''}"


def open_replicas(settings: Settings, catalog: Catalog) -> Claimer | None:
    """The lease keeper of a replica on the PostgreSQL store of `--store`; None for any other store."""
    if settings.store is None:
        return None
    from .replicas.claimer import Claimer
    from .replicas.leases import LeaseTable
    from .store.pg_database import PgDatabase

    assert isinstance(catalog, SqlCatalog) and isinstance(catalog.db, PgDatabase)
    replica = settings.replica_id or f"{socket.gethostname()}-{os.getpid():d}"
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return Claimer(
        catalog.db,
        LeaseTable(settings.store, replica, settings.lease_seconds),
        advertise_url=settings.advertise_url or f"http://{host}:{settings.api_port:d}",
        public_host=settings.advertised_host,
    )


def make_tls(settings: Settings) -> TlsMaterial | None:
    if settings.tls_cert:
        return load_certificate(settings.tls_cert, settings.tls_key)
    if settings.tls == "auto":
        names = ["localhost", "127.0.0.1", "::1", settings.advertised_host]
        return self_signed(names)
    return None


@dataclass(frozen=True)
class SeedMailbox:
    """A mailbox of the config file, its messages read and checked (`where` names it in errors)."""

    where: str
    user: str
    password: str
    messages: list[Incoming]
    bearer_token: str | None = None


@dataclass(frozen=True)
class SeedTenant:
    spec: TenantSpec
    mailboxes: list[SeedMailbox]


def prepare_seed(config: ConfigFile, base: Path, settings: Settings) -> list[SeedTenant]:
    """Read and check every message the config file declares, before anything is created or bound.

    Raises:
        ConfigError: naming the config file and the entry (`tenants[0].mailboxes[1].messages[2]: ...`).
    """
    path = settings.config or "config"
    root = Path(settings.config_root).resolve() if settings.config_root else base.resolve()
    tenants = []
    for t, tenant_config in enumerate(config.tenants):
        mailboxes = []
        for m, box in enumerate(tenant_config.mailboxes):
            where = f"{path}: tenants[{t}].mailboxes[{m}]"
            try:
                items = mailbox_messages(box, root=root, base=base, limit=settings.max_message_size)
            except ConfigError as exc:
                raise ConfigError(f"{where}.{exc}") from None
            mailboxes.append(SeedMailbox(where, box.user, box.password, items, box.bearer_token))
        spec = TenantSpec(**{name: getattr(tenant_config, name) for name in TenantSpec.__struct_fields__})
        tenants.append(SeedTenant(spec, mailboxes))
    return tenants


async def seed(service: Service, tenants: list[SeedTenant], settings: Settings) -> None:
    """Create what `prepare_seed` checked: tenants, mailboxes, messages.

    A tenant the data dir brought back is left as it is: the config seeded it at an earlier start, and
    what clients did to it since (mail sent, mail fetched) is what a restart must keep.
    """
    for seeded in tenants:
        name = seeded.spec.name
        if name in service.tenant_names():
            log.info("tenant %s: kept in --data-dir, not seeded again from --config", name)
            continue
        try:
            await service.create_tenant(seeded.spec)
        except TenantExists:  # kept in --store, and served by another replica
            log.info("tenant %s: kept in --store, not seeded again from --config", name)
            continue
        for box in seeded.mailboxes:
            try:
                service.put_mailbox(name, box.user, box.password, box.bearer_token)
                service.deliver(name, box.user, box.messages, via="config")
            except DomainError as exc:  # the tenant's limits, or the UID rules (a UID given twice)
                raise ConfigError(f"{box.where}: {exc.detail}") from None


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
    try:
        trio.run(_run_until_signalled, settings)
    except (ConfigError, OSError, BaseExceptionGroup) as exc:
        leaves = list(_leaves(exc))
        if not all(isinstance(leaf, (ConfigError, OSError)) for leaf in leaves):
            raise
        for leaf in leaves:
            log.error("cannot start: %s", leaf)
        return 2 if any(isinstance(leaf, ConfigError) for leaf in leaves) else 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
