"""The REST control API (quart-trio): tenants, mailboxes, messages."""

from .app import create_app

__all__ = ["create_app"]
