"""Keep-alive connections stay usable when the API answers before a request body has arrived.

The bug below mockmail (hypercorn 0.18 with quart-trio; `docs/upstream/hypercorn_early_answer.py`
reproduces it without mockmail): when a response ends while the request body is still on its way,
hypercorn sees its side DONE and the client's side still sending, so it closes the connection, and does
so from inside the app's final `send`.  That same call queues `http.disconnect` for the app; quart-trio's
message task receives it and cancels the request's nursery, which cancels the half-done close at its first
checkpoint.  The socket is never closed, the read loop stays paused for a request cycle that never starts,
and the next request on that connection is never answered (CLOSE-WAIT forever, and a slow shutdown).

`KeepAliveGuard` wraps the ASGI app and fixes both halves:
- it holds back the end of such a response until the rest of the body has arrived (up to `drain_limit`
  octets and `drain_timeout` seconds), so the client's side is DONE too and hypercorn starts the next
  cycle: the next request on the connection is answered;
- once a response has ended it withholds `http.disconnect` from the app (the app has nothing left to do
  with it), so nothing cancels hypercorn's close or its recycling half-way;
- a response to a request that declares a body larger than `drain_limit` says `connection: close`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import trio

__all__ = ["KeepAliveGuard"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[..., Awaitable[None]]

DRAIN_TIMEOUT = 10.0
"""Seconds an early answer waits for the rest of its request body before the connection is closed."""


def _declared_body(headers: list[tuple[bytes, bytes]]) -> tuple[bool, int | None]:
    """Whether the request has a body, and its Content-Length when it declares one."""
    length: int | None = None
    has_body = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            has_body = True
            try:
                length = int(value)
            except ValueError:
                length = None
        elif lowered == b"transfer-encoding":
            has_body = True
    return has_body and length != 0, length


class _Exchange:
    __slots__ = ("body_done", "finished", "received")

    def __init__(self, has_body: bool) -> None:
        self.body_done = trio.Event()
        if not has_body:
            self.body_done.set()
        self.finished = False
        self.received = 0


class KeepAliveGuard:
    """ASGI middleware; see the module docstring.

    Args:
        app: the ASGI application to wrap.
        drain_limit: the most request-body octets an early answer waits for (the API's request limit).
        drain_timeout: the longest it waits for them.
    """

    def __init__(self, app: App, *, drain_limit: int, drain_timeout: float = DRAIN_TIMEOUT) -> None:
        self.app = app
        self.drain_limit = drain_limit
        self.drain_timeout = drain_timeout

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        has_body, length = _declared_body(scope.get("headers", []))
        exchange = _Exchange(has_body)
        too_large = length is not None and length > self.drain_limit

        async def guarded_receive() -> Message:
            message = await receive()
            kind = message["type"]
            if kind == "http.request":
                exchange.received += len(message.get("body", b""))
                if not message.get("more_body", False) or exchange.received > self.drain_limit:
                    exchange.body_done.set()
            elif kind == "http.disconnect":
                if exchange.finished:
                    # The response is over; the app's reader would only cancel hypercorn's close or
                    # recycle in the middle.  The app ends its request task itself right after.
                    await trio.sleep_forever()
                exchange.body_done.set()
            return message

        async def guarded_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start" and too_large and not exchange.body_done.is_set():
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            elif kind == "http.response.body" and not message.get("more_body", False):
                if not exchange.body_done.is_set() and not too_large:
                    if message.get("body"):
                        await send({"type": "http.response.body", "body": message["body"], "more_body": True})
                    with trio.move_on_after(self.drain_timeout):
                        await exchange.body_done.wait()
                    message = {"type": "http.response.body", "body": b"", "more_body": False}
                exchange.finished = True
            await send(message)

        await self.app(scope, guarded_receive, guarded_send)
