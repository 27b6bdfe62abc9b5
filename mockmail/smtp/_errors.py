"""Errors of the SMTP core: only the local kind; what the peer gets wrong is an event (`BadCommand`)."""

from __future__ import annotations

__all__ = ["LocalProtocolError", "SmtpError"]


class SmtpError(Exception):
    """Base of the core's errors."""


class LocalProtocolError(SmtpError):
    """We tried to send something SMTP does not allow (a bug in the caller): let it crash the test."""
