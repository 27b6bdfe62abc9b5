"""Small helpers every blueprint uses: JSON responses, body decoding, path-parameter checks."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from quart import Response, request

from mockmail.errors import InvalidInput
from mockmail.specs import TENANT_NAME_PATTERN, USER_NAME_PATTERN

__all__ = ["check_tenant_name", "check_user_name", "decode_json", "json_response", "no_content"]

T = TypeVar("T")

_ENCODER = msgspec.json.Encoder()
_TENANT = re.compile(TENANT_NAME_PATTERN)
_USER = re.compile(USER_NAME_PATTERN)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_ENCODER.encode(body), status=status, content_type="application/json", headers=headers)


def no_content() -> Response:
    return Response(b"", status=204)


async def decode_json(decoder: msgspec.json.Decoder[T]) -> T:
    """Decode the request body strictly with `decoder` (errors become 400/422 problem documents)."""
    data = await request.get_data(cache=False, as_text=False)
    if not data:
        raise InvalidInput("the request body is empty; send a JSON document", field="$")
    assert isinstance(data, bytes)
    return decoder.decode(data)


def check_tenant_name(name: str) -> str:
    if not _TENANT.match(name):
        raise InvalidInput(f"{name!r} is not a tenant name (pattern {TENANT_NAME_PATTERN})", field="tenant")
    return name


def check_user_name(user: str) -> str:
    if not _USER.match(user):
        raise InvalidInput(f"{user!r} is not a user name (pattern {USER_NAME_PATTERN})", field="user")
    return user
