"""`/api/v1/tenants`: create, list, show and delete tenants."""

from __future__ import annotations

import msgspec
from quart import Blueprint, Response

from mockmail.tenancy.registry import Registry
from mockmail.tenancy.specs import TenantSpec
from mockmail.tenancy.tenant import Tenant

from .bearer import principal
from .http import check_tenant_name, decode_json, json_response, no_content
from .schemas import TenantCreated, TenantToken, TenantView

__all__ = ["blueprint", "tenant_view"]

_SPEC = msgspec.json.Decoder(TenantSpec)


def tenant_view(tenant: Tenant) -> TenantView:
    assert tenant.pop3 is not None and tenant.smtp is not None
    spec = tenant.spec
    return TenantView(
        name=tenant.name,
        state="failed" if tenant.state == "failed" else "running",
        pop3=tenant.pop3,
        pop3s=tenant.pop3s,
        smtp=tenant.smtp,
        smtps=tenant.smtps,
        smtp_auth=spec.smtp_auth,
        smtp_plaintext_auth=spec.smtp_plaintext_auth,
        catch_all=spec.catch_all,
        exclusive_sessions=spec.exclusive_sessions,
        max_sessions=tenant.max_sessions,
        limits=tenant.limits,
        mailboxes=len(tenant.store),
        sessions=len(tenant.sessions),
        failure=tenant.failure,
    )


def blueprint(registry: Registry) -> Blueprint:
    bp = Blueprint("tenants", __name__)

    @bp.get("/tenants")
    async def list_tenants() -> Response:
        who = principal()
        return json_response([tenant_view(t) for t in registry.list() if who.may_manage(t.name)])

    @bp.post("/tenants")
    async def create_tenant() -> Response:
        spec = await decode_json(_SPEC)
        tenant = await registry.create(spec)
        token = registry.issue_token(tenant.name)
        view = tenant_view(tenant)
        created = TenantCreated(**msgspec.structs.asdict(view), token=token)
        return json_response(created, 201, headers={"Location": f"/api/v1/tenants/{tenant.name}"})

    @bp.post("/tenants/<tenant>/token")
    async def rotate_token(tenant: str) -> Response:
        name = registry.get(check_tenant_name(tenant)).name
        return json_response(TenantToken(tenant=name, token=registry.issue_token(name)))

    @bp.get("/tenants/<tenant>")
    async def get_tenant(tenant: str) -> Response:
        return json_response(tenant_view(registry.get(check_tenant_name(tenant))))

    @bp.delete("/tenants/<tenant>")
    async def delete_tenant(tenant: str) -> Response:
        await registry.delete(check_tenant_name(tenant))
        return no_content()

    return bp
