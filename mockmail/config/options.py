"""The options of `mockmail serve` and how they become `Settings`.

Each setting is `--name-with-dashes` on the command line and `MOCKMAIL_NAME` in the environment; the
command line wins, then the environment, then the defaults of `Settings`.  An empty variable counts as
unset.  The client commands (`mockmail tenant list`, ...) share the parser (`mockmail.cli`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

import msgspec

from .. import __version__
from ..tenancy.specs import TenantLimits
from .settings import Settings

__all__ = ["FLAGS", "OPTIONS", "build_parser", "parse_settings", "settings_from"]

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


def build_parser() -> argparse.ArgumentParser:
    """`mockmail serve` and the client commands of `mockmail.cli`."""
    from .. import cli

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
