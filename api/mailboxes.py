"""`/api/v1/tenants/{tenant}/mailboxes`: create or re-key, list, show and delete mailboxes, and list a
mailbox's folders (IMAP's view of it) with their figures."""

from __future__ import annotations

import msgspec
from quart import Blueprint, Response

from mockmail.tenancy.service import Service
from mockmail.tenancy.specs import MailboxSpec

from .http import check_tenant_name, check_user_name, decode_json, json_response, no_content

__all__ = ["blueprint"]

_SPEC = msgspec.json.Decoder(MailboxSpec)


def blueprint(service: Service) -> Blueprint:
    bp = Blueprint("mailboxes", __name__)

    @bp.get("/tenants/<tenant>/mailboxes")
    async def list_mailboxes(tenant: str) -> Response:
        return json_response(service.mailboxes(check_tenant_name(tenant)))

    @bp.put("/tenants/<tenant>/mailboxes/<user>")
    async def put_mailbox(tenant: str, user: str) -> Response:
        service.require(check_tenant_name(tenant))  # 404 before the body is read
        check_user_name(user)
        spec = await decode_json(_SPEC)
        view, created = service.put_mailbox(tenant, user, spec.password, spec.bearer_token)
        headers = {"Location": f"/api/v1/tenants/{tenant}/mailboxes/{user}"} if created else None
        return json_response(view, 201 if created else 200, headers=headers)

    @bp.get("/tenants/<tenant>/mailboxes/<user>")
    async def get_mailbox(tenant: str, user: str) -> Response:
        return json_response(service.mailbox_view(check_tenant_name(tenant), check_user_name(user)))

    @bp.get("/tenants/<tenant>/mailboxes/<user>/folders")
    async def list_folders(tenant: str, user: str) -> Response:
        return json_response(service.mailbox(check_tenant_name(tenant), check_user_name(user)).folders())

    @bp.delete("/tenants/<tenant>/mailboxes/<user>")
    async def delete_mailbox(tenant: str, user: str) -> Response:
        service.delete_mailbox(check_tenant_name(tenant), check_user_name(user))
        return no_content()

    return bp
