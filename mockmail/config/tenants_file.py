"""The `--config` TOML file: tenants, mailboxes and messages to create at start.

    [[tenants]]
    name = "acme"
    pop3_port = 1110

    [[tenants.mailboxes]]
    user = "alice"
    password = "secret"
    bearer_token = "ya29.test-token"   # optional: XOAUTH2/OAUTHBEARER logins with this token

    [[tenants.mailboxes.messages]]
    from = "billing@example.com"
    subject = "Invoice 42"
    text = "Please pay."

    [[tenants.mailboxes.messages]]
    file = "fixtures/welcome.eml"      # a raw RFC 5322 file, relative to the TOML file

The structs reuse `TenantSpec`, `MailboxSpec` and `MessageSpec`, so the file accepts exactly what the REST
API accepts, with the same validation messages; every message then goes through the same checks and size
limit as a REST upload (`mockmail.message.ingest`).  A `file` must lie inside the config file's folder (or the
`--config-root` the operator names), be a regular file, and fit the message size limit; it is read only up
to that limit.  Every refusal is a start-up error that names the config file and the entry.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from ..errors import DomainError
from ..message.compose import compose
from ..message.ingest import Incoming, prepare
from ..tenancy.specs import BearerToken, MessageSpec, Password, TenantSpec, UserName

__all__ = [
    "ConfigError",
    "ConfigFile",
    "MailboxConfig",
    "MessageConfig",
    "load_config",
    "mailbox_messages",
    "read_message_file",
]

_COMPOSE_DEFAULTS = msgspec.structs.asdict(MessageSpec())


class MessageConfig(MessageSpec, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A message to compose, or with `file`, a raw RFC 5322 file to store as it is."""

    file: Annotated[str, Meta(min_length=1)] | None = None

    def __post_init__(self) -> None:
        if self.file is not None:
            given = [
                "from" if name == "sender" else name
                for name, default in _COMPOSE_DEFAULTS.items()
                if name != "uid" and getattr(self, name) != default
            ]
            if given:
                raise ValueError(f"file is a raw message: it takes no {', '.join(given)}")


class MailboxConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    user: UserName
    password: Password
    bearer_token: BearerToken | None = None
    messages: list[MessageConfig] = []


class TenantConfig(TenantSpec, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mailboxes: list[MailboxConfig] = []


class ConfigFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    tenants: list[TenantConfig] = []


class ConfigError(Exception):
    """The config file cannot be used; the message says where and why."""


def load_config(path: str | Path) -> tuple[ConfigFile, Path]:
    """Read and validate the file; return it and the folder that relative `file` paths start from."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = msgspec.convert(data, ConfigFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    names = [t.name for t in config.tenants]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{path}: tenant names must be unique, repeated: {', '.join(duplicates)}")
    return config, path.parent


def read_message_file(root: Path, base: Path, name: str, limit: int) -> bytes:
    """The bytes of the raw message file `name` (relative to `base`), at most `limit` of them.

    Raises:
        ConfigError: the file lies outside `root`, is not a regular file, cannot be read, or is too large.
    """
    target = (base / name).resolve()
    if not target.is_relative_to(root):
        raise ConfigError(
            f"file {name!r} lies outside {root} (message files must be inside the config file's folder "
            "or --config-root)"
        )
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError(f"file {name!r}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"file {name!r} is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ConfigError(f"file {name!r} is over the message size limit of {limit} octets")
    return data


def mailbox_messages(mailbox: MailboxConfig, *, root: Path, base: Path, limit: int) -> list[Incoming]:
    """Every message of `mailbox`, read or composed and prepared exactly as a REST upload is, so that a
    bad entry stops the start before anything is created; `deliver` stores them later.

    Raises:
        ConfigError: naming the message entry (`messages[2]`) and what is wrong with it.
    """
    items: list[Incoming] = []
    for index, message in enumerate(mailbox.messages):
        where = f"messages[{index}]"
        try:
            if message.file is not None:
                item = Incoming(read_message_file(root, base, message.file, limit), message.uid, where)
            else:
                item = Incoming(compose(message, mailbox.user), message.uid, where, normalized=True)
            items.append(prepare(item, limit))
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        except DomainError as exc:
            raise ConfigError(f"{where}: {exc.detail}") from None
    return items
