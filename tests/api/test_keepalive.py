"""api/keepalive.py: answers given before a request body arrives leave the keep-alive connection usable.

Raw HTTP/1.1 over real sockets against a running server: the client sends a request's head, reads the
whole early answer, and only then sends the body, followed by the next request on the same connection.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import trio

from mockmail.api.keepalive import KeepAliveGuard
from mockmail.config.settings import Settings
from mockmail.main import Running, serve


class HttpConnection:
    """Just enough HTTP/1.1 over one trio stream: send bytes, read one response with Content-Length."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def response(self) -> tuple[int, dict[str, str], bytes] | None:
        """The next response, or None when the server closed the connection first."""
        while b"\r\n\r\n" not in self.buffer:
            data = await self.stream.receive_some(65536)
            if not data:
                return None
            self.buffer += data
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            data = await self.stream.receive_some(65536)
            if not data:
                return None
            self.buffer += data
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    async def closed_by_server(self) -> bool:
        return await self.stream.receive_some(1) == b""


def head(method: str, path: str, length: int, content_type: str = "application/json") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


HEALTH = b"GET /api/v1/health HTTP/1.1\r\nHost: test\r\n\r\n"

# Requests that the API answers from the path, method or headers alone, before reading the body.
EARLY = [
    ("POST", "/api/v1/health", "application/json", 405),
    ("POST", "/api/v1/no-such-thing", "application/json", 404),
    ("POST", "/api/v1/tenants/ghost/mailboxes/bob/messages", "message/rfc822", 404),
    ("PUT", "/api/v1/tenants/Bad_Name/faults", "application/json", 422),
    ("POST", "/api/v1/tenants", "text/plain", 415),
]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def fds_settle_at(baseline: int) -> int:
    """Wait (at most 10 s) until the process holds no more descriptors than `baseline`; return the count."""
    with trio.move_on_after(10):
        while open_fds() > baseline:
            await trio.sleep(0.01)
    return open_fds()


@pytest.fixture(name="api_port")
async def _api_port(nursery: trio.Nursery) -> Any:
    running: Running = await nursery.start(serve, Settings(api_port=0, max_request_size=4096))
    yield int(running.api_url.rsplit(":", 1)[1])
    running.stop.set()


async def connect(port: int) -> HttpConnection:
    return HttpConnection(await trio.open_tcp_stream("127.0.0.1", port))


@pytest.mark.parametrize(("method", "path", "content_type", "status"), EARLY)
async def test_the_next_request_after_an_early_answer_is_answered(
    api_port: int, method: str, path: str, content_type: str, status: int
) -> None:
    conn = await connect(api_port)
    body = b'{"name": "late-body"}'
    await conn.send(head(method, path, len(body), content_type))
    first = await conn.response()
    assert first is not None and first[0] == status
    assert first[1]["content-type"] == "application/problem+json"
    await conn.send(body + HEALTH)
    with trio.fail_after(5):
        second = await conn.response()
    assert second is not None and second[0] == 200
    await conn.stream.aclose()


async def test_a_thousand_early_answers_leak_nothing(api_port: int) -> None:
    baseline = open_fds()
    answered = 0

    async def client(rounds: int) -> None:
        nonlocal answered
        conn = await connect(api_port)
        for i in range(rounds):
            method, path, content_type, status = EARLY[i % len(EARLY)]
            body = b"x" * (1 + i % 700)
            await conn.send(head(method, path, len(body), content_type))
            first = await conn.response()
            assert first is not None and first[0] == status
            await conn.send(body + HEALTH)
            with trio.fail_after(10):  # unguarded, some of these are never answered
                second = await conn.response()
            assert second is not None and second[0] == 200
            answered += 1
        await conn.send(b"GET /api/v1/health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        assert (await conn.response()) is not None
        assert await conn.closed_by_server()
        await conn.stream.aclose()

    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            for _ in range(50):
                nursery.start_soon(client, 20)
    assert answered == 1000
    assert await fds_settle_at(baseline) <= baseline


async def test_a_body_over_the_limit_is_answered_and_the_connection_closed(api_port: int) -> None:
    baseline = open_fds()
    conn = await connect(api_port)
    await conn.send(head("POST", "/api/v1/tenants", 1_000_000))
    first = await conn.response()
    assert first is not None and first[0] == 413
    assert first[1].get("connection") == "close"
    with trio.fail_after(5):
        assert await conn.closed_by_server()
    await conn.stream.aclose()
    assert await fds_settle_at(baseline) <= baseline


async def test_a_body_that_never_comes_ends_in_a_close(autojump_clock: trio.abc.Clock) -> None:
    """The guard waits `drain_timeout` for the rest of the body, then ends the response."""
    sent: list[dict[str, Any]] = []
    inbox_send, inbox_receive = trio.open_memory_channel[dict[str, Any]](10)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 405, "headers": []})
        await send({"type": "http.response.body", "body": b"no", "more_body": False})

    async def record(message: Any) -> None:
        sent.append(dict(message))

    guard = KeepAliveGuard(app, drain_limit=100, drain_timeout=7.0)
    scope = {"type": "http", "headers": [(b"content-length", b"10")]}
    start = trio.current_time()
    await guard(scope, inbox_receive.receive, record)
    assert trio.current_time() - start == pytest.approx(7.0)
    assert [m.get("body") for m in sent[1:]] == [b"no", b""]
    assert [m.get("more_body") for m in sent[1:]] == [True, False]
    inbox_send.close()


