"""`/api/v1/tenants/{tenant}/faults`, `.../mailboxes/{user}/faults` and `/api/v1/fault-profiles`.

PUT replaces a plan, PATCH merges into it (RFC 7396 style: a field set to null goes back to compliant),
DELETE makes it compliant again.  `{"profile": NAME}` applies a preset.  A change reaches every open
session at its next command.
"""

from __future__ import annotations

from typing import Any

import msgspec
from quart import Blueprint, Response

from mockmail.errors import InvalidInput
from mockmail.faults import (
    PROFILES,
    FaultPatch,
    FaultPlan,
    FaultState,
    MailboxFaultPatch,
    MailboxFaultPlan,
    UnknownProfile,
)
from mockmail.tenancy.service import Service

from .http import check_tenant_name, check_user_name, decode_json, json_response, no_content

__all__ = ["blueprint"]

_PLAN = msgspec.json.Decoder(FaultPlan)
_PATCH = msgspec.json.Decoder(FaultPatch)
_MAILBOX_PLAN = msgspec.json.Decoder(MailboxFaultPlan)
_MAILBOX_PATCH = msgspec.json.Decoder(MailboxFaultPatch)


def _apply(state: FaultState, plan: FaultPlan, user: str | None) -> FaultPlan:
    try:
        return state.set_plan(plan, user)
    except UnknownProfile as exc:
        raise InvalidInput(str(exc), field="$.profile") from None


async def _mailbox_plan() -> FaultPlan:
    plan: FaultPlan = msgspec.convert(msgspec.to_builtins(await decode_json(_MAILBOX_PLAN)), FaultPlan)
    return plan


async def _patched(current: FaultPlan, decoder: msgspec.json.Decoder[Any] = _PATCH) -> FaultPlan:
    patch = await decode_json(decoder)
    merged: dict[str, Any] = msgspec.to_builtins(current)
    for name in patch.__struct_fields__:
        value = getattr(patch, name)
        if value is None:
            merged.pop(name, None)
        elif value is not msgspec.UNSET:
            merged[name] = msgspec.to_builtins(value)
    return msgspec.convert(merged, FaultPlan)


def blueprint(service: Service) -> Blueprint:
    bp = Blueprint("faults", __name__)

    def state(tenant: str) -> FaultState:
        return service.faults(check_tenant_name(tenant))

    def mailbox_user(tenant: str, user: str) -> str:
        service.mailbox(check_tenant_name(tenant), check_user_name(user))
        return user

    @bp.get("/fault-profiles")
    async def list_profiles() -> Response:
        return json_response(list(PROFILES.values()))

    @bp.get("/tenants/<tenant>/faults")
    async def get_faults(tenant: str) -> Response:
        return json_response(state(tenant).plan)

    @bp.put("/tenants/<tenant>/faults")
    async def put_faults(tenant: str) -> Response:
        faults = state(tenant)
        return json_response(_apply(faults, await decode_json(_PLAN), None))

    @bp.patch("/tenants/<tenant>/faults")
    async def patch_faults(tenant: str) -> Response:
        faults = state(tenant)
        return json_response(_apply(faults, await _patched(faults.plan), None))

    @bp.delete("/tenants/<tenant>/faults")
    async def delete_faults(tenant: str) -> Response:
        state(tenant).set_plan(FaultPlan())
        return no_content()

    @bp.get("/tenants/<tenant>/mailboxes/<user>/faults")
    async def get_mailbox_faults(tenant: str, user: str) -> Response:
        faults, name = state(tenant), mailbox_user(tenant, user)
        return json_response(faults.mailbox_plans.get(name, FaultPlan()))

    @bp.put("/tenants/<tenant>/mailboxes/<user>/faults")
    async def put_mailbox_faults(tenant: str, user: str) -> Response:
        faults, name = state(tenant), mailbox_user(tenant, user)
        return json_response(_apply(faults, await _mailbox_plan(), name))

    @bp.patch("/tenants/<tenant>/mailboxes/<user>/faults")
    async def patch_mailbox_faults(tenant: str, user: str) -> Response:
        faults, name = state(tenant), mailbox_user(tenant, user)
        current = faults.mailbox_plans.get(name, FaultPlan())
        return json_response(_apply(faults, await _patched(current, _MAILBOX_PATCH), name))

    @bp.delete("/tenants/<tenant>/mailboxes/<user>/faults")
    async def delete_mailbox_faults(tenant: str, user: str) -> Response:
        faults, name = state(tenant), mailbox_user(tenant, user)
        faults.set_plan(FaultPlan(), name)
        return no_content()

    return bp
