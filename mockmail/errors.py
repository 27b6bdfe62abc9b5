"""Domain errors.  Each class names its HTTP status and RFC 9457 title, so the REST layer has one handler.

`field` names the offending input (a JSON path such as `$.pop3_port`, or a path parameter such as `user`).
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "DomainError",
    "FolderExists",
    "FolderNotFound",
    "InvalidInput",
    "MailboxNotFound",
    "MessageNotFound",
    "MessageTooLarge",
    "PortUnavailable",
    "RateLimited",
    "ResourcesExhausted",
    "StorageLimit",
    "TenantExists",
    "TenantLimit",
    "TenantNotFound",
    "TenantUnavailable",
    "UidTaken",
    "UnsupportedMediaType",
]


class DomainError(Exception):
    """Base of the errors a client of the control API can cause."""

    status = 400
    title = "Bad request"
    slug = "bad-request"
    headers: ClassVar[dict[str, str]] = {}
    """HTTP headers the answer carries (a 401's `WWW-Authenticate`)."""

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        limit: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.limit = limit
        """The tenant limit that was reached (`messages`, `message_size`, ...), named in the problem."""
        self.response_headers = {**type(self).headers, **(headers or {})}


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class TenantNotFound(DomainError):
    status = 404
    title = "Tenant not found"
    slug = "tenant-not-found"


class TenantUnavailable(DomainError):
    """The tenant exists but nothing serves it right now: its lease ran out and another replica is taking
    it over, a write was fenced out under the request, its owner cannot be reached, or its worker is
    restarting (`detail` says which); `Retry-After` says when to ask again."""

    status = 503
    title = "Tenant unavailable"
    slug = "tenant-unavailable"
    headers = {"Retry-After": "1"}


class TenantExists(DomainError):
    status = 409
    title = "Tenant already exists"
    slug = "tenant-exists"


class TenantLimit(DomainError):
    status = 409
    title = "Tenant limit reached"
    slug = "tenant-limit"


class PortUnavailable(DomainError):
    status = 409
    title = "Port unavailable"
    slug = "port-unavailable"


class MailboxNotFound(DomainError):
    status = 404
    title = "Mailbox not found"
    slug = "mailbox-not-found"


class MessageNotFound(DomainError):
    status = 404
    title = "Message not found"
    slug = "message-not-found"


class FolderNotFound(DomainError):
    status = 404
    title = "Folder not found"
    slug = "folder-not-found"


class FolderExists(DomainError):
    status = 409
    title = "Folder already exists"
    slug = "folder-exists"


class UidTaken(DomainError):
    status = 409
    title = "UID already used in this mailbox"
    slug = "uid-taken"


class MessageTooLarge(DomainError):
    status = 413
    title = "Message too large"
    slug = "message-too-large"


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class StorageLimit(DomainError):
    """A tenant limit on what it stores (`mailboxes`, `messages`, `bytes`); nothing of the request was
    stored."""

    status = 507
    title = "Storage limit reached"
    slug = "storage-limit"


class RateLimited(DomainError):
    """The tenant's `api_rps`: the answer says when to try again (`Retry-After`)."""

    status = 429
    title = "Too many requests"
    slug = "rate-limited"


class ResourcesExhausted(DomainError):
    """The process ran out of something the request needs (file descriptors); retrying later may work."""

    status = 503
    title = "Resources exhausted"
    slug = "resources-exhausted"