async def test_disconnect_is_withheld_once_the_response_is_over() -> None:
    """After the last body message the app's reader must not see `http.disconnect` (it would cancel the
    server's close); before it, a disconnect reaches the app as usual."""
    seen: list[str] = []
    inbox_send, inbox_receive = trio.open_memory_channel[dict[str, Any]](10)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async with trio.open_nursery() as nursery:

            async def reader() -> None:
                while True:
                    message = await receive()
                    seen.append(message["type"])
                    if message["type"] == "http.disconnect":
                        nursery.cancel_scope.cancel()
                        return

            nursery.start_soon(reader)
            await inbox_send.send({"type": "http.request", "body": b"", "more_body": False})
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok", "more_body": False})
            with trio.move_on_after(1) as waited:
                await trio.sleep_forever()
            assert waited.cancelled_caught, "the reader saw the disconnect and cancelled the request"
            nursery.cancel_scope.cancel()

    async def server_send(message: Any) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            await inbox_send.send({"type": "http.disconnect"})  # what hypercorn does while closing

    guard = KeepAliveGuard(app, drain_limit=100)
    await guard({"type": "http", "headers": []}, inbox_receive.receive, server_send)
    assert seen == ["http.request"]


def _bare_app() -> Any:
    """The app of docs/upstream/hypercorn_early_answer.py (one GET route, nothing of mockmail), guarded."""
    from quart_trio import QuartTrio

    app = QuartTrio("bare")

    @app.get("/only-get")
    async def only_get() -> str:
        return "ok"

    app.asgi_app = KeepAliveGuard(app.asgi_app, drain_limit=1000)  # type: ignore[method-assign]
    return app


def _blocking_client(port: int, tries: int) -> list[str]:
    """What happens to the request after an early answer, `tries` times, from a plain blocking client in
    its own thread (as in the upstream reproduction: the bug depends on the peer's timing)."""
    import socket

    outcomes = []
    for _ in range(tries):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.settimeout(2)
            sock.sendall(b"POST /only-get HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(65536)
            assert head.startswith(b"HTTP/1.1 405")
            sock.sendall(b"0123456789GET /only-get HTTP/1.1\r\nHost: x\r\n\r\n")
            seen = head.partition(b"\r\n\r\n")[2]
            try:
                while b"HTTP/1.1 200" not in seen:
                    data = sock.recv(65536)
                    if not data:
                        break
                    seen += data
                outcomes.append("answered" if b"HTTP/1.1 200" in seen else "closed")
            except TimeoutError:
                outcomes.append("hung")
    return outcomes


async def _next_request_outcomes(nursery: trio.Nursery, tries: int) -> list[str]:
    from functools import partial

    import hypercorn.config
    import hypercorn.trio

    config = hypercorn.config.Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    binds = await nursery.start(partial(hypercorn.trio.serve, _bare_app(), config))
    return await trio.to_thread.run_sync(_blocking_client, int(binds[0].rsplit(":", 1)[1]), tries)


async def test_the_guard_fixes_the_bare_reproduction(nursery: trio.Nursery) -> None:
    """Unguarded, this app left the next request hanging in about 7 of 10 tries on this machine, but
    not every run (it is a race), so only the guarded side is asserted; the 1,000-request test above
    hung when the guard was taken out."""
    assert await _next_request_outcomes(nursery, tries=20) == ["answered"] * 20
