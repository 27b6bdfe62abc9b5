"""`/api/v1/tenants/{tenant}/mailboxes`: create or re-key, list, show and delete mailboxes."""

from __future__ import annotations

import msgspec
from quart import Blueprint, Response

from mockmail.mailbox import Mailbox
from mockmail.specs import MailboxSpec
from mockmail.tenants import Registry

from .http import check_tenant_name, check_user_name, decode_json, json_response, no_content
from .schemas import MailboxView

__all__ = ["blueprint", "mailbox_view"]

_SPEC = msgspec.json.Decoder(MailboxSpec)


def mailbox_view(mailbox: Mailbox) -> MailboxView:
    return MailboxView(
        user=mailbox.user,
        messages=len(mailbox.messages),
        octets=mailbox.octets,
        sessions=mailbox.sessions,
        locked=mailbox.holder is not None,
    )


def blueprint(registry: Registry) -> Blueprint:
    bp = Blueprint("mailboxes", __name__)

    @bp.get("/tenants/<tenant>/mailboxes")
    async def list_mailboxes(tenant: str) -> Response:
        found = registry.get(check_tenant_name(tenant)).store
        return json_response([mailbox_view(m) for m in found])

    @bp.put("/tenants/<tenant>/mailboxes/<user>")
    async def put_mailbox(tenant: str, user: str) -> Response:
        found = registry.get(check_tenant_name(tenant)).store
        check_user_name(user)
        spec = await decode_json(_SPEC)
        mailbox, created = found.put(user, spec.password)
        headers = {"Location": f"/api/v1/tenants/{tenant}/mailboxes/{user}"} if created else None
        return json_response(mailbox_view(mailbox), 201 if created else 200, headers=headers)

    @bp.get("/tenants/<tenant>/mailboxes/<user>")
    async def get_mailbox(tenant: str, user: str) -> Response:
        found = registry.get(check_tenant_name(tenant)).store
        return json_response(mailbox_view(found.get(check_user_name(user))))

    @bp.delete("/tenants/<tenant>/mailboxes/<user>")
    async def delete_mailbox(tenant: str, user: str) -> Response:
        registry.get(check_tenant_name(tenant)).store.delete(check_user_name(user))
        return no_content()

    return bp
