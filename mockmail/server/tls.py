"""TLS material for STLS (RFC 2595) and the implicit-TLS listeners: a certificate given by the operator, or
a self-signed one made at start by `trustme` (whose CA the control API hands out so clients can verify)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

__all__ = ["TlsMaterial", "load_certificate", "self_signed"]


@dataclass(frozen=True)
class TlsMaterial:
    context: ssl.SSLContext
    ca_pem: bytes | None
    """PEM of the CA that signed the certificate, when mockmail made it; None for operator certificates."""


def _server_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # No renegotiation (TLS 1.2; TLS 1.3 has none): the session driver may cancel a wait for input to
    # speak unprompted, which trio's SSLStream allows at any time but during a handshake.
    context.options |= ssl.OP_NO_RENEGOTIATION
    return context


def load_certificate(cert_file: str, key_file: str | None) -> TlsMaterial:
    """Load a PEM certificate chain and its key (the key may sit in the certificate file)."""
    context = _server_context()
    context.load_cert_chain(cert_file, key_file)
    return TlsMaterial(context, None)


def self_signed(hostnames: list[str]) -> TlsMaterial:
    """Make a throw-away CA and a certificate for `hostnames` (names or IP addresses)."""
    import trustme

    ca = trustme.CA(organization_name="mockmail")
    cert = ca.issue_cert(*dict.fromkeys(hostnames))
    context = _server_context()
    cert.configure_cert(context)
    return TlsMaterial(context, ca.cert_pem.bytes())
