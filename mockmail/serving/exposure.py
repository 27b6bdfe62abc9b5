"""Who may reach the API: an API without an admin token is served on loopback only, unless `--insecure`."""

from __future__ import annotations

import ipaddress

from ..config.settings import Settings
from ..config.tenants_file import ConfigError

__all__ = ["check_exposure", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether `host` is 127.0.0.0/8, ::1 or `localhost` (a wildcard or any other name is not)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse an open API (no admin token) beyond loopback, unless `--insecure` says so.

    Raises:
        ConfigError: naming both ways out.
    """
    if settings.admin_token is None and not settings.insecure and not is_loopback(settings.host):
        raise ConfigError(
            f"refusing to serve the API on {settings.host!r} without a token: anyone who can reach it "
            "could read and change every tenant.  Give --admin-token TOKEN (or MOCKMAIL_ADMIN_TOKEN), "
            "or --insecure to serve it open anyway."
        )
