"""`.../messages/{id}/parts` and `.../attachments/{index}`: a message's bodies and files, decoded.

For people reading mail (the web page) and tests that assert on what a message says rather than on its
MIME structure.
"""

from __future__ import annotations

from urllib.parse import quote

from quart import Blueprint, Response

from mockmail.errors import DomainError
from mockmail.message.mime import attachment, parts
from mockmail.store import Message
from mockmail.tenancy.service import Service

from .http import check_tenant_name, check_user_name, json_response, whole_number

__all__ = ["MAX_INDEX", "blueprint"]

MAX_INDEX = 999_999
"""The openapi.yaml pattern for `index` allows six digits."""


class AttachmentNotFound(DomainError):
    status = 404
    title = "Attachment not found"
    slug = "attachment-not-found"


def _disposition(filename: str | None, index: int) -> str:
    name = filename or f"attachment-{index}"
    ascii_name = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def blueprint(service: Service) -> Blueprint:
    bp = Blueprint("parts", __name__)

    def message(tenant: str, user: str, message_id: str) -> Message:
        return service.mailbox(check_tenant_name(tenant), check_user_name(user)).get(message_id)

    @bp.get("/tenants/<tenant>/mailboxes/<user>/messages/<message_id>/parts")
    async def get_parts(tenant: str, user: str, message_id: str) -> Response:
        return json_response(parts(message(tenant, user, message_id).content))

    @bp.get("/tenants/<tenant>/mailboxes/<user>/messages/<message_id>/attachments/<index>")
    async def get_attachment(tenant: str, user: str, message_id: str, index: str) -> Response:
        found = message(tenant, user, message_id)
        number = whole_number(index, "index", 0, MAX_INDEX)
        got = attachment(found.content, number)
        if got is None:
            raise AttachmentNotFound(f"message {message_id} has no attachment {number:d}", field="index")
        data, content_type, filename = got
        response = Response(data, status=200, content_type=content_type)
        response.headers["Content-Disposition"] = _disposition(filename, number)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    return bp
