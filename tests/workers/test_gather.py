"""`gather`: one exposition from several (checked with prometheus_client's parser), tenant lists in
placement order, health summed."""

from __future__ import annotations

from typing import Literal

import prometheus_client
from prometheus_client.parser import text_string_to_metric_families

from mockmail.api.schemas import Health, WorkerHealth
from mockmail.observe.metrics import Metrics
from mockmail.workers.gather import merge_health, merge_metrics, merge_tenants


def exposition(tenant: str, sessions: int, api_calls: int) -> str:
    metrics = Metrics()
    for _ in range(sessions):
        metrics.sessions["pop3", tenant] += 1
        metrics.sessions["smtp", "shared"] += 1
    for _ in range(api_calls):
        metrics.api_requests.labels("/api/v1/health", "200").inc()
        metrics.api_seconds.labels("/api/v1/health").observe(0.002)
    return metrics.render().decode()


def test_metrics_merge_into_one_valid_exposition() -> None:
    text = merge_metrics([exposition("a", 2, 3), exposition("b", 5, 4)]).decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    helped = [line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")]
    typed = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]
    assert len(helped) == len(set(helped)) and helped == typed
    assert {"mockmail_sessions_total", "mockmail_api_requests_total", "mockmail_api_request_seconds"} <= set(
        helped
    )
    sessions = {
        (s.labels["protocol"], s.labels["tenant"]): s.value
        for s in families["mockmail_sessions"].samples
        if s.name == "mockmail_sessions_total"
    }
    assert sessions == {("pop3", "a"): 2, ("pop3", "b"): 5, ("smtp", "shared"): 7}
    requests = [s for s in families["mockmail_api_requests"].samples if s.name.endswith("_total")]
    assert [(s.labels, s.value) for s in requests] == [({"route": "/api/v1/health", "status": "200"}, 7.0)]
    histogram = families["mockmail_api_request_seconds"]
    count = [s.value for s in histogram.samples if s.name.endswith("_count")]
    inf = [s.value for s in histogram.samples if s.labels.get("le") == "+Inf"]
    assert count == inf == [7.0]
    assert prometheus_client.CONTENT_TYPE_LATEST.startswith("text/plain")


def test_no_exposition_is_an_empty_one() -> None:
    assert list(text_string_to_metric_families(merge_metrics([]).decode())) == []


def test_tenant_lists_keep_placement_order() -> None:
    lists = [[{"name": "c"}, {"name": "a"}], [{"name": "b"}]]
    merged = merge_tenants(lists, {"a": 0, "b": 1, "c": 2})
    assert [view["name"] for view in merged] == ["a", "b", "c"]


def health(tenants: int, sessions: int, problem: str | None = None) -> Health:
    return Health(
        status="ok" if problem is None else "degraded",
        version="x",
        tenants=tenants,
        sessions=sessions,
        tls=False,
        open_files=10,
        max_open_files=100,
        tasks=5,
        problem=problem,
        workers=[],
    )


def entry(k: int, tenants: int, state: Literal["up", "restarting"] = "up") -> WorkerHealth:
    return WorkerHealth(id=k, pid=100 + k if state == "up" else 0, tenants=tenants, state=state, restarts=0)


def test_health_sums_and_degrades_while_a_worker_restarts() -> None:
    both = merge_health(
        [health(2, 3), health(1, 4)], [entry(0, 2), entry(1, 1)], tls=True, own_files=7, max_open_files=50
    )
    assert (both.status, both.tenants, both.sessions, both.open_files, both.tasks) == ("ok", 3, 7, 27, 10)
    assert both.problem is None and [w.id for w in both.workers] == [0, 1]
    one = merge_health(
        [health(2, 3), None],
        [entry(0, 2), entry(1, 1, "restarting")],
        tls=True,
        own_files=7,
        max_open_files=50,
    )
    assert one.status == "degraded" and one.problem == "worker 1 is restarting" and one.tenants == 3
    short = merge_health(
        [health(2, 3, "out of file descriptors")], [entry(0, 2)], tls=False, own_files=1, max_open_files=50
    )
    assert short.status == "degraded" and short.problem == "out of file descriptors"
