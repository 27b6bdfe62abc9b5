"""The `--config` TOML file: tenants, mailboxes and messages to create at start.

    [[tenants]]
    name = "acme"
    pop3_port = 1110

    [[tenants.mailboxes]]
    user = "alice"
    password = "secret"

    [[tenants.mailboxes.messages]]
    from = "billing@example.com"
    subject = "Invoice 42"
    text = "Please pay."

    [[tenants.mailboxes.messages]]
    file = "fixtures/welcome.eml"      # a raw RFC 5322 file, relative to the TOML file

The structs reuse `TenantSpec`, `MailboxSpec` and `MessageSpec`, so the file accepts exactly what the REST
API accepts, with the same validation messages.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec

from .specs import MessageSpec, Password, TenantSpec, UserName

__all__ = ["ConfigError", "ConfigFile", "MailboxConfig", "MessageConfig", "load_config"]


class MessageConfig(MessageSpec, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A message to compose, or with `file`, a raw RFC 5322 file to store as it is."""

    file: str | None = None


class MailboxConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    user: UserName
    password: Password
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
