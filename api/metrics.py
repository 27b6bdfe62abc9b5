"""`GET /metrics` (Prometheus text format) and the API's own request figures.

Every request is counted by its route template (`/api/v1/tenants/<tenant>`, not the tenant's name, so the
series stay few) and status, and timed from before routing to the answer; a request no route matched
counts as `unmatched`.  `/metrics` needs the admin token unless the server runs with `--metrics-public`
(see `auth.py`).
"""

from __future__ import annotations

import time

from quart import Blueprint, Response, g, request

from mockmail.observe import logs
from mockmail.observe.metrics import CONTENT_TYPE
from mockmail.tenancy.service import Service

__all__ = ["blueprint", "install"]


def blueprint(service: Service) -> Blueprint:
    bp = Blueprint("metrics", __name__)

    @bp.get("/metrics")
    async def metrics() -> Response:
        return Response(service.metrics.render(), status=200, content_type=CONTENT_TYPE)

    return bp


def install(app: object, service: Service) -> None:
    """Time, count and (with `--log-format json`) log every request; installed before the token check,
    so 401s count too."""
    figures = service.metrics
    json_lines = service.settings.log_format == "json"

    async def start() -> None:
        g.started = time.perf_counter()

    async def finish(response: Response) -> Response:
        rule = request.url_rule
        route = rule.rule if rule is not None else "unmatched"
        figures.api_requests.labels(route, str(response.status_code)).inc()
        started = g.get("started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        figures.api_seconds.labels(route).observe(seconds)
        if json_lines:
            logs.event(
                "api",
                f"{request.method} {request.path} {response.status_code}",
                method=request.method,
                path=request.path,  # never the query string or headers: no token reaches a log
                route=route,
                status=response.status_code,
                seconds=round(seconds, 6),
            )
        return response

    app.before_request(start)  # type: ignore[attr-defined]
    app.after_request(finish)  # type: ignore[attr-defined]
