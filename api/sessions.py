"""`/api/v1/tenants/{tenant}/sessions`: POP3 and SMTP session transcripts, and a live stream of their lines.

The stream is Server-Sent Events: one `event: line` per transcript line, with a JSON `data` of
`{"session", "user", "at", "dir", "text"}`, so a test can wait for "the client sent QUIT" without polling.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import trio
from quart import Blueprint, Response, request

from mockmail.errors import DomainError
from mockmail.observe.transcripts import TranscriptLog
from mockmail.tenancy.service import Service

from .http import check_tenant_name, json_response, no_content, whole_number

__all__ = ["blueprint"]

_ENCODER = msgspec.json.Encoder()
KEEPALIVE = 15.0  # seconds between SSE comments, so proxies keep an idle stream open


class SessionNotFound(DomainError):
    status = 404
    title = "Session not found"
    slug = "session-not-found"


def _limit() -> int | None:
    raw = request.args.get("limit")
    if raw is None:
        return None
    return whole_number(raw, "limit", 1, 100_000)


def blueprint(service: Service) -> Blueprint:
    bp = Blueprint("sessions", __name__)

    def log(tenant: str) -> TranscriptLog:
        return service.transcripts(check_tenant_name(tenant))

    @bp.get("/tenants/<tenant>/sessions")
    async def list_sessions(tenant: str) -> Response:
        found = log(tenant).sessions(request.args.get("user"), _limit())
        return json_response([recorder.summary() for recorder in found])

    @bp.delete("/tenants/<tenant>/sessions")
    async def clear_sessions(tenant: str) -> Response:
        log(tenant).clear()
        return no_content()

    @bp.get("/tenants/<tenant>/sessions/stream")
    async def stream_sessions(tenant: str) -> Response:
        lines = log(tenant).subscribe()
        only = request.args.get("user")

        async def events() -> AsyncIterator[bytes]:
            with lines:
                yield b": mockmail transcript stream\n\n"
                while True:
                    with trio.move_on_after(KEEPALIVE):
                        async for line in lines:
                            if only is None or line.user == only:
                                yield b"event: line\ndata: " + _ENCODER.encode(line) + b"\n\n"
                        return  # the log dropped this subscriber (it fell behind): end the stream
                    yield b": keep-alive\n\n"

        response = Response(events(), status=200, content_type="text/event-stream")
        response.headers["Cache-Control"] = "no-store"
        response.timeout = None
        return response

    @bp.get("/tenants/<tenant>/sessions/<session_id>")
    async def get_session(tenant: str, session_id: str) -> Response:
        recorder = log(tenant).get(session_id)
        if recorder is None:
            raise SessionNotFound(
                f"no session {session_id!r} in this tenant's transcripts", field="session_id"
            )
        return json_response(recorder.detail())

    return bp
