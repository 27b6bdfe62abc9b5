"""`mockmail tenant|mailbox|seed|faults|sessions`: the control API from a shell, through `mockmail.client`.

`mockmail serve` builds the same parser, so this module imports the client (and httpx) only when a
client command runs.

Every command takes `--url` (`MOCKMAIL_URL`, default http://127.0.0.1:8025), `--token` (`MOCKMAIL_TOKEN`)
and `--json`, which prints the API's own JSON instead of text.  Exit codes a script can rely on:

- 0: done;
- 1: the server refused (its problem document goes to stderr: status, title, detail and field);
- 2: the command line is wrong (argparse), or a file to seed cannot be read;
- 3: the server cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from mockmail.protocols import LISTENERS, PROTOCOLS

__all__ = ["EXIT_REFUSED", "EXIT_UNREACHABLE", "EXIT_USAGE", "add_commands", "run"]

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
DEFAULT_URL = "http://127.0.0.1:8025"

Handler = Callable[[Any, argparse.Namespace], Any]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help=f"the server's API [MOCKMAIL_URL, default {DEFAULT_URL}]")
    parser.add_argument("--token", default=None, help="bearer token: admin or the tenant's [MOCKMAIL_TOKEN]")
    parser.add_argument("--json", action="store_true", help="print the API's JSON instead of text")


def _command(
    group: Any, name: str, handler: Handler, text: str, *args: tuple[tuple[str, ...], dict[str, Any]]
) -> None:
    parser = group.add_parser(name, help=text, description=text)
    for flags, options in args:
        parser.add_argument(*flags, **options)
    _common(parser)
    parser.set_defaults(handler=handler)


def _arg(*flags: str, **options: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    return flags, options


TENANT = _arg("tenant", help="tenant name")
USER = _arg("user", help="mailbox user, e.g. alice or alice@example.com")


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def add_commands(commands: Any) -> None:
    """Add the client commands beside `serve` to the `mockmail` parser's subcommands."""
    tenant = commands.add_parser("tenant", help="create, list, show and delete tenants")
    tenants = tenant.add_subparsers(dest="action", required=True, metavar="{create,list,show,delete}")
    _command(
        tenants,
        "create",
        _tenant_create,
        "create a tenant; prints its ports and its token (shown this once)",
        TENANT,
        *_protocol_args(),
        _arg("--catch-all", default=None, metavar="USER", help="the mailbox for unknown recipients"),
        _arg("--spec", type=_json_object, default={}, metavar="JSON", help="more TenantSpec fields"),
    )
    _command(tenants, "list", lambda c, a: c.list_tenants(), "list tenants")
    _command(tenants, "show", lambda c, a: c.get_tenant(a.tenant), "show a tenant", TENANT)
    _command(tenants, "delete", lambda c, a: c.delete_tenant(a.tenant), "delete a tenant", TENANT)

    mailbox = commands.add_parser("mailbox", help="add, list and delete mailboxes")
    mailboxes = mailbox.add_subparsers(dest="action", required=True, metavar="{add,list,delete}")
    _command(
        mailboxes,
        "add",
        lambda c, a: c.put_mailbox(a.tenant, a.user, a.password, bearer_token=a.bearer_token),
        "create a mailbox, or set its password (and bearer token)",
        TENANT,
        USER,
        _arg("--password", required=True),
        _arg(
            "--bearer-token",
            default=None,
            metavar="TOKEN",
            help="OAuth bearer token for XOAUTH2/OAUTHBEARER logins (omitted: the mailbox has none)",
        ),
    )
    _command(mailboxes, "list", lambda c, a: c.list_mailboxes(a.tenant), "list a tenant's mailboxes", TENANT)
    _command(
        mailboxes,
        "delete",
        lambda c, a: c.delete_mailbox(a.tenant, a.user),
        "delete a mailbox and its mail",
        TENANT,
        USER,
    )

    _command(
        commands,
        "seed",
        _seed,
        "store messages from files: .eml (one message) or mbox (many)",
        TENANT,
        USER,
        _arg("files", nargs="+", type=Path, metavar="FILE"),
    )

    faults = commands.add_parser("faults", help="set, show and clear fault plans")
    plans = faults.add_subparsers(dest="action", required=True, metavar="{set,show,clear}")
    target = _arg("--user", default=None, help="the mailbox's own plan instead of the tenant's")
    _command(
        plans,
        "set",
        _faults_set,
        "replace the plan with a preset and/or knobs",
        TENANT,
        target,
        _arg("--profile", default=None, help="a preset, e.g. mailpit-legacy (see `faults show --profiles`)"),
        _arg(
            "--plan",
            type=_json_object,
            default={},
            metavar="JSON",
            help='knobs: \'{"quit": {"reply": "drop"}}\'',
        ),
    )
    _command(
        plans,
        "show",
        _faults_show,
        "show the plan (or, with --profiles, the presets)",
        TENANT,
        target,
        _arg("--profiles", action="store_true"),
    )
    _command(plans, "clear", _faults_clear, "back to compliant", TENANT, target)

    _command(
        commands,
        "sessions",
        _sessions,
        "list sessions of every protocol with their lines; --follow prints lines live",
        TENANT,
        _arg("--user", default=None),
        _arg("--limit", type=int, default=None),
        _arg(
            "--follow", "-f", action="store_true", help="print transcript lines as they happen (Ctrl-C ends)"
        ),
        _arg("--brief", action="store_true", help="a line per session, without its transcript"),
    )


