"""Problem documents for the errors hypercorn answers itself, before any request reaches the app.

When h11 cannot read a request head (over `h11_max_incomplete_size`: 431; malformed: 400), hypercorn's
`H11Protocol._send_error_response` answers with an empty body and closes.  Every other error of the API
is an RFC 9457 document, so `install()` replaces that one method with one that sends a problem document
(same status, same `connection: close`).  `tests/api/test_contract_edges.py` checks it against a real
server, so a hypercorn upgrade that renames the method turns the suite red instead of going unnoticed.
"""

from __future__ import annotations

import http
from typing import Any

import h11
import msgspec
from hypercorn.protocol.h11 import H11Protocol

from .problems import PROBLEM_TYPE
from .schemas import Problem

__all__ = ["install", "problem_body"]

_ENCODER = msgspec.json.Encoder()


def problem_body(status: int, max_head: int) -> bytes:
    """The problem document for an error answered before the request reached the app."""
    phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "Error"
    if status == 431:
        detail = f"the request line and header fields are over {max_head} octets together"
        field: str | None = "headers"
    else:
        detail = "the request line or header fields are not valid HTTP/1.1 (RFC 9112)"
        field = None
    problem = Problem(
        type=PROBLEM_TYPE + phrase.lower().replace(" ", "-"),
        title=phrase,
        status=status,
        detail=detail,
        field=field,
    )
    return _ENCODER.encode(problem)


async def _send_problem(self: Any, status_code: int) -> None:
    body = problem_body(status_code, self.config.h11_max_incomplete_size)
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", b"%d" % len(body)),
        (b"connection", b"close"),
        *self.config.response_headers("h11"),
    ]
    await self._send_h11_event(h11.Response(status_code=status_code, headers=headers))
    await self._send_h11_event(h11.Data(data=body))
    await self._send_h11_event(h11.EndOfMessage())


def install() -> None:
    """Make hypercorn's own HTTP/1.1 error answers problem documents (idempotent)."""
    if not hasattr(H11Protocol, "_send_error_response"):  # pragma: no cover - guarded by a test
        raise RuntimeError("hypercorn.protocol.h11.H11Protocol has no _send_error_response to replace")
    H11Protocol._send_error_response = _send_problem  # type: ignore[method-assign]
