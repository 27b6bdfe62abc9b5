"""Small helpers every blueprint uses: JSON responses, body decoding, path-parameter checks.

Body decoding keeps msgspec's strict mode, with one widening the contract needs: JSON Schema counts `1242.0`
as an integer (draft 2020-12, section 6.1.1 of the validation vocabulary), so a body that fails only
because an integer field holds an integral float is converted again with those floats made ints.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from quart import Response, request

from mockmail.errors import InvalidInput, UnsupportedMediaType
from mockmail.tenancy.specs import TENANT_NAME_PATTERN, USER_NAME_PATTERN

__all__ = [
    "JSON_TYPE",
    "check_tenant_name",
    "check_user_name",
    "decode_json",
    "json_response",
    "no_content",
    "require_json",
]

T = TypeVar("T")

_ENCODER = msgspec.json.Encoder()
_GENERIC = msgspec.json.Decoder()
JSON_TYPE = "application/json"
_TENANT = re.compile(TENANT_NAME_PATTERN)
_USER = re.compile(USER_NAME_PATTERN)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_ENCODER.encode(body), status=status, content_type="application/json", headers=headers)


def no_content() -> Response:
    return Response(b"", status=204)


def require_json(*others: str) -> None:
    """Refuse a body that says it is not JSON (415), before any of it is read.

    A request without a Content-Type is read as JSON; `text/plain` and form-encoded bodies are not.
    `others` names the other types the operation takes (checked by the caller), for the message.
    """
    mimetype = request.mimetype
    if mimetype and mimetype != JSON_TYPE and not mimetype.endswith("+json"):
        takes = ", ".join((JSON_TYPE, *others))
        raise UnsupportedMediaType(
            f"unsupported Content-Type {mimetype!r}: this operation takes {takes}", field="Content-Type"
        )


def _integral_floats_as_ints(node: Any) -> tuple[Any, bool]:
    if isinstance(node, float) and node.is_integer():
        return int(node), True
    if isinstance(node, dict):
        pairs = [(key, _integral_floats_as_ints(value)) for key, value in node.items()]
        return {key: value for key, (value, _) in pairs}, any(changed for _, (_, changed) in pairs)
    if isinstance(node, list):
        items = [_integral_floats_as_ints(value) for value in node]
        return [value for value, _ in items], any(changed for _, changed in items)
    return node, False


def decode_body(data: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """Decode `data` strictly with `decoder`, counting integral floats as integers (see the module doc)."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError:
        generic, changed = _integral_floats_as_ints(_GENERIC.decode(data))
        if not changed:
            raise
        try:
            converted: T = msgspec.convert(generic, decoder.type)
        except msgspec.ValidationError:
            pass
        else:
            return converted
        raise


async def decode_json(decoder: msgspec.json.Decoder[T]) -> T:
    """Decode the request body strictly with `decoder` (errors become 400/415/422 problem documents)."""
    require_json()
    data = await request.get_data(cache=False, as_text=False)
    if not data:
        raise InvalidInput("the request body is empty; send a JSON document", field="$")
    assert isinstance(data, bytes)
    return decode_body(data, decoder)


def check_tenant_name(name: str) -> str:
    if not _TENANT.match(name):
        raise InvalidInput(f"{name!r} is not a tenant name (pattern {TENANT_NAME_PATTERN})", field="tenant")
    return name


def check_user_name(user: str) -> str:
    if not _USER.match(user):
        raise InvalidInput(f"{user!r} is not a user name (pattern {USER_NAME_PATTERN})", field="user")
    return user


def whole_number(raw: str, field: str, low: int, high: int) -> int:
    """`raw` (a query or path parameter) as an integer from `low` to `high`.

    Only ASCII digits count: `str.isdigit` also accepts superscripts and other scripts' digits, which `int`
    refuses or reads, and thousands of digits would make `int` raise; each is a 422 here, never a 500.
    """
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(high)) or not low <= int(raw) <= high:
        raise InvalidInput(f"{field} is a whole number from {low:d} to {high:d}", field=field)
    return int(raw)
