"""What the process is running short of: file descriptors (and the kernel's socket memory).

The descriptor table is per process, so this state is too (`MONITOR`).  Whoever meets an exhaustion error
(`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) calls `MONITOR.exhausted(exc, where)`: the first one of an episode
is logged once, without a traceback, and the health endpoint reports it until `RECENT` seconds pass without
another.  Every tenant holds one descriptor per listener (two with TLS) plus one per open session; the
README says how to raise the limit.
"""

from __future__ import annotations

import errno
import logging
import os
import resource
import time

import trio

__all__ = ["EXHAUSTION_ERRNOS", "MONITOR", "ResourceMonitor", "is_exhaustion", "running_tasks"]

log = logging.getLogger("mockmail.resources")

EXHAUSTION_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
RECENT = 60.0
"""Seconds after the last exhaustion error during which health reports it."""


def is_exhaustion(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in EXHAUSTION_ERRNOS


def _describe(exc: OSError) -> str:
    if exc.errno == errno.EMFILE:
        return (
            f"out of file descriptors: the process limit (RLIMIT_NOFILE) of {descriptor_limit()} is reached"
        )
    if exc.errno == errno.ENFILE:
        return "out of file descriptors: the system-wide limit is reached"
    return f"out of kernel memory for sockets ({exc.strerror or exc})"


def descriptor_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # the listing's own descriptor
    except OSError:  # pragma: no cover - no /proc (not Linux)
        return -1


class ResourceMonitor:
    """The last exhaustion seen, and when."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._last = 0.0

    def exhausted(self, exc: OSError, where: str) -> str:
        """Record an exhaustion error met by `where`; log it once per episode; return what ran out."""
        reason = _describe(exc)
        now = time.monotonic()
        if self.reason is None or now - self._last > RECENT:
            log.error("%s: %s (%d descriptors open)", where, reason, open_descriptors())
        self.reason, self._last = reason, now
        return reason

    def current(self) -> str | None:
        """What ran out, if it did in the last `RECENT` seconds."""
        if self.reason is not None and time.monotonic() - self._last <= RECENT:
            return self.reason
        return None


MONITOR = ResourceMonitor()


class _OncePerEpisode(logging.Filter):
    """Let trio's accept-retry log (one record with a traceback every 100 ms while out of descriptors)
    through as one line per episode, recorded in `MONITOR`."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, OSError) and is_exhaustion(exc):
            MONITOR.exhausted(exc, "REST API accept")  # logs the first one of an episode itself
            return False
        return True


def running_tasks() -> int:
    """Trio tasks alive in this run, the root task included: a leak shows as a count that only grows."""
    count = 0
    root = trio.lowlevel.current_root_task()
    pending = [root] if root is not None else []
    while pending:
        task = pending.pop()
        count += 1
        for nursery in task.child_nurseries:
            pending.extend(nursery.child_tasks)
    return count


def quiet_accept_retries() -> None:
    """Install the filter on trio's serve_listeners logger (idempotent)."""
    logger = logging.getLogger("trio.serve_listeners")
    if not any(isinstance(f, _OncePerEpisode) for f in logger.filters):
        logger.addFilter(_OncePerEpisode())
