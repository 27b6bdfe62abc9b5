"""`LeaseBook`: the leases one replica holds, kept against its own clock (sans-IO: no SQL, no trio).

Theory of operation.  The database grants a lease until `now() + seconds` of *its* clock, at the moment
it runs the claim or renewal.  That moment comes after the request was sent, so `sent + seconds` on the
replica's clock is no later than the lease's real end, whatever the two clocks read; no clock of two
machines is ever compared.  The book keeps that deadline, shortened by `margin` (clock rate drift, the time
it takes to stop serving), and a tenant counts as held only while the local clock is before it:

- `granted(tenant, generation, sent)`: a claim (or a new tenant) came back; `sent` is when it was sent.
- `renewed(tenants, sent)`: a renewal came back with these tenants; every held tenant missing from the
  answer is lost (another replica took it, or it was deleted).
- `holds(tenant, now)`: may the tenant be served at `now`?  A replica frozen past its deadline (a GC
  pause, SIGSTOP, a VM migration) wakes up not holding it, before any task had a chance to renew.
- `expired(now)`: the tenants whose deadline has passed: stop serving them, and they leave the book.
- `generation(tenant)`: the fencing token that every write of the tenant carries.

The clock is whatever the caller reads (mockmail/replicas/claimer.py uses CLOCK_BOOTTIME, which keeps
counting while the machine sleeps); the book never reads one itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Lease", "LeaseBook", "margin_for"]


def margin_for(seconds: float) -> float:
    """How much earlier than `sent + seconds` a replica stops counting on a lease: a tenth of it (clock
    rates differ by far less), at least 0.1 s (the time to cancel a tenant's listeners)."""
    return max(seconds / 10, 0.1)


@dataclass(slots=True)
class Lease:
    """One tenant held: its fencing token and the local deadline."""

    tenant: str
    generation: int
    deadline: float
    """Local clock reading after which the tenant is not served."""


class LeaseBook:
    """The leases this replica holds.

    Args:
        seconds: the lease length the database grants (`--lease-seconds`).
        margin: how much before `sent + seconds` a lease stops counting (default: `margin_for`).
    """

    def __init__(self, seconds: float, margin: float | None = None) -> None:
        if seconds <= 0:
            raise ValueError(f"a lease lasts more than 0 seconds, not {seconds!r}")
        self.seconds = seconds
        self.margin = margin_for(seconds) if margin is None else margin
        if not 0 <= self.margin < seconds:
            raise ValueError(f"the margin {self.margin!r} must be at least 0 and below {seconds!r}")
        self._leases: dict[str, Lease] = {}

    def __contains__(self, tenant: object) -> bool:
        return tenant in self._leases

    def __len__(self) -> int:
        return len(self._leases)

    def tenants(self) -> list[str]:
        """Every tenant in the book (held, or expired and not yet collected by `expired`)."""
        return list(self._leases)

    def generations(self) -> dict[str, int]:
        """Each tenant's generation: what a renewal presents."""
        return {name: lease.generation for name, lease in self._leases.items()}

    def _deadline(self, sent: float) -> float:
        return sent + self.seconds - self.margin

    def granted(self, tenant: str, generation: int, sent: float) -> None:
        """A claim of `tenant` sent at `sent` came back with `generation`."""
        self._leases[tenant] = Lease(tenant, generation, self._deadline(sent))

    def renewed(self, tenants: Iterable[str], sent: float, asked: Iterable[str] | None = None) -> list[str]:
        """A renewal sent at `sent` came back with `tenants`; return those it lost.

        Args:
            asked: the tenants the renewal presented (default: every tenant in the book); a tenant granted
                while the renewal was under way is not among them and is not lost by it.
        """
        back = set(tenants)
        presented = list(self._leases) if asked is None else list(asked)
        lost = []
        for name in presented:
            lease = self._leases.get(name)
            if lease is None:
                continue
            if name in back:
                lease.deadline = max(lease.deadline, self._deadline(sent))
            else:
                del self._leases[name]
                lost.append(name)
        return lost

    def holds(self, tenant: str, now: float) -> bool:
        """Whether `tenant` may be served at `now`."""
        lease = self._leases.get(tenant)
        return lease is not None and now < lease.deadline

    def generation(self, tenant: str) -> int | None:
        """The tenant's fencing token, or None when the book has no lease of it."""
        lease = self._leases.get(tenant)
        return lease.generation if lease is not None else None

    def drop(self, tenant: str) -> None:
        """Forget the tenant's lease (it was deleted, or given back)."""
        self._leases.pop(tenant, None)

    def expired(self, now: float) -> list[str]:
        """The tenants whose deadline has passed at `now`; they leave the book."""
        gone = [name for name, lease in self._leases.items() if now >= lease.deadline]
        for name in gone:
            del self._leases[name]
        return gone

    def next_deadline(self) -> float | None:
        """The earliest deadline in the book, or None when it holds nothing."""
        return min((lease.deadline for lease in self._leases.values()), default=None)
