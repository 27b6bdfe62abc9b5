"""What a session is made with, and what the driver (driver.py) drives: the tenant's and server's settings
for one session (`SessionConfig`), and the two shapes a protocol brings, its sans-IO state machine
(`SansIO`) and its quirk hooks (`Hooks`)."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import trio

from ..faults import FaultState
from ..observe.metrics import Metrics
from ..observe.transcripts import TranscriptLog
from .maildrop import MaildropLocks

__all__ = ["FollowUp", "Hooks", "SansIO", "SessionConfig", "peer_address"]


FollowUp = Callable[[], Awaitable[bool]]
"""An awaitable step after a command (a QUIT fault, a close): True when it ended the session."""


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """What a session needs to know about its tenant and server."""

    hostname: str = "mockmail.test"
    idle_timeout: float = 600.0
    line_timeout: float = 60.0
    """Seconds a started line may take to end (capped at the idle timeout): a trickling client is cut."""
    handshake_timeout: float = 10.0
    max_command_line: int = 255
    exclusive_sessions: bool = True
    tls_context: ssl.SSLContext | None = None
    faults: FaultState | None = None
    """The tenant's fault plans (shared, live); None means always compliant."""
    transcripts: TranscriptLog | None = None
    """Where the session records its lines; None records nothing."""
    locks: MaildropLocks = field(default_factory=MaildropLocks)
    """The tenant's maildrop locks, shared by every session of the tenant."""
    auth_failure_delay: float = 0.0
    """Seconds the reply to a failed login is held (this session only; the server's default is 0.5)."""
    bearer_tokens: Callable[[str], str | None] | None = None
    """The bearer token of a mailbox user (XOAUTH2, OAUTHBEARER); None offers neither mechanism."""
    metrics: Metrics | None = None
    """Where sessions, commands, faults and octets are counted; None counts nothing."""
    tenant: str = ""
    """The tenant label the metrics count under."""
    admits: Callable[[], bool] | None = None
    """Asked before each command: False (a replica's lease of the tenant ran out) ends the session with
    its last line and no reply; None (one process alone) asks nothing."""


class SansIO(Protocol):
    """What the driver needs of a protocol's state machine."""

    @property
    def mid_line(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    def receive_data(self, data: bytes | bytearray) -> None: ...
    def next_event(self) -> Any: ...
    def send_chunks(self, reply: Any) -> list[bytes]: ...
    def send_failed(self) -> None: ...


class Hooks(Protocol):
    """A session's quirk hooks (see `server/pop3_hooks.py`): the one place faults reshape the protocol."""

    def answer(self, event: Any) -> Any:
        """The reply to `event` as the plan shapes it (the handler's, rewritten), or a `FollowUp`."""

    def chunks(self, reply: Any, chunks: list[bytes]) -> list[bytes]: ...
    @property
    def delay(self) -> float:
        """Seconds to hold every flush (a tarpit); 0 for none."""


def peer_address(stream: trio.abc.Stream) -> str:
    """`host:port` of the client, or empty when the stream has no socket (memory streams in tests)."""
    sock = getattr(stream, "socket", None)
    try:
        host, port = sock.getpeername()[:2] if sock is not None else ("", 0)
    except OSError:
        return ""
    return f"{host}:{port}" if host else ""


