"""`/api/v1/tenants/{tenant}/messages`: the messages of every mailbox of a tenant that match the filters
(`?q=`, `?subject=`, ...: see `filters.py`), each with the mailbox it is in, in arrival order."""

from __future__ import annotations

import msgspec
from quart import Blueprint, Response

from mockmail.tenancy.service import Service

from .filters import FILTER_NAMES, check_params, message_filter
from .http import check_tenant_name, json_response
from .messages import _summary as summary_view  # the one listing view of a message
from .schemas import FoundMessage

__all__ = ["blueprint"]


def blueprint(service: Service) -> Blueprint:
    bp = Blueprint("search", __name__)

    @bp.get("/tenants/<tenant>/messages")
    async def search_messages(tenant: str) -> Response:
        boxes = service.every_mailbox(check_tenant_name(tenant))
        check_params(*FILTER_NAMES)
        wanted = message_filter()
        found = [(box.user, message) for box in boxes for message in wanted.select(box.listing())]
        found.sort(key=lambda pair: pair[1].created)  # arrival order; stable, so mailbox order on a tie
        return json_response(
            [
                FoundMessage(**msgspec.structs.asdict(summary_view(message)), mailbox=user)
                for user, message in found
            ]
        )

    return bp
