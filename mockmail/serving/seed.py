"""Seeding from `--config`: the tenants, mailboxes and messages a TOML file declares.

Two steps, so that a bad file serves nothing: `prepare_seed` reads and checks every message before
anything is created or bound, and `seed` creates them once the tenants of the store are back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..config.settings import Settings
from ..config.tenants_file import ConfigError, ConfigFile, mailbox_messages
from ..errors import DomainError, TenantExists
from ..message.ingest import Incoming
from ..tenancy.service import Service
from ..tenancy.specs import TenantSpec

__all__ = ["SeedMailbox", "SeedTenant", "prepare_seed", "seed"]

log = logging.getLogger("mockmail")


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
