"""What the client sends and how it reads answers, with no I/O: shared by `Client` and `AsyncClient`.

Each REST operation of openapi.yaml is a `Call`: method, path, query, body and the struct the answer
decodes to.  The two clients differ only in how they send a call, so the paths, the encodings and the
error handling are written once, here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import msgspec

from mockmail.api.schemas import Problem

__all__ = [
    "ApiError",
    "Call",
    "MailTimeout",
    "SseParser",
    "decode",
    "file_body",
    "filter_params",
    "seed_body",
    "timeout_message",
]

T = TypeVar("T")

JSON = "application/json"
RAW = "message/rfc822"
MBOX = "application/mbox"

_ENCODER = msgspec.json.Encoder()


class ApiError(Exception):
    """The server refused a call: `status` and the RFC 9457 `problem` document it answered with."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.status = problem.status
        where = f" ({problem.field})" if problem.field else ""
        super().__init__(f"{problem.status} {problem.title}: {problem.detail}{where}")


class MailTimeout(TimeoutError):
    """`wait_for` ran out of time: `messages` are those that passed its filters then (fewer than it
    wanted), `held` everything the mailbox held; the text names both and the filters."""

    def __init__(self, message: str, messages: list[Any], held: list[Any] | None = None) -> None:
        super().__init__(message)
        self.messages = messages
        self.held: list[Any] = held if held is not None else []


def filter_params(**filters: str | None) -> dict[str, str]:
    """The query parameters of the filters given (`subject=`, `sender=`, `to=`, `text=`, `q=`)."""
    return {name: value for name, value in filters.items() if value is not None}


HELD_SHOWN = 10
"""Messages a `MailTimeout` describes one by one; the rest are counted."""


def timeout_message(
    where: str, count: int, timeout: float, filters: dict[str, str], match: Any, passed: int, held: list[Any]
) -> str:
    """What `MailTimeout` says: what was waited for, what passed, and what the mailbox held instead."""
    asked = [f"{name} containing {value!r}" for name, value in filters.items()]
    if match is not None:
        asked.append(f"match={getattr(match, '__name__', repr(match))}")
    what = f"{count:d} message(s)" + (" with " + ", ".join(asked) if asked else "")
    shown = [f"{m.subject!r} from {m.sender!r}" for m in held[:HELD_SHOWN]]
    if len(held) > HELD_SHOWN:
        shown.append(f"and {len(held) - HELD_SHOWN:d} more")
    contents = ": " + "; ".join(shown) if shown else ""
    return (
        f"{where}: no {what} after {timeout:g} s ({passed:d} passed); "
        f"the mailbox held {len(held):d} message(s){contents}"
    )


API = "/api/v1"


def segment(value: str) -> str:
    """One path segment, percent-encoded (a user may be `alice@example.com`)."""
    return quote(value, safe="")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the type its answer decodes to (`None`: no body; `bytes`: the raw body)."""

    method: str
    path: str
    result: Any
    params: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None
    accept: str = JSON
    timeout: float | None = None
    """Seconds beyond the client's own timeout this call may take (a long-poll's wait)."""

    def headers(self) -> dict[str, str]:
        headers = {"Accept": self.accept}
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        return headers


def json_call(method: str, path: str, result: type[T], payload: Any, **extra: Any) -> Call[T]:
    return Call(method, path, result, body=_ENCODER.encode(payload), content_type=JSON, **extra)


def decode(call: Call[T], status: int, content: bytes, reason: str) -> T:
    """The answer's value, or `ApiError` for any status of 400 and above."""
    if status >= 400:
        raise ApiError(problem_of(status, content, reason))
    if call.result is None:
        return None  # type: ignore[return-value]
    if call.result is bytes:
        return content  # type: ignore[return-value]
    if call.result is str:
        return content.decode()  # type: ignore[return-value]
    result: T = msgspec.json.decode(content, type=call.result)
    return result


def problem_of(status: int, content: bytes, reason: str) -> Problem:
    """The problem document of an error answer; one made up from the status when the body is not one."""
    try:
        return msgspec.json.decode(content, type=Problem)
    except msgspec.DecodeError:  # a proxy's page, or an empty body
        text = content.decode(errors="replace").strip()[:500]
        return Problem(type="about:blank", title=reason or "Error", status=status, detail=text or reason)


def seed_body(raw: bytes | str | Path | None, fields: dict[str, Any]) -> tuple[bytes, str]:
    """The body and content type of a seed: raw bytes, a file (.eml or mbox), or fields to compose."""
    if raw is None:
        return _ENCODER.encode(fields), JSON
    if fields:
        raise TypeError("seed() takes raw bytes or a file, or message fields, not both")
    if isinstance(raw, str | Path):
        return file_body(Path(raw))
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw), RAW
    raise TypeError(f"seed() takes bytes, a path or message fields, not {type(raw).__name__}")


def file_body(path: Path) -> tuple[bytes, str]:
    """A file's content and its type: mbox when named `.mbox` or opening with a `From ` line, else one
    message (.eml).  Raises OSError when it cannot be read."""
    content = path.read_bytes()
    is_mbox = path.suffix.lower() == ".mbox" or content.startswith(b"From ")
    return content, MBOX if is_mbox else RAW


_FIELD = re.compile(r"^([a-z]+): ?(.*)$")


class SseParser:
    """Server-Sent Events, a line at a time: `feed(line)` returns the data of each complete `line` event."""

    def __init__(self) -> None:
        self.event = "message"
        self.data: list[str] = []
        self.comments = 0
        """Comment lines seen; the server opens each stream with one, once it is subscribed."""

    def feed(self, line: str) -> str | None:
        if line == "":
            event, data = self.event, self.data
            self.event, self.data = "message", []
            return "\n".join(data) if event == "line" and data else None
        if line.startswith(":"):
            self.comments += 1
            return None
        found = _FIELD.match(line)
        if found is not None:
            name, value = found.groups()
            if name == "event":
                self.event = value
            elif name == "data":
                self.data.append(value)
        return None


def tenant_path(tenant: str) -> str:
    return f"{API}/tenants/{segment(tenant)}"


def mailbox_path(tenant: str, user: str) -> str:
    return f"{tenant_path(tenant)}/mailboxes/{segment(user)}"


def message_path(tenant: str, user: str, message_id: str) -> str:
    return f"{mailbox_path(tenant, user)}/messages/{segment(message_id)}"
