"""`mockmail.routing.asgi`: the answers it sends, read back as an ASGI server would read them."""

from __future__ import annotations

import json
from typing import Any

import httpx

from mockmail.errors import TenantUnavailable
from mockmail.routing.asgi import Message, header, problem, relay, replay, respond


class Sent:
    """An ASGI `send` that keeps what it was given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        status: int = self.messages[0]["status"]
        return status

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return list(self.messages[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


def scope(path: str = "/api/v1/tenants/acme", headers: list[tuple[bytes, bytes]] | None = None) -> Message:
    return {"type": "http", "method": "GET", "path": path, "headers": headers or []}


async def test_respond_counts_the_length_again_and_drops_hop_by_hop_headers() -> None:
    sent = Sent()
    given = [
        (b"Content-Type", b"text/plain"),
        (b"Content-Length", b"999"),
        (b"Content-Encoding", b"gzip"),
        (b"Transfer-Encoding", b"chunked"),
        (b"keep-alive", b"timeout=5"),
        (b"x-kept", b"yes"),
    ]
    await respond(sent, 418, b"teapot", given)
    assert sent.status == 418
    assert sent.headers == [(b"Content-Type", b"text/plain"), (b"x-kept", b"yes"), (b"content-length", b"6")]
    assert sent.body == b"teapot"
    assert [m["type"] for m in sent.messages] == ["http.response.start", "http.response.body"]


async def test_relay_passes_every_end_to_end_header_or_only_those_named() -> None:
    answer = httpx.Response(
        401,
        headers=[("content-type", "application/json"), ("www-authenticate", "Bearer"), ("x-other", "1")],
        content=b'{"a":1}',
    )
    everything, some = Sent(), Sent()
    await relay(everything, answer)
    await relay(some, answer, only=frozenset({b"content-type", b"www-authenticate"}))
    assert (b"x-other", b"1") in everything.headers
    assert some.headers == [
        (b"content-type", b"application/json"),
        (b"www-authenticate", b"Bearer"),
        (b"content-length", b"7"),
    ]
    assert some.status == everything.status == 401
    assert some.body == everything.body == b'{"a":1}'


async def test_problem_is_the_apps_document_with_the_errors_headers() -> None:
    sent = Sent()
    error = TenantUnavailable("tenant 'acme' is moving; try again shortly", field="tenant")
    await problem(sent, scope(), error, tenants=["acme"])
    assert sent.status == 503
    assert (b"content-type", b"application/problem+json") in sent.headers
    assert (b"retry-after", b"1") in sent.headers
    document: dict[str, Any] = json.loads(sent.body)
    assert document == {
        "type": "urn:mockmail:problem:tenant-unavailable",
        "title": "Tenant unavailable",
        "status": 503,
        "detail": "tenant 'acme' is moving; try again shortly",
        "instance": "/api/v1/tenants/acme",
        "field": "tenant",
        "tenants": ["acme"],
    }


def test_header_is_the_first_of_its_name_in_any_case() -> None:
    headers = [(b"X-One", b"a"), (b"x-one", b"b"), (b"x-two", b"\xe9")]
    assert header(scope(headers=headers), b"x-one") == "a"
    assert header(scope(headers=headers), b"x-two") == "\xe9"
    assert header(scope(headers=headers), b"x-three") is None


async def test_replay_gives_back_what_was_read_then_the_rest() -> None:
    rest = [{"type": "http.request", "body": b"3", "more_body": False}]

    async def receive() -> Message:
        return rest.pop(0)

    again = replay(
        [{"type": "http.request", "body": b"1", "more_body": True}, {"type": "http.request", "body": b"2"}],
        receive,
    )
    bodies = [(await again())["body"] for _ in range(3)]
    assert bodies == [b"1", b"2", b"3"]
    assert rest == []
