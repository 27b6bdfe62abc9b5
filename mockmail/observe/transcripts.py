"""Session transcripts: every session of every protocol, line by line, kept per tenant in a bounded ring.

Rules kept here:
- Secrets never enter a transcript: each protocol's `describe` (its core's `_transcript.py`, reached through
  `mockmail.protocols`) shows passwords, digests and SASL lines as `********`; the session records the
  parsed event, never the raw line.
- Message bodies are summarized (octets and lines), never copied: a retrieved message's, and the content
  of the events a protocol marks as `carries_content` (SMTP's DATA and BDAT).
- Recording is an append of a small tuple; texts are turned into structs only when the API reads them.
- Finished sessions go into a ring of `limit` sessions per tenant; live ones are listed too.  Subscribers
  (the Server-Sent Events stream) get each line as it is recorded, and are dropped if they fall behind.
- With a `Keeper` (a server with a SQL store: `--data-dir`, `--store`), each finished session is also
  written down as it ends, after its last reply is out: one small write, numbered in the order sessions
  finished, the oldest beyond `limit` dropped.  A failed write is logged and the session is not told.
  `load` brings them back (a restart, a replica claiming the tenant) as `KeptSession`s, which answer the
  API as the recorders did.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Iterable
from typing import Literal, Protocol

import msgspec
import trio

from ..protocols import PROTOCOLS, ProtocolName, describe_event

__all__ = [
    "Finished",
    "Keeper",
    "KeptSession",
    "Recorder",
    "SessionDetail",
    "SessionSummary",
    "TranscriptLine",
    "TranscriptLog",
    "describe",
]

log = logging.getLogger("mockmail.transcripts")

SECRET = "********"
"""What a secret (a password, a SASL line) shows as."""
Direction = Literal["C", "S", "fault", "end"]


class TranscriptLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One line: `C` from the client, `S` from the server, `fault` when a fault fired, `end` at the end."""

    at: float
    """Unix time in seconds."""
    dir: Direction
    text: str


