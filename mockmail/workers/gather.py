"""Merging what every worker answers into the one answer a single process would give.

- Tenant lists: concatenated, in placement order (creation order).
- Metrics: each worker's Prometheus exposition parsed with `prometheus_client`'s parser; one family per
  name (its HELP and TYPE once), samples with the same name and labels summed (every mockmail figure is a
  count or a sum: sessions, commands, octets, stored messages, request histograms; a counter's `_created`
  time takes the earliest), rendered again with `prometheus_client.generate_latest`, so the result is
  one valid exposition.
- Health: the counters summed, `degraded` when a worker is (or is restarting), one `workers` entry each.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import prometheus_client
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from mockmail import __version__
from mockmail.api.schemas import Health, WorkerHealth

__all__ = ["merge_health", "merge_metrics", "merge_tenants"]


def merge_tenants(lists: Sequence[list[dict[str, Any]]], order: dict[str, int]) -> list[dict[str, Any]]:
    """One list of tenant views from each worker's, in placement order."""
    merged = [view for views in lists for view in views]
    return sorted(merged, key=lambda view: order.get(str(view.get("name")), len(order)))


class _Merged:
    """A collector that yields prepared families (what `generate_latest` renders)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def merge_metrics(texts: Sequence[str]) -> bytes:
    """One exposition from several: families by name, samples with equal name and labels summed."""
    families: dict[str, Metric] = {}
    sums: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            kept = families.setdefault(family.name, Metric(family.name, family.documentation, family.type))
            values = sums.setdefault(kept.name, {})
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key not in values:
                    values[key] = sample.value
                elif sample.name.endswith("_created"):  # a time, not a count: the earliest
                    values[key] = min(values[key], sample.value)
                else:
                    values[key] += sample.value
    for name, family in families.items():
        family.samples = [
            Sample(sample, dict(labels), value) for (sample, labels), value in sums[name].items()
        ]
    registry = prometheus_client.CollectorRegistry(auto_describe=False)
    registry.register(_Merged(list(families.values())))
    return prometheus_client.generate_latest(registry)


def merge_health(
    answers: Sequence[Health | None],
    entries: Sequence[WorkerHealth],
    *,
    tls: bool,
    own_files: int,
    max_open_files: int,
) -> Health:
    """The server's health from each worker's (None: the worker is not up) and the supervisor's entries."""
    up = [answer for answer in answers if answer is not None]
    problems = [answer.problem for answer in up if answer.problem is not None]
    problems += [f"worker {entry.id} is {entry.state}" for entry in entries if entry.state != "up"]
    degraded = bool(problems) or any(answer.status != "ok" for answer in up)
    return Health(
        status="degraded" if degraded else "ok",
        version=__version__,
        tenants=sum(entry.tenants for entry in entries),
        sessions=sum(answer.sessions for answer in up),
        tls=tls,
        open_files=own_files + sum(answer.open_files for answer in up),
        max_open_files=max_open_files,
        tasks=sum(answer.tasks for answer in up),
        problem="; ".join(problems) if problems else None,
        workers=list(entries),
    )
