"""The REST control API (quart-trio): tenants, mailboxes, messages.

`create_app` is imported on first use, so `mockmail.client` can share `api.schemas` without loading
quart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'api' has no attribute {name!r}")
