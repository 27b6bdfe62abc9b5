"""`Placement`: which worker owns which tenant, and where a new tenant goes.

Rules it keeps:
- A tenant has one owner.  A name being created is reserved for the worker chosen for it until the worker
  answers, so a second creation of the same name meanwhile goes to that same worker, which answers 409 as
  a single process would.
- A new tenant goes to the up worker with the fewest tenants (reserved names count), the lowest id on a tie.
- What a worker reports when it (re)starts replaces what was known of it: its catalog is the truth.
- Names keep the order they were placed in, so the gathered tenant list keeps creation order.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Placement"]


class Placement:
    """Tenant name -> worker id, for `workers` workers."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._owner: dict[str, int] = {}
        self._pending: set[str] = set()

    def owner(self, name: str) -> int | None:
        """The worker that owns (or is creating) the tenant, or None."""
        return self._owner.get(name)

    def placed(self, name: str) -> bool:
        """Whether the tenant exists (not merely reserved)."""
        return name in self._owner and name not in self._pending

    def counts(self) -> list[int]:
        """Tenants per worker, reservations included."""
        counts = [0] * self.workers
        for worker in self._owner.values():
            counts[worker] += 1
        return counts

    def total(self) -> int:
        """Tenants that exist (reservations not included)."""
        return len(self._owner) - len(self._pending)

    def order(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self._owner)}

    def reserve(self, name: str, up: Iterable[int]) -> int | None:
        """The worker that is to answer a creation of `name`: its owner when the name is known, else the
        up worker with the fewest tenants (the name reserved for it); None when no worker is up."""
        known = self._owner.get(name)
        if known is not None:
            return known
        counts = self.counts()
        candidates = sorted(up, key=lambda worker: (counts[worker], worker))
        if not candidates:
            return None
        self._owner[name] = candidates[0]
        self._pending.add(name)
        return candidates[0]

    def settle(self, name: str, created: bool) -> None:
        """The creation of a reserved name ended: the tenant exists (`created`), or the name is free."""
        if name not in self._pending:
            return
        self._pending.discard(name)
        if not created:
            del self._owner[name]

    def forget(self, name: str) -> None:
        self._pending.discard(name)
        self._owner.pop(name, None)

    def load(self, worker: int, names: Iterable[str]) -> None:
        """The tenants a worker reports (at its start): they replace what was known of it."""
        names = list(names)
        for name in [name for name, owner in self._owner.items() if owner == worker]:
            if name not in self._pending and name not in names:
                del self._owner[name]
        for name in names:
            self._owner.setdefault(name, worker)
