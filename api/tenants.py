"""`/api/v1/tenants`: create, list, show and delete tenants."""

from __future__ import annotations

import msgspec
from quart import Blueprint, Response

from mockmail.tenancy.service import Service
from mockmail.tenancy.specs import TenantSpec

from .bearer import principal
from .http import check_tenant_name, decode_json, json_response, no_content

__all__ = ["blueprint"]

_SPEC = msgspec.json.Decoder(TenantSpec)


def blueprint(service: Service) -> Blueprint:
    bp = Blueprint("tenants", __name__)

    @bp.get("/tenants")
    async def list_tenants() -> Response:
        who = principal()
        return json_response([view for view in service.tenants() if who.may_manage(view.name)])

    @bp.post("/tenants")
    async def create_tenant() -> Response:
        created = await service.create_tenant(await decode_json(_SPEC))
        return json_response(created, 201, headers={"Location": f"/api/v1/tenants/{created.name}"})

    @bp.post("/tenants/<tenant>/token")
    async def rotate_token(tenant: str) -> Response:
        return json_response(service.rotate_token(check_tenant_name(tenant)))

    @bp.get("/tenants/<tenant>")
    async def get_tenant(tenant: str) -> Response:
        return json_response(service.tenant(check_tenant_name(tenant)))

    @bp.delete("/tenants/<tenant>")
    async def delete_tenant(tenant: str) -> Response:
        await service.delete_tenant(check_tenant_name(tenant))
        return no_content()

    return bp
