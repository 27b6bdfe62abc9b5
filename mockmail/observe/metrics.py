"""`Metrics`: what `GET /metrics` shows, in the Prometheus text format, every name prefixed `mockmail_`.

Sessions count into plain dicts on their own path: a `collections.Counter` increment per command is
about 100 ns, where a `prometheus_client` child's `inc()` takes a lock.  The dicts are turned into metric
families only when scraped (`collect`), with the stored messages and bytes read from the tenants' stores
then.  The API's own figures (requests by route and status, their latency) use `prometheus_client`
metrics directly: one request costs far more than its counting.  Each `Metrics` has its own
`CollectorRegistry`, so two servers in one process (the tests) never share figures.

With `tenant_labels=False` the per-tenant label is left out and figures are summed over tenants: for a
service with thousands of tenants, where one series per tenant would swamp Prometheus.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import prometheus_client
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "Metrics", "StoreFigures"]

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST

StoreFigures = Callable[[], Iterable[tuple[str, int, int]]]
"""Each tenant's (name, stored messages, stored octets), read at scrape time."""


class Metrics(Collector):
    """The server's figures; sessions and stores write to it, `/metrics` renders it."""

    def __init__(self, *, tenant_labels: bool = True) -> None:
        self.tenant_labels = tenant_labels
        self.sessions: Counter[tuple[str, str]] = Counter()
        """(protocol, tenant) -> sessions started."""
        self.active: Counter[tuple[str, str]] = Counter()
        self.commands: Counter[tuple[str, str, str]] = Counter()
        """(protocol, verb, outcome) -> commands answered; outcome `ok`, `error` (POP3 -ERR), `temporary`
        or `permanent` (SMTP 4xx, 5xx)."""
        self.faults: Counter[str] = Counter()
        self.delivered: Counter[tuple[str, str]] = Counter()
        """(way in, tenant) -> messages stored: `api`, `config`, `smtp`."""
        self.received: Counter[tuple[str, str]] = Counter()
        """(protocol, tenant) -> octets read from clients."""
        self.sent: Counter[tuple[str, str]] = Counter()
        self.stores: StoreFigures = tuple
        self.registry = prometheus_client.CollectorRegistry(auto_describe=False)
        self.api_requests = prometheus_client.Counter(
            "mockmail_api_requests",
            "REST API requests answered, by route template and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.api_seconds = prometheus_client.Histogram(
            "mockmail_api_request_seconds",
            "Seconds from a REST request's arrival to its answer, by route template.",
            ["route"],
            registry=self.registry,
        )
        self.registry.register(self)

    def tenant(self, name: str) -> str:
        """The tenant label value to count under (one empty value when tenant labels are off)."""
        return name if self.tenant_labels else ""

    def render(self) -> bytes:
        return prometheus_client.generate_latest(self.registry)

    # --- the collector --------------------------------------------------------------------------------

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterator[Metric]:
        by_tenant = ["protocol", "tenant"] if self.tenant_labels else ["protocol"]
        yield _family(CounterMetricFamily, "sessions", "Sessions accepted.", by_tenant, self.sessions)
        yield _family(GaugeMetricFamily, "sessions_active", "Sessions open now.", by_tenant, self.active)
        yield _family(
            CounterMetricFamily,
            "commands",
            "Commands answered, by protocol, verb and outcome.",
            ["protocol", "verb", "outcome"],
            self.commands,
        )
        yield _family(
            CounterMetricFamily,
            "faults_fired",
            "Faults that fired, by knob.",
            ["knob"],
            {(knob,): n for knob, n in self.faults.items()},
        )
        yield _family(
            CounterMetricFamily,
            "messages_delivered",
            "Messages stored, by the way they came in.",
            ["via", "tenant"] if self.tenant_labels else ["via"],
            self.delivered,
        )
        yield _family(
            CounterMetricFamily, "received_bytes", "Octets read from clients.", by_tenant, self.received
        )
        yield _family(CounterMetricFamily, "sent_bytes", "Octets written to clients.", by_tenant, self.sent)
        messages: Counter[tuple[str, ...]] = Counter()
        octets: Counter[tuple[str, ...]] = Counter()
        for name, count, size in self.stores():
            key = (name,) if self.tenant_labels else ()
            messages[key] += count
            octets[key] += size
        labels = ["tenant"] if self.tenant_labels else []
        yield _family(GaugeMetricFamily, "stored_messages", "Messages stored now.", labels, messages)
        yield _family(GaugeMetricFamily, "stored_bytes", "Octets of messages stored now.", labels, octets)


def _family(
    kind: type[CounterMetricFamily] | type[GaugeMetricFamily],
    name: str,
    documentation: str,
    labels: list[str],
    values: dict[tuple[str, ...], int] | Counter[tuple[str, str]] | Counter[tuple[str, str, str]],
) -> Metric:
    family = kind(f"mockmail_{name}", documentation, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key)[: len(labels)] if labels else [], value)
    return family
