"""Session transcripts: every POP3 and SMTP session, line by line, kept per tenant in a bounded ring.

Rules kept here:
- Secrets never enter a transcript: PASS, APOP digests, AUTH initial responses and SASL lines (POP3 and
  SMTP) are replaced by `********` when shown (the session records the parsed event, never the raw line).
- Message bodies are summarized (octets and lines), never copied: RETR's, and SMTP's DATA and BDAT content.
- Recording is an append of a small tuple; texts are turned into structs only when the API reads them.
- Finished sessions go into a ring of `limit` sessions per tenant; live ones are listed too.  Subscribers
  (the Server-Sent Events stream) get each line as it is recorded, and are dropped if they fall behind.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

import msgspec
import trio

from .. import smtp
from ..pop3 import Apop, Auth, BadCommand, Command, List, Pass, SaslResponse, Top, Uidl, User

__all__ = ["Recorder", "SessionDetail", "SessionSummary", "TranscriptLine", "TranscriptLog", "describe"]

SECRET = "********"
Direction = Literal["C", "S", "fault", "end"]
Protocol = Literal["pop3", "smtp"]


class TranscriptLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One line: `C` from the client, `S` from the server, `fault` when a fault fired, `end` at the end."""

    at: float
    """Unix time in seconds."""
    dir: Direction
    text: str


class SessionSummary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A POP3 or SMTP session in brief."""

    id: str
    tenant: str
    protocol: Protocol
    peer: str
    user: str | None
    started: float
    ended: float | None
    end: str | None
    """How it ended: quit, client eof, idle timeout, client gone, a fault, server shutdown; null while open."""
    commands: int
    faults: list[str]


class SessionDetail(SessionSummary, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A session with every line."""

    lines: list[TranscriptLine]


def _user(event: User) -> str:
    return f"USER {event.name}"


def _auth(event: Auth) -> str:
    if event.mechanism is None:
        return "AUTH"
    return f"AUTH {event.mechanism}" + (f" {SECRET}" if event.initial_response is not None else "")


def _optional_msg(event: List | Uidl) -> str:
    return event.verb if event.msg is None else f"{event.verb} {event.msg:d}"


_DESCRIBE: dict[type, Callable[..., str]] = {
    User: _user,
    Pass: lambda event: f"PASS {SECRET}",
    Apop: lambda event: f"APOP {event.name} {SECRET}",
    Auth: _auth,
    SaslResponse: lambda event: "*" if event.cancelled else SECRET,
    BadCommand: lambda event: f"(refused: {event.reason})",
    List: _optional_msg,
    Uidl: _optional_msg,
    Top: lambda event: f"TOP {event.msg:d} {event.lines:d}",
}


def _params(params: dict[str, str | None]) -> str:
    return "".join(f" {key}" if value is None else f" {key}={value}" for key, value in params.items())


def _smtp_auth(event: smtp.Auth) -> str:
    return f"AUTH {event.mechanism}" + (f" {SECRET}" if event.initial_response is not None else "")


_DESCRIBE.update(
    {
        smtp.Ehlo: lambda event: f"EHLO {event.domain}",
        smtp.Helo: lambda event: f"HELO {event.domain}",
        smtp.Mail: lambda event: f"MAIL FROM:<{event.address}>{_params(event.params)}",
        smtp.Rcpt: lambda event: f"RCPT TO:<{event.address}>{_params(event.params)}",
        smtp.MessageData: lambda event: (
            f"(message: {event.size:d} octets" + (f", refused: {event.problem})" if event.problem else ")")
        ),
        smtp.Bdat: lambda event: f"BDAT {event.size:d}{' LAST' if event.last else ''}",
        smtp.Vrfy: lambda event: f"VRFY {event.argument}",
        smtp.Auth: _smtp_auth,
        smtp.AuthResponse: lambda event: "*" if event.cancelled else SECRET,
        smtp.BadCommand: lambda event: f"(refused: {event.reason})",
    }
)


def describe(event: object) -> str:
    """The client's line as a transcript shows it, secrets redacted."""
    describer = _DESCRIBE.get(type(event))
    if describer is not None:
        return describer(event)
    if isinstance(event, Command):
        msg = getattr(event, "msg", None)
        return event.verb if msg is None else f"{event.verb} {msg:d}"
    if isinstance(event, smtp.Command):
        return event.verb
    return repr(event)


_ids = itertools.count(1)

SESSION_LINES = 10_000
"""Lines one session's transcript keeps (the first ones, and its end); a session that sends messages for
days would otherwise grow its transcript without bound."""

_CARRIES_CONTENT = frozenset({smtp.MessageData, smtp.Bdat})
"""Client events that hold message content: a transcript keeps their description only."""


def _text(direction: Direction, payload: object, extra: object) -> str:
    """Format a recorded line (done when read, not when recorded)."""
    if direction == "C":
        return payload if isinstance(payload, str) else describe(payload)
    if direction == "S":
        status = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
        if isinstance(extra, tuple):
            return f"{status} [{extra[0]:d} octets, {extra[1]:d} lines]"
        if isinstance(extra, int):
            return f"{status} [{extra:d} lines]"
        return status
    return str(payload)


