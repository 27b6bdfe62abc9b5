"""`mockmail.routing.forward` against a real upstream: hypercorn serving a small ASGI app on a Unix socket,
reached by httpx; the calling side is driven as an ASGI server would drive it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, MutableMapping
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import hypercorn.config
import hypercorn.trio
import pytest
import trio

from mockmail.routing import Unreachable, forward

Message = MutableMapping[str, Any]


async def upstream(scope: Message, receive: Any, send: Any) -> None:
    """Echoes what it got (headers and body) as JSON; `/endless` streams until the client goes."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    headers = [
        (b"content-type", b"application/json"),
        (b"keep-alive", b"timeout=5"),
        (b"x-private", b"1"),
        (b"connection", b"x-private"),
        (b"x-end-to-end", b"yes"),
    ]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    if scope["path"] == "/endless":
        while True:
            await send({"type": "http.response.body", "body": b"tick\n", "more_body": True})
            await trio.sleep(0.01)
    echo = {
        "path": scope["path"],
        "query": scope["query_string"].decode(),
        "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
        "body": body.decode(),
    }
    await send({"type": "http.response.body", "body": json.dumps(echo).encode()})


@pytest.fixture(name="socket_path")
async def _socket_path(nursery: trio.Nursery, tmp_path: Path) -> AsyncIterator[str]:
    path = str(tmp_path / "up.sock")
    config = hypercorn.config.Config()
    config.bind = [f"unix:{path}"]
    config.accesslog = None
    stop = trio.Event()
    app: Any = upstream
    await nursery.start(partial(hypercorn.trio.serve, app, config, shutdown_trigger=stop.wait))
    yield path
    stop.set()


class Caller:
    """The ASGI server's side of one call: the request's messages in, what the app sends recorded."""

    def __init__(self, body_parts: list[bytes], disconnect_after: int | None = None) -> None:
        self.incoming = [
            {"type": "http.request", "body": part, "more_body": n < len(body_parts) - 1}
            for n, part in enumerate(body_parts or [b""])
        ]
        self.sent: list[Message] = []
        self.disconnect_after = disconnect_after
        self.gone = trio.Event()

    async def receive(self) -> Message:
        if self.incoming:
            return self.incoming.pop(0)
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        bodies = [m for m in self.sent if m["type"] == "http.response.body"]
        if self.disconnect_after is not None and len(bodies) >= self.disconnect_after:
            self.gone.set()

    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


def scope_of(
    path: str, headers: list[tuple[bytes, bytes]], method: str = "POST", query: bytes = b""
) -> Message:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers,
    }


async def test_bodies_and_end_to_end_headers_pass_hop_by_hop_ones_do_not(socket_path: str) -> None:
    caller = Caller([b"first ", b"second ", b"third"])
    headers = [
        (b"host", b"api.example"),
        (b"authorization", b"Bearer abc"),
        (b"connection", b"keep-alive, x-hop"),
        (b"x-hop", b"1"),
        (b"keep-alive", b"timeout=5"),
        (b"transfer-encoding", b"chunked"),
        (b"te", b"trailers"),
        (b"upgrade", b"h2c"),
        (b"proxy-authorization", b"Basic xyz"),
    ]
    async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=socket_path)) as client:
        status = await forward(
            scope_of("/a/b", headers, query=b"wait=1"), caller.receive, caller.send, client, "http://up"
        )
    assert status == 201
    start = caller.sent[0]
    assert start["type"] == "http.response.start" and start["status"] == 201
    returned = dict(start["headers"])
    assert returned[b"x-end-to-end"] == b"yes"
    assert not {b"keep-alive", b"connection", b"x-private", b"transfer-encoding"} & set(returned)
    echo = json.loads(caller.body())
    assert (echo["path"], echo["query"], echo["body"]) == ("/a/b", "wait=1", "first second third")
    seen = echo["headers"]
    assert seen["host"] == "api.example" and seen["authorization"] == "Bearer abc"
    assert not {"x-hop", "keep-alive", "te", "upgrade", "proxy-authorization"} & set(seen)
    assert caller.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_a_whole_body_goes_with_its_length(socket_path: str) -> None:
    caller = Caller([b'{"name": "x"}'])
    async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=socket_path)) as client:
        await forward(scope_of("/t", [(b"host", b"h")]), caller.receive, caller.send, client, "http://up")
    echo = json.loads(caller.body())
    assert echo["headers"]["content-length"] == "13" and "transfer-encoding" not in echo["headers"]
    assert echo["body"] == '{"name": "x"}'


async def test_an_upstream_that_is_not_there_is_unreachable_and_nothing_is_sent(tmp_path: Path) -> None:
    caller = Caller([b""])
    transport = httpx.AsyncHTTPTransport(uds=str(tmp_path / "nobody.sock"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(Unreachable):
            await forward(scope_of("/", [], "GET"), caller.receive, caller.send, client, "http://up")
    assert caller.sent == []


async def test_a_client_that_goes_away_ends_an_endless_stream(socket_path: str) -> None:
    caller = Caller([b""], disconnect_after=3)
    async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=socket_path)) as client:
        with trio.fail_after(30):  # a bound on a hang, not a measurement
            await forward(scope_of("/endless", [], "GET"), caller.receive, caller.send, client, "http://up")
    assert caller.body().startswith(b"tick\n")
