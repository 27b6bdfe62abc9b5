"""The raw ASGI pieces shared by the apps in front of others (the workers' gateway, the replica router).

Rules they keep:
- An answer made here is sent whole, with its length counted again from the body: hop-by-hop headers
  (`forward.HOP_BY_HOP`) and any `Content-Length` or `Content-Encoding` given are dropped, since an
  `httpx` answer's `content` is already decoded.
- A problem document is the one the app writes (`api/problems.py`): RFC 9457, `instance` the request's
  path, the error's `Retry-After` or `WWW-Authenticate` on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import httpx
import msgspec

from mockmail.api.problems import PROBLEM_TYPE
from mockmail.api.schemas import Problem

from ..errors import DomainError
from .forward import HOP_BY_HOP

__all__ = ["Message", "Receive", "Send", "header", "problem", "relay", "replay", "respond"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_ENCODER = msgspec.json.Encoder()
_RECOUNTED = HOP_BY_HOP | {b"content-length", b"content-encoding"}


def header(scope: Message, name: bytes) -> str | None:
    """The first value of request header `name` (lower case), or None."""
    for key, value in scope["headers"]:
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives back `messages` first (already read), then the rest of the request."""
    pending = list(messages)

    async def again() -> Message:
        return pending.pop(0) if pending else await receive()

    return again


async def respond(
    send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Send a whole answer: the end-to-end `headers`, and the length of `body`."""
    kept = [(bytes(k), bytes(v)) for k, v in headers if bytes(k).lower() not in _RECOUNTED]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*kept, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def relay(send: Send, answer: httpx.Response, *, only: frozenset[bytes] | None = None) -> None:
    """Send `answer` (read whole) on: its end-to-end headers, or only those named in `only`."""
    raw = list(answer.headers.raw)
    if only is not None:
        raw = [(k, v) for k, v in raw if k.lower() in only]
    await respond(send, answer.status_code, answer.content, raw)


async def problem(
    send: Send, scope: Message, error: DomainError, *, tenants: list[str] | None = None
) -> None:
    """Answer `error` as the app would: its problem document, status and headers."""
    document = Problem(
        type=PROBLEM_TYPE + error.slug,
        title=error.title,
        status=error.status,
        detail=error.detail,
        instance=scope["path"],
        field=error.field,
        tenants=tenants,
        limit=error.limit,
    )
    headers = [(b"content-type", b"application/problem+json")]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.response_headers.items()]
    await respond(send, error.status, _ENCODER.encode(document), headers)
