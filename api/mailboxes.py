"""`/api/v1/tenants/{tenant}/mailboxes`: create or re-key, list, show and delete mailboxes, and list a
mailbox's folders (IMAP's view of it) with their figures."""

from __future__ import annotations

import msgspec
from quart import Blueprint, Response

from mockmail.store import Mailbox
from mockmail.tenancy.registry import Registry
from mockmail.tenancy.specs import MailboxSpec
from mockmail.tenancy.tenant import Tenant

from .http import check_tenant_name, check_user_name, decode_json, json_response, no_content
from .schemas import MailboxView

__all__ = ["blueprint", "mailbox_view"]

_SPEC = msgspec.json.Decoder(MailboxSpec)


def mailbox_view(tenant: Tenant, mailbox: Mailbox) -> MailboxView:
    return MailboxView(
        user=mailbox.user,
        messages=mailbox.count,
        octets=mailbox.octets,
        sessions=tenant.locks.sessions(mailbox),
        locked=tenant.locks.holder(mailbox) is not None,
    )


def blueprint(registry: Registry) -> Blueprint:
    bp = Blueprint("mailboxes", __name__)

    @bp.get("/tenants/<tenant>/mailboxes")
    async def list_mailboxes(tenant: str) -> Response:
        found = registry.get(check_tenant_name(tenant))
        return json_response([mailbox_view(found, m) for m in found.store])

    @bp.put("/tenants/<tenant>/mailboxes/<user>")
    async def put_mailbox(tenant: str, user: str) -> Response:
        found = registry.get(check_tenant_name(tenant))
        check_user_name(user)
        spec = await decode_json(_SPEC)
        if found.store.find(user) is None:
            found.quota.check_mailbox()
        mailbox, created = found.store.put(user, spec.password)
        headers = {"Location": f"/api/v1/tenants/{tenant}/mailboxes/{user}"} if created else None
        return json_response(mailbox_view(found, mailbox), 201 if created else 200, headers=headers)

    @bp.get("/tenants/<tenant>/mailboxes/<user>")
    async def get_mailbox(tenant: str, user: str) -> Response:
        found = registry.get(check_tenant_name(tenant))
        return json_response(mailbox_view(found, found.store.get(check_user_name(user))))

    @bp.get("/tenants/<tenant>/mailboxes/<user>/folders")
    async def list_folders(tenant: str, user: str) -> Response:
        found = registry.get(check_tenant_name(tenant))
        return json_response(found.store.get(check_user_name(user)).folders())

    @bp.delete("/tenants/<tenant>/mailboxes/<user>")
    async def delete_mailbox(tenant: str, user: str) -> Response:
        registry.get(check_tenant_name(tenant)).store.delete(check_user_name(user))
        return no_content()

    return bp