class SessionSummary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A session of any protocol, in brief."""

    id: str
    tenant: str
    protocol: ProtocolName
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


def describe(event: object, protocol_name: str | None = None) -> str:
    """The client's line as a transcript shows it, secrets redacted, by the protocol that parsed it (by
    default, whichever registered protocol knows the event)."""
    if protocol_name is not None:
        return describe_event(protocol_name, event)
    for entry in PROTOCOLS:
        text = entry.describe(event)
        if text is not None:
            return text
    return repr(event)


_ids = itertools.count(1)


def _number_past(session_id: str) -> None:
    """Number this process's next sessions past `session_id` (one kept by another process), so that no
    new session of the tenant takes an id it already lists."""
    global _ids
    _, _, tail = session_id.rpartition("-")
    if tail.isdigit():
        upcoming = next(_ids)
        _ids = itertools.count(max(upcoming, int(tail) + 1))

SESSION_LINES = 10_000
"""Lines one session's transcript keeps (the first ones, and its end); a session that sends messages for
days would otherwise grow its transcript without bound."""

_CARRIES_CONTENT = frozenset(kind for entry in PROTOCOLS for kind in entry.carries_content)
"""Client events that hold message content: a transcript keeps their description only."""


def _text(direction: Direction, payload: object, extra: object, protocol_name: str) -> str:
    """Format a recorded line (done when read, not when recorded)."""
    if direction == "C":
        return payload if isinstance(payload, str) else describe_event(protocol_name, payload)
    if direction == "S":
        status = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
        if isinstance(extra, tuple):
            return f"{status} [{extra[0]:d} octets, {extra[1]:d} lines]"
        if isinstance(extra, int):
            return f"{status} [{extra:d} lines]"
        return status
    return str(payload)


_JOINED = object()
"""The `extra` of a transcript entry that holds several server lines (`Recorder.server_lines`)."""


def _split(block: object) -> list[str]:
    assert isinstance(block, bytes)
    return block.decode("utf-8", "replace").split("\r\n")


class Recorder:
    """The transcript of one live session; the session appends, the log publishes.

    Recording is on every command's path, so it stores what it was given (the parsed event, the reply's
    first line as bytes, a count) and formats nothing until the API reads it (bench/: 15 us a session).
    """

    __slots__ = (
        "_joined",
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

    def __init__(self, log: TranscriptLog, peer: str, protocol: ProtocolName) -> None:
        self.log = log
        self.protocol: ProtocolName = protocol
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
        self._joined = 0
        """Lines beyond the first of each joined entry (`server_lines`): kept lines are those plus entries."""

    def client(self, event: object) -> None:
        self.commands += 1
        if type(event) in _CARRIES_CONTENT:
            # Described now, not kept: the event holds the whole message (or chunk), which the
            # transcript would otherwise keep alive, beside the stored copy, for as long as it lives.
            event = describe_event(self.protocol, event)
        self._add("C", event, None)

    def server(self, status: bytes | str, extra: tuple[int, int] | int | None = None) -> None:
        """A reply: its first line, and (octets, lines) of a message body or the line count of a listing."""
        self._add("S", status, extra)

    def server_lines(self, block: bytes) -> None:
        """Server lines rendered together (a FETCH answer of many messages), CRLF between them and none at
        the end: one transcript line each, kept as one entry and split when the transcript is read."""
        count = block.count(b"\r\n") + 1
        if len(self.lines) + self._joined + count > SESSION_LINES or self.log.subscribers:
            for line in block.split(b"\r\n"):  # the limit falls inside, or lines go out live one by one
                self._add("S", line, None)
            return
        self._joined += count - 1
        self.lines.append((time.time(), "S", block, _JOINED))

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
        if len(self.lines) + self._joined < SESSION_LINES or direction == "end":
            self.lines.append(entry)
        else:
            self.dropped += 1  # a session that runs for days keeps a bounded transcript
        if self.log.subscribers:
            self.log.publish(self, entry[0], direction, _text(direction, payload, extra, self.protocol))

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
                TranscriptLine(at=at, dir=d, text=text)
                for at, d, payload, extra in self.lines
                for text in (
                    _split(payload) if extra is _JOINED else (_text(d, payload, extra, self.protocol),)
                )
            ],
        )


_DETAIL_ENCODER = msgspec.json.Encoder()
_DETAIL_DECODER = msgspec.json.Decoder(SessionDetail)
_SUMMARY_FIELDS = SessionSummary.__struct_fields__


class KeptSession:
    """A finished session read back from the store (recorded before a restart, or by another replica)."""

    __slots__ = ("_detail",)

    def __init__(self, detail: SessionDetail) -> None:
        self._detail = detail

    @property
    def id(self) -> str:
        return self._detail.id

    @property
    def user(self) -> str | None:
        return self._detail.user

    def summary(self) -> SessionSummary:
        detail = self._detail
        return SessionSummary(**{name: getattr(detail, name) for name in _SUMMARY_FIELDS})

    def detail(self) -> SessionDetail:
        return self._detail


Finished = Recorder | KeptSession
"""A session in the ring: finished here, or kept from before."""


class Keeper(Protocol):
    """Where a tenant's finished transcripts are written down (the server's SQL store)."""

    def keep(self, number: int, data: bytes, limit: int) -> None:
        """Keep the `number`th finished session's transcript; forget those `limit` or more before it."""

    def forget(self) -> None:
        """Forget every kept transcript of the tenant."""


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
        self.limit = limit
        self.live: dict[str, Recorder] = {}
        self.done: deque[Finished] = deque(maxlen=limit)
        self.subscribers: set[trio.MemorySendChannel[LiveLine]] = set()
        self.keeper: Keeper | None = None
        """Where finished transcripts are written down; None: memory only."""
        self.number = 0
        """The number of the last finished session written down (counted on from the kept ones)."""

    def start(self, peer: str, protocol: ProtocolName) -> Recorder:
        recorder = Recorder(self, peer, protocol)
        self.live[recorder.id] = recorder
        return recorder

    def finished(self, recorder: Recorder) -> None:
        self.live.pop(recorder.id, None)
        self.done.append(recorder)
        if self.keeper is not None:
            self._keep(self.keeper, recorder)

    def _keep(self, keeper: Keeper, recorder: Recorder) -> None:
        """Write the finished session down; a failure (the store gone, the tenant fenced out) is logged
        here: the session that finished never hears of it."""
        self.number += 1
        try:
            keeper.keep(self.number, _DETAIL_ENCODER.encode(recorder.detail()), self.limit)
        except Exception as exc:
            log.warning("tenant %s: the transcript of session %s was not kept: %s", self.tenant, recorder.id, exc)

    def load(self, kept: Iterable[tuple[int, bytes]]) -> None:
        """Bring back the transcripts a `Keeper` kept, oldest first, before this log's own; a transcript
        that cannot be read is skipped (logged)."""
        for number, data in kept:
            self.number = max(self.number, number)
            try:
                detail = _DETAIL_DECODER.decode(data)
            except msgspec.DecodeError as exc:
                log.warning("tenant %s: kept transcript %d cannot be read: %s", self.tenant, number, exc)
                continue
            _number_past(detail.id)
            self.done.append(KeptSession(detail))

    def sessions(self, user: str | None = None, limit: int | None = None) -> list[Finished]:
        """Newest first: live sessions, then finished ones."""
        found = [
            r for r in (*reversed(self.live.values()), *reversed(self.done)) if user is None or r.user == user
        ]
        return found[:limit] if limit is not None else found

    def get(self, session_id: str) -> Finished | None:
        return self.live.get(session_id) or next((r for r in self.done if r.id == session_id), None)

    def clear(self) -> int:
        """Forget the finished sessions (kept ones too); return how many there were."""
        if self.keeper is not None:
            self.keeper.forget()
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
