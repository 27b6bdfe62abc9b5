"""`forward`: hand one ASGI HTTP request to another HTTP server and stream its answer back.

A reverse proxy at the ASGI level, for any upstream `httpx.AsyncClient` can reach: a worker's Unix socket
(`httpx.AsyncHTTPTransport(uds=...)`) or a replica over TCP.  It knows nothing of tenants or workers.

Rules it keeps:
- The request body streams upstream as it arrives, and the response body streams back as it comes (a
  long-poll, or a `text/event-stream` that never ends), so neither side is held in memory whole.
- Hop-by-hop headers (RFC 9110 section 7.6.1: `Connection` and the headers it names, `Keep-Alive`,
  `Proxy-*`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`) are not passed on, either way.  `Host` is
  kept, so the upstream sees what the client asked for.
- An upstream that cannot be reached, or that breaks before its answer begins, raises `Unreachable`
  and nothing has been sent: the caller answers (e.g. a 503 problem document), never a hang.  One that
  breaks mid-answer aborts the client's response (the exception propagates, and the ASGI server closes
  the connection), since a truncated body must not pass for a whole one.
- A client that goes away ends the forwarding at once: the upstream stream is closed with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import trio

__all__ = ["HOP_BY_HOP", "Unreachable", "forward", "request_headers"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


class Unreachable(Exception):
    """The upstream gave no answer: it refused or dropped the connection before its status line."""


def _end_to_end(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers that are not hop-by-hop (`Connection: x, y` makes `x` and `y` hop-by-hop too)."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP | named]


def request_headers(scope: Message) -> list[tuple[bytes, bytes]]:
    """The end-to-end headers of an ASGI request (what `forward` sends upstream)."""
    return _end_to_end([(bytes(name), bytes(value)) for name, value in scope["headers"]])


def _target(scope: Message) -> str:
    path = scope.get("raw_path") or scope["path"].encode("utf-8")
    query = scope.get("query_string") or b""
    return (bytes(path) + (b"?" + bytes(query) if query else b"")).decode("latin-1")


async def _body(first: Message, receive: Receive, done: trio.Event) -> AsyncIterator[bytes]:
    message = first
    while True:
        if message["type"] == "http.disconnect":
            raise trio.BrokenResourceError("the client went away while sending its body")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            done.set()
            return
        message = await receive()


async def forward(
    scope: Message,
    receive: Receive,
    send: Send,
    client: httpx.AsyncClient,
    base_url: str,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> int:
    """Pass the request of `scope` to `base_url` (its path and query appended) and relay the answer.

    Args:
        scope, receive, send: the ASGI HTTP call being answered.
        client: the client whose transport reaches the upstream (the caller closes it); its timeouts
            apply, so give it no read timeout if long-polls and event streams are to pass.
        base_url: scheme and authority of the upstream, e.g. `http://worker` for a Unix socket.
        headers: the request headers to send instead of the client's (hop-by-hop ones still dropped).

    Returns:
        The upstream's status code, once the whole answer is relayed.

    Raises:
        Unreachable: no answer came; nothing was sent to the client.
    """
    sent = _end_to_end(headers) if headers is not None else request_headers(scope)
    first = await receive()
    has_length = any(name.lower() == b"content-length" for name, _ in sent)
    content: bytes | AsyncIterator[bytes] | None
    body_read = trio.Event()
    if first["type"] == "http.request" and not first.get("more_body", False):
        content = first.get("body", b"") or None  # whole already: sent with its length, or none
        if content is not None and not has_length:
            sent.append((b"content-length", str(len(content)).encode()))
        body_read.set()
    else:
        content = _body(first, receive, body_read)  # chunked upstream unless the client gave a length
    request = client.build_request(scope["method"], base_url + _target(scope), headers=sent, content=content)
    try:
        response = await client.send(request, stream=True)
    except httpx.TransportError as exc:
        raise Unreachable(str(exc) or type(exc).__name__) from exc
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_watch_disconnect, receive, nursery.cancel_scope, body_read)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": _end_to_end(list(response.headers.raw)),
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            with trio.CancelScope(shield=True):
                await response.aclose()
            nursery.cancel_scope.cancel()
    return response.status_code


async def _watch_disconnect(receive: Receive, scope: trio.CancelScope, body_read: trio.Event) -> None:
    """Cancel the relay when the client disconnects (only once its body has been read: until then,
    `receive` belongs to the body stream)."""
    await body_read.wait()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return
