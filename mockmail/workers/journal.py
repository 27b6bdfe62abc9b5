"""`JournalCatalog`: what a memory-only worker keeps of its tenants so that a restart brings them back.

A server without `--data-dir` keeps mail in memory, and a worker killed with SIGKILL loses it.  Its tenants
should not vanish with it: the supervisor restarts the worker, and clients expect the tenant on the same
ports with the same token.  So a worker without a data dir keeps, in one small JSON file of the supervisor's
private run folder, each tenant's bound spec, creation time, token digest and fault state: what
`SqliteCatalog` keeps besides mail.  The restarted worker restores them from it like any catalog (on their
ports, their tokens valid, their fault plans in force); their mailboxes come back empty.

The file is rewritten whole (write, fsync-free rename) at each change: tenants change seldom, and a
rename never leaves a half-written file behind.  The supervisor deletes the folder when it stops.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import msgspec

from ..store import Catalog, MailStore, SavedTenant
from ..store.memory import MemoryStore

__all__ = ["JournalCatalog"]


class _Entry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    spec: str
    created: float
    token: str | None = None
    faults: str | None = None


_DECODER = msgspec.json.Decoder(dict[str, _Entry])


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def _unb64(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text is not None else None


class JournalCatalog(Catalog):
    """Tenants (not their mail) in a JSON file; mailboxes in memory.

    Args:
        path: the file; read at start when it exists (a restarted worker), made at the first change.
    """

    persistent = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._entries: dict[str, _Entry] = (
            _DECODER.decode(self.path.read_bytes()) if self.path.exists() else {}
        )

    def new_store(self, tenant: str) -> MailStore:
        return MemoryStore()

    def saved(self) -> list[SavedTenant]:
        return [
            SavedTenant(name, entry.spec.encode(), entry.created, _unb64(entry.token), _unb64(entry.faults))
            for name, entry in sorted(self._entries.items(), key=lambda item: item[1].created)
        ]

    def save_tenant(self, name: str, spec: bytes, created: float) -> None:
        entry = self._entries.get(name)
        if entry is None:
            self._entries[name] = _Entry(spec=spec.decode(), created=created)
        else:
            entry.spec = spec.decode()
        self._write()

    def save_token(self, name: str, token: bytes | None) -> None:
        entry = self._entries.get(name)
        if entry is not None:
            entry.token = _b64(token)
            self._write()

    def save_faults(self, name: str, faults: bytes) -> None:
        entry = self._entries.get(name)
        if entry is not None:
            entry.faults = _b64(faults)
            self._write()

    def drop_tenant(self, name: str) -> None:
        if self._entries.pop(name, None) is not None:
            self._write()

    def _write(self) -> None:
        spare = self.path.with_suffix(".new")
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(msgspec.json.encode(self._entries))
        os.replace(spare, self.path)
