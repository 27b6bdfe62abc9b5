"""The TLS material every protocol's listeners use: `--tls-cert`/`--tls-key`, or `--tls auto`."""

from __future__ import annotations

from ..config.settings import Settings
from ..server.tls import TlsMaterial, load_certificate, self_signed

__all__ = ["make_tls"]


def make_tls(settings: Settings) -> TlsMaterial | None:
    if settings.tls_cert:
        return load_certificate(settings.tls_cert, settings.tls_key)
    if settings.tls == "auto":
        names = ["localhost", "127.0.0.1", "::1", settings.advertised_host]
        return self_signed(names)
    return None
