"""`create_app(service)`: the control API as a quart-trio app.  No module-level app, no globals."""

from __future__ import annotations

from quart_trio import QuartTrio

from mockmail.tenancy.service import Service

from . import (
    bearer,
    durability,
    faults,
    health,
    hypercorn_errors,
    mailboxes,
    messages,
    metrics,
    parts,
    problems,
    rate_limit,
    search,
    sessions,
    tenants,
)
from .keepalive import KeepAliveGuard
from .web import blueprint as web_blueprint

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def create_app(service: Service) -> QuartTrio:
    """Build the app; every handler reaches the tenants only through the `service` facade."""
    app = QuartTrio("mockmail.api")
    app.config["MAX_CONTENT_LENGTH"] = service.settings.max_request_size
    app.config["JSON_SORT_KEYS"] = False
    for module in (health, tenants, mailboxes, messages, search, parts, faults, sessions):
        app.register_blueprint(module.blueprint(service), url_prefix=API_PREFIX)
    app.register_blueprint(metrics.blueprint(service))  # /metrics, outside /api/v1 as scrapers expect
    app.register_blueprint(web_blueprint())  # the page at /, which uses the API like any client
    problems.register(app)
    metrics.install(app, service)  # first: requests the token check refuses are counted too
    durability.install(app, service)  # runs before the metrics hook: a 503 it makes is counted
    bearer.install(app, service)
    rate_limit.install(app, service)  # after the token check
    hypercorn_errors.install()
    guard = KeepAliveGuard(app.asgi_app, drain_limit=service.settings.max_request_size)
    app.asgi_app = guard  # type: ignore[assignment,method-assign]
    return app
