"""`create_app(registry)`: the control API as a quart-trio app.  No module-level app, no globals."""

from __future__ import annotations

from quart_trio import QuartTrio

from mockmail.tenancy.registry import Registry

from . import bearer as auth
from . import faults, hypercorn_errors, mailboxes, messages, metrics, parts, problems, sessions, tenants
from . import health as service
from . import rate_limit as limits
from . import search as finding
from .keepalive import KeepAliveGuard
from .web import blueprint as web_blueprint

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def create_app(registry: Registry) -> QuartTrio:
    """Build the app; every handler reaches the tenants only through `registry`."""
    app = QuartTrio("mockmail.api")
    app.config["MAX_CONTENT_LENGTH"] = registry.settings.max_request_size
    app.config["JSON_SORT_KEYS"] = False
    for module in (service, tenants, mailboxes, messages, finding, parts, faults, sessions):
        app.register_blueprint(module.blueprint(registry), url_prefix=API_PREFIX)
    app.register_blueprint(metrics.blueprint(registry))  # /metrics, outside /api/v1 as scrapers expect
    app.register_blueprint(web_blueprint())  # the page at /, which uses the API like any client
    problems.register(app)
    metrics.install(app, registry)  # first: requests the token check refuses are counted too
    auth.install(app, registry)
    limits.install(app, registry)  # after the token check
    hypercorn_errors.install()
    guard = KeepAliveGuard(app.asgi_app, drain_limit=registry.settings.max_request_size)
    app.asgi_app = guard  # type: ignore[assignment,method-assign]
    return app