def _protocol_args() -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """`--<listener>-port` for every listener of every protocol, and each protocol's own options."""
    found = [
        _arg(
            f"--{listener.name}-port",
            type=int,
            default=None,
            help=f"the {listener.name.upper()} port (default: one the system picks)",
        )
        for listener in LISTENERS
    ]
    for entry in PROTOCOLS:
        for option in entry.fields:
            flag = "--" + option.name.replace("_", "-")
            if option.type is bool:
                found.append(
                    _arg(flag, action="store_const", const=True, default=None, help=option.description)
                )
            else:
                found.append(
                    _arg(flag, choices=typing.get_args(option.type), default=None, help=option.description)
                )
    return found


_PROTOCOL_FIELDS = [f"{listener.name}_port" for listener in LISTENERS] + [
    option.name for entry in PROTOCOLS for option in entry.fields
]


def _tenant_create(client: Any, args: argparse.Namespace) -> Any:
    """The tenant as created (a `TenantCreated`, with its token); options given win over `--spec`."""
    given = {name: getattr(args, name) for name in _PROTOCOL_FIELDS}
    given["catch_all"] = args.catch_all
    fields = {**args.spec, **{name: value for name, value in given.items() if value is not None}}
    return client.create_tenant(args.tenant, **fields).view


def _seed(client: Any, args: argparse.Namespace) -> Any:
    from mockmail.client._calls import file_body

    bodies = []
    for path in args.files:  # every file read before any is stored
        try:
            bodies.append(file_body(path))
        except OSError as exc:
            raise _Usage(f"{path}: {exc.strerror or exc}") from None
    stored: list[Any] = []
    for body, content_type in bodies:
        created = client.add_messages(args.tenant, args.user, body, content_type)
        stored.extend(created if isinstance(created, list) else [created])
    return stored


def _plan(client: Any, args: argparse.Namespace, action: str, *rest: Any) -> Any:
    """`action` (get, put, delete) on the tenant's plan, or with --user on that mailbox's own."""
    if args.user is None:
        return getattr(client, f"{action}_tenant_faults")(args.tenant, *rest)
    return getattr(client, f"{action}_mailbox_faults")(args.tenant, args.user, *rest)


def _faults_set(client: Any, args: argparse.Namespace) -> Any:
    plan = dict(args.plan)
    if args.profile is not None:
        plan["profile"] = args.profile
    return _plan(client, args, "put", plan)


def _faults_show(client: Any, args: argparse.Namespace) -> Any:
    if args.profiles:
        return client.list_fault_profiles()
    return _plan(client, args, "get")


def _faults_clear(client: Any, args: argparse.Namespace) -> Any:
    return _plan(client, args, "delete")


def _sessions(client: Any, args: argparse.Namespace) -> Any:
    if args.follow:
        from ._render import Follow

        return Follow(client, args.tenant, args.user)
    found = client.list_sessions(args.tenant, user=args.user, limit=args.limit)
    if args.brief:
        return found
    return [client.get_session(args.tenant, summary.id) for summary in found]


class _Usage(Exception):
    """A command line that names something unusable (a missing file): exit 2."""


def run(args: argparse.Namespace, environ: dict[str, str] | None = None) -> int:
    """Run a parsed client command; returns the exit code."""
    import httpx

    from mockmail.client import ApiError, Client

    from . import _render

    environ = dict(os.environ if environ is None else environ)
    url = args.url or environ.get("MOCKMAIL_URL") or DEFAULT_URL
    token = args.token or environ.get("MOCKMAIL_TOKEN") or None
    try:
        with Client(url, token) as client:
            result = args.handler(client, args)
            if isinstance(result, _render.Follow):
                return result.run(sys.stdout, sys.stderr, as_json=args.json)
            _render.show(result, sys.stdout, as_json=args.json)
    except ApiError as exc:
        _render.problem(exc.problem, sys.stderr, as_json=args.json)
        return EXIT_REFUSED
    except _Usage as exc:
        print(f"mockmail: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except httpx.TransportError as exc:
        print(f"mockmail: cannot reach {url}: {exc or type(exc).__name__}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        return 0
    return 0