class Recorder:
    """The transcript of one live session; the session appends, the log publishes.

    Recording is on every command's path, so it stores what it was given (the parsed event, the reply's
    first line as bytes, a count) and formats nothing until the API reads it (bench/: 15 us a session).
    """

    __slots__ = (
        "commands",
        "dropped",
        "end",
        "ended",
        "faults",
        "id",
        "lines",
        "log",
        "peer",
        "protocol",
        "started",
        "user",
    )

    def __init__(self, log: TranscriptLog, peer: str, protocol: Protocol = "pop3") -> None:
        self.log = log
        self.protocol: Protocol = protocol
        self.id = f"{log.tenant}-{next(_ids):d}"
        self.peer = peer
        self.user: str | None = None
        self.started = time.time()
        self.ended: float | None = None
        self.end: str | None = None
        self.commands = 0
        self.dropped = 0
        """Lines not kept once the transcript held SESSION_LINES (the live stream still sees them)."""
        self.faults: list[str] = []
        self.lines: list[tuple[float, Direction, object, object]] = []

    def client(self, event: object) -> None:
        self.commands += 1
        if type(event) in _CARRIES_CONTENT:
            # Described now, not kept: the event holds the whole message (or chunk), which the
            # transcript would otherwise keep alive, beside the stored copy, for as long as it lives.
            event = describe(event)
        self._add("C", event, None)

    def server(self, status: bytes | str, extra: tuple[int, int] | int | None = None) -> None:
        """A reply: its first line, and (octets, lines) of a message body or the line count of a listing."""
        self._add("S", status, extra)

    def fault(self, name: str) -> None:
        self.faults.append(name)
        self._add("fault", name, None)

    def finish(self, reason: str) -> None:
        if self.ended is None:
            self.ended = time.time()
            self.end = reason
            note = f"{reason} ({self.dropped:d} lines after the first {SESSION_LINES:,d} not kept)"
            self._add("end", note if self.dropped else reason, None)
            self.log.finished(self)

    def _add(self, direction: Direction, payload: object, extra: object) -> None:
        entry = (time.time(), direction, payload, extra)
        if len(self.lines) < SESSION_LINES or direction == "end":
            self.lines.append(entry)
        else:
            self.dropped += 1  # a session that runs for days keeps a bounded transcript
        if self.log.subscribers:
            self.log.publish(self, entry[0], direction, _text(direction, payload, extra))

    def summary(self) -> SessionSummary:
        return SessionSummary(
            id=self.id,
            tenant=self.log.tenant,
            protocol=self.protocol,
            peer=self.peer,
            user=self.user,
            started=self.started,
            ended=self.ended,
            end=self.end,
            commands=self.commands,
            faults=list(self.faults),
        )

    def detail(self) -> SessionDetail:
        return SessionDetail(
            **msgspec.structs.asdict(self.summary()),
            lines=[
                TranscriptLine(at=at, dir=d, text=_text(d, payload, extra))
                for at, d, payload, extra in self.lines
            ],
        )


class LiveLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line as the live stream sends it."""

    session: str
    user: str | None
    at: float
    dir: Direction
    text: str


class TranscriptLog:
    """A tenant's transcripts: the live sessions and a ring of the last `limit` finished ones."""

    def __init__(self, tenant: str, limit: int = 1000) -> None:
        self.tenant = tenant
        self.live: dict[str, Recorder] = {}
        self.done: deque[Recorder] = deque(maxlen=limit)
        self.subscribers: set[trio.MemorySendChannel[LiveLine]] = set()

    def start(self, peer: str, protocol: Protocol = "pop3") -> Recorder:
        recorder = Recorder(self, peer, protocol)
        self.live[recorder.id] = recorder
        return recorder

    def finished(self, recorder: Recorder) -> None:
        self.live.pop(recorder.id, None)
        self.done.append(recorder)

    def sessions(self, user: str | None = None, limit: int | None = None) -> list[Recorder]:
        """Newest first: live sessions, then finished ones."""
        found = [
            r for r in (*reversed(self.live.values()), *reversed(self.done)) if user is None or r.user == user
        ]
        return found[:limit] if limit is not None else found

    def get(self, session_id: str) -> Recorder | None:
        return self.live.get(session_id) or next((r for r in self.done if r.id == session_id), None)

    def clear(self) -> int:
        count = len(self.done)
        self.done.clear()
        return count

    def publish(self, recorder: Recorder, at: float, direction: Direction, text: str) -> None:
        line = LiveLine(session=recorder.id, user=recorder.user, at=at, dir=direction, text=text)
        for channel in list(self.subscribers):
            try:
                channel.send_nowait(line)
            except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                self.subscribers.discard(channel)  # too slow or gone: the stream ends, the client reconnects
                channel.close()

    def subscribe(self, buffer: int = 1000) -> trio.MemoryReceiveChannel[LiveLine]:
        send, receive = trio.open_memory_channel[LiveLine](buffer)
        self.subscribers.add(send)
        return receive
