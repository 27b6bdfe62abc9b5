"""`Quota`: what a tenant stores, checked against its storage limits (`mailboxes`, `messages`, `bytes`).

A batch is checked whole before anything of it is stored, so a bulk upload that would cross a limit is
refused whole.  The limits come from the tenancy layer (`TenantLimits`, resolved there); this module only
reads the three it checks, so the servers and ingest that check a quota depend on the store alone.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import StorageLimit
from ._interface import MailStore

__all__ = ["Quota", "StorageLimits"]


class StorageLimits(Protocol):
    """The storage limits a quota checks; None is no limit."""

    @property
    def mailboxes(self) -> int | None: ...
    @property
    def messages(self) -> int | None: ...
    @property
    def bytes(self) -> int | None: ...


class Quota:
    """A tenant's storage limits, checked against what its store holds right now."""

    __slots__ = ("limits", "store")

    def __init__(self, store: MailStore, limits: StorageLimits) -> None:
        self.store = store
        self.limits = limits

    def held(self) -> tuple[int, int]:
        """Messages and octets stored across the tenant's mailboxes."""
        totals = [box.totals for box in self.store]  # every folder counts, not only INBOX
        return sum(count for count, _ in totals), sum(octets for _, octets in totals)

    def full(self) -> str | None:
        """The storage limit already reached (`messages` or `bytes`), or None while there is room."""
        limits = self.limits
        if limits.messages is None and limits.bytes is None:
            return None
        count, octets = self.held()
        if limits.messages is not None and count >= limits.messages:
            return "messages"
        if limits.bytes is not None and octets >= limits.bytes:
            return "bytes"
        return None

    def check(self, count: int, octets: int) -> None:
        """Room for `count` more messages of `octets` in all.

        Raises:
            StorageLimit: they would cross `messages` or `bytes` (named in `limit`).
        """
        limits = self.limits
        if limits.messages is None and limits.bytes is None:
            return
        held, held_octets = self.held()
        if limits.messages is not None and held + count > limits.messages:
            raise StorageLimit(
                f"the tenant holds {held:d} of its {limits.messages:d} messages; {count:d} more would "
                "cross the limit, nothing was stored",
                limit="messages",
            )
        if limits.bytes is not None and held_octets + octets > limits.bytes:
            raise StorageLimit(
                f"the tenant holds {held_octets:d} of its {limits.bytes:d} octets; {octets:d} more would "
                "cross the limit, nothing was stored",
                limit="bytes",
            )

    def check_mailbox(self) -> None:
        """Room for one more mailbox.

        Raises:
            StorageLimit: the tenant has `mailboxes` already.
        """
        most = self.limits.mailboxes
        if most is not None and len(self.store) >= most:
            raise StorageLimit(
                f"the tenant has its maximum of {most:d} mailboxes; delete one first", limit="mailboxes"
            )


