"""`Pop3Connection`: the server side of one POP3 session, without I/O.

The shape is h11's: `receive_data(bytes)` only buffers (`b""` means end of file), `next_event()` returns the
next client event or `NEED_DATA`, and `send(reply)` returns the bytes to write and moves the state.  It never
touches a socket or a clock; the adapter in `mockmail.server` decides outcomes (was the password right?)
and this object checks that what it sends is legal for the state and renders it.

Every event except `ConnectionClosed` must be answered before the next one is read: that keeps replies in
command order when a client pipelines (RFC 2449 section 6.6).  During an AUTH exchange, each `Continue`
reply makes the next line a `SaslResponse` instead of a command.
"""

from __future__ import annotations

from ._errors import LocalProtocolError
from ._events import (
    NEED_DATA,
    Apop,
    Auth,
    BadCommand,
    Command,
    ConnectionClosed,
    Continue,
    Err,
    Event,
    Greeting,
    NeedData,
    Pass,
    Reply,
    SaslResponse,
    TlsReady,
    User,
)
from ._parser import MAX_COMMAND_LINE, MAX_SASL_LINE, TOO_LONG, LineBuffer, parse_command
from ._quirks import COMPLIANT
from ._state import ALLOWED, ANSWERS, RECEIVE_TRANSITIONS, SEND_TRANSITIONS, State
from ._writer import write_chunks

__all__ = ["Pop3Connection"]


class Pop3Connection:
    """Server side of a POP3 session as a pure state machine.

    Args:
        max_command_line: longest command line accepted, CRLF included (RFC 2449: 255).
        max_sasl_line: longest AUTH continuation line accepted, CRLF included.
        secure: True when the transport is already TLS (implicit-TLS listener).
    """

    __slots__ = (
        "_buffer",
        "_eof",
        "_greeted",
        "_in_sasl",
        "_max_sasl_line",
        "_pending",
        "max_command_line",
        "quirks",
        "secure",
        "state",
        "trailing_data",
        "user",
    )

    def __init__(
        self,
        *,
        max_command_line: int = MAX_COMMAND_LINE,
        max_sasl_line: int = MAX_SASL_LINE,
        secure: bool = False,
    ) -> None:
        self.state = State.AUTHORIZATION
        self.secure = secure
        self.user: str | None = None
        """The name a successful USER gave, waiting for PASS."""
        self.trailing_data = b""
        """Bytes that were buffered when STLS was accepted; they are discarded, never parsed."""
        self.quirks = COMPLIANT
        """Named departures from the RFC (see _quirks.py); the adapter sets them, compliant by default."""
        self.max_command_line = max_command_line
        """Longest command line accepted, CRLF included; the adapter may change it (a fault plan's limit)."""
        self._max_sasl_line = max_sasl_line
        self._buffer = LineBuffer()
        self._pending: Command | BadCommand | None = None
        self._in_sasl = False
        self._greeted = False
        self._eof = False

    @property
    def pending(self) -> Command | BadCommand | None:
        """The event that waits for its (final) reply, if any."""
        return self._pending

    @property
    def closed(self) -> bool:
        """The session is over: QUIT answered, or a write failed."""
        return self.state is State.CLOSED

    @property
    def mid_line(self) -> bool:
        """Part of a client line is buffered without its end (meaningful when `next_event` needs data)."""
        return self._buffer.mid_line

    @property
    def in_sasl_exchange(self) -> bool:
        return self._in_sasl

    def receive_data(self, data: bytes | bytearray) -> None:
        """Add bytes from the peer; `b""` means the peer closed its side."""
        if data:
            self._buffer.feed(data)
        else:
            self._eof = True

    def next_event(self) -> Event | NeedData:
        """Return the next client event, or `NEED_DATA` when no complete line is buffered.

        Raises:
            LocalProtocolError: the previous event has not been answered yet, or the session is closed.
        """
        if self.state is State.CLOSED:
            raise LocalProtocolError("the session is closed")
        if self._pending is not None and not self._in_sasl:
            raise LocalProtocolError(f"answer {self._pending!r} before reading the next command")
        limit = self._max_sasl_line if self._in_sasl else self.max_command_line
        line = self._buffer.next_line(limit)
        if line is None:
            return ConnectionClosed() if self._eof else NEED_DATA
        if line is TOO_LONG:
            too_long = BadCommand(f"line too long (limit {limit} octets including CRLF)")
            if not self._in_sasl:
                self._pending = too_long
            return too_long
        assert isinstance(line, bytes)
        if self._in_sasl:
            return SaslResponse(line.decode("ascii", "replace").strip())
        parsed = parse_command(line, self.quirks)
        if isinstance(parsed, BadCommand):
            self._pending = parsed
            return parsed
        return self._accept(parsed)

    def _accept(self, command: Command) -> Command | BadCommand:
        kind = type(command)
        lax = self.quirks.lax_states
        if kind not in ALLOWED[self.state]:
            reason = (
                f"{command.verb} not implemented"
                if lax
                else f"{command.verb} not allowed in {self.state.name} state"
            )
            refused = BadCommand(reason, command.verb)
            self._pending = refused
            return refused
        if kind is Pass and self.user is None:
            if lax:
                self.user = ""  # the legacy server accepted PASS alone, for the empty user name
            else:
                refused = BadCommand("PASS must follow a successful USER", "PASS")
                self._pending = refused
                return refused
        self._pending = command
        self.state = RECEIVE_TRANSITIONS.get((self.state, kind), self.state)
        return command

    def send(self, reply: Reply) -> bytes:
        """Render `reply` as the answer to the pending event and move the state.

        Raises:
            LocalProtocolError: the reply is not a legal answer now; nothing was changed.
        """
        return b"".join(self.send_chunks(reply))

    def send_chunks(self, reply: Reply) -> list[bytes]:
        """Like `send`, but return the bytes as chunks, so a large message body is never copied."""
        if isinstance(reply, Greeting):
            if self._greeted:
                raise LocalProtocolError("the greeting was already sent")
            data = write_chunks(reply)
            self._greeted = True
            return data
        if not self._greeted:
            raise LocalProtocolError("send the greeting before any other reply")
        pending = self._pending
        if pending is None:
            raise LocalProtocolError(f"no command is waiting for {type(reply).__name__}")
        kind = type(reply)
        if kind is not Err and (isinstance(pending, BadCommand) or kind not in ANSWERS[type(pending)]):
            raise LocalProtocolError(f"{kind.__name__} cannot answer {pending!r}")
        data = write_chunks(reply, self.quirks, type(pending))

        if kind is Continue:
            self._in_sasl = True
        else:
            self._pending = None
            self._in_sasl = False
        if isinstance(pending, User):
            self.user = pending.name if kind is not Err else None
        elif isinstance(pending, (Pass, Apop, Auth)) and kind is not Continue:
            self.user = None
        self.state = SEND_TRANSITIONS.get((self.state, kind), self.state)
        if kind is TlsReady:
            # RFC 2595 section 4 / CVE-2011-0411: nothing sent in plaintext before the handshake may count
            # as a command after it.
            self.trailing_data = self._buffer.take_all()
            self.secure = True
        return data

    def send_failed(self) -> None:
        """Record that writing to the peer failed: the session is over."""
        self.state = State.CLOSED
