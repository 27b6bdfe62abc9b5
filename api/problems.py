"""RFC 9457 problem documents: one place turns every error into `application/problem+json`.

- `DomainError` subclasses carry their own status and title.
- msgspec `ValidationError` is 422 with the offending JSON path in `field`; `DecodeError` (broken JSON) is 400.
- werkzeug `HTTPException` (unknown route, wrong method, body over the size limit) keeps its status; a 405
  carries `Allow`, a 413 names the `body`.
- Errors hypercorn answers before the app sees a request (431 for an oversized head, 400 for a malformed
  one) are problem documents too: see `hypercorn_errors.py`.
"""

from __future__ import annotations

import re

import msgspec
from quart import Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from mockmail.errors import DomainError, TenantUnavailable
from mockmail.store import FencedOut

from .schemas import Problem

__all__ = ["PROBLEM_TYPE", "field_of", "problem_response", "register"]

PROBLEM_TYPE = "urn:mockmail:problem:"
_ENCODER = msgspec.json.Encoder()

_AT = re.compile(r" - at `(?P<path>[^`]*)`$")
_KEY_IN = re.compile(r" - at `key` in `(?P<path>[^`]*)`$")
_NAMED = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]*)`")


def field_of(exc: msgspec.ValidationError) -> str:
    """The JSON path msgspec reports for a validation error (`$` for the whole body)."""
    text = str(exc)
    key_in = _KEY_IN.search(text)
    if key_in:
        return key_in["path"]
    at = _AT.search(text)
    base = at["path"] if at else "$"
    named = _NAMED.search(text)
    return f"{base}.{named['name']}" if named else base


def problem_response(
    status: int,
    title: str,
    slug: str,
    detail: str,
    field: str | None = None,
    *,
    tenants: list[str] | None = None,
    limit: str | None = None,
) -> Response:
    problem = Problem(
        type=PROBLEM_TYPE + slug,
        title=title,
        status=status,
        detail=detail,
        instance=request.path,
        field=field,
        tenants=tenants,
        limit=limit,
    )
    return Response(_ENCODER.encode(problem), status=status, content_type="application/problem+json")


def register(app: object) -> None:
    """Install the error handlers on a Quart app."""

    async def on_domain(exc: DomainError) -> Response:
        response = problem_response(exc.status, exc.title, exc.slug, exc.detail, exc.field, limit=exc.limit)
        response.headers.update(exc.response_headers)
        return response

    async def on_validation(exc: msgspec.ValidationError) -> Response:
        text = _AT.sub("", _KEY_IN.sub("", str(exc)))
        return problem_response(422, "Invalid request body", "invalid-body", text, field_of(exc))

    async def on_decode(exc: msgspec.DecodeError) -> Response:
        return problem_response(400, "Malformed JSON", "malformed-json", str(exc), "$")

    async def on_http(exc: HTTPException) -> Response:
        status = exc.code or 500
        slug = (exc.name or "error").lower().replace(" ", "-")
        field = "body" if status == 413 else None
        response = problem_response(
            status, exc.name or "Error", slug, exc.description or exc.name or "", field
        )
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            # RFC 9110 section 15.5.6: a 405 names the methods the resource does support.
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return response

    async def on_fenced(exc: FencedOut) -> Response:
        # A replica's lease ran out under the request: nothing was written, and the tenant is between
        # owners, which is what the replica router answers for it too (one type to retry on).
        return await on_domain(
            TenantUnavailable(
                f"tenant {exc.tenant!r} is not served right now: this replica's lease ran out under the"
                " request and another replica is taking it over (nothing of it was written); try again"
                " shortly",
                field="tenant",
            )
        )

    app.register_error_handler(DomainError, on_domain)  # type: ignore[attr-defined]
    app.register_error_handler(FencedOut, on_fenced)  # type: ignore[attr-defined]
    app.register_error_handler(msgspec.ValidationError, on_validation)  # type: ignore[attr-defined]
    app.register_error_handler(msgspec.DecodeError, on_decode)  # type: ignore[attr-defined]
    app.register_error_handler(HTTPException, on_http)  # type: ignore[attr-defined]
