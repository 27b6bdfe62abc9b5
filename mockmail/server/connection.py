"""`Pop3Session`: drives the sans-IO `Pop3Connection` over a trio stream for one client.

Who closes what: the session never closes its stream; the listener's handler (trio.serve_tcp) does, with
`aclose_forcefully`, once `run` returns or is cancelled.  The session releases the maildrop lock in a
`finally`, so a cancelled or vanished client never keeps a mailbox locked.

Deletions happen in exactly one place, `_on_QUIT` in UPDATE state, in one synchronous block: a client that
disconnects, times out or is cancelled at any other moment deletes nothing (RFC 1939 section 6).

Replies are collected and written when the parser needs more input, so pipelined commands are answered in
order with one write (RFC 2449 section 6.6).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from .. import __version__
from ..auth import authenticate, challenge, password_credentials
from ..faults import COMPLIANT as COMPLIANT_SESSION
from ..faults import (
    Bandwidth,
    CloseAfter,
    FaultState,
    GreetingDelay,
    Latency,
    Reset,
    Slicer,
    Stall,
    TransportFault,
    TruncateRetr,
)
from ..pop3 import (
    NEED_DATA,
    Apop,
    Auth,
    BadCommand,
    Capa,
    Command,
    ConnectionClosed,
    Continue,
    Dele,
    DropStat,
    Err,
    Goodbye,
    Greeting,
    List,
    Listing,
    LoggedIn,
    MessageContent,
    Noop,
    Ok,
    Pass,
    Pop3Connection,
    Quit,
    Reply,
    Retr,
    Rset,
    SaslResponse,
    ScanLine,
    ScanListing,
    Stat,
    State,
    Stls,
    TlsReady,
    Top,
    Uidl,
    UidLine,
    UidListing,
    User,
)
from ..sasl import (
    MECHANISMS,
    Challenge,
    Credentials,
    Mechanism,
    SaslFailure,
    apop_credentials,
    decode_response,
)
from ..store import Mailbox, MailStore, Message
from ..transcripts import Recorder, TranscriptLog
from .maildrop import MaildropLocks, SessionMaildrop, wire_body

__all__ = ["RECEIVE_SIZE", "Pop3Session", "SessionConfig"]

log = logging.getLogger("mockmail.pop3")

RECEIVE_SIZE = 65536
BAD_GREETINGS = {
    "err": b"-ERR [SYS/TEMP] service not available, closing\r\n",
    "garbage": b"* OK [CAPABILITY IMAP4rev1] this is not a POP3 server\r\n",
}
MULTI_LINE = (Listing, ScanListing, UidListing, MessageContent)
OVERCLAIMED = ["STLS", "SASL GSSAPI XOAUTH2", "LOGIN-DELAY 900", "UTF8", "LANG"]
BAD_COMMAND_BUDGET = 20
"""Consecutive refused lines before the session is closed: a client that only sends garbage should not
hold a session (and a maildrop lock) until autologout.  Any accepted command resets the count."""
HALF_CLOSE_DRAIN = 5.0
"""Seconds a fault's close waits for the client to close its side (see `_half_close`)."""
IDLE_SLACK = 1.0
"""Seconds an autologout may come late (never early: RFC 1939 asks for at least ten minutes)."""
LARGE_CHUNK = 65536
"""A chunk this large (a message body) is written on its own rather than copied into a joined buffer."""


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


def _peer(stream: trio.abc.Stream) -> str:
    sock = getattr(stream, "socket", None)
    try:
        host, port = sock.getpeername()[:2] if sock is not None else ("", 0)
    except OSError:
        return ""
    return f"{host}:{port}" if host else ""


def _reset(stream: trio.abc.Stream) -> None:
    """Close the TCP connection with a reset (SO_LINGER 0) instead of a FIN."""
    raw = getattr(stream, "transport_stream", stream)
    sock = getattr(raw, "socket", None)
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    close = getattr(raw, "close", None)
    if close is not None:
        close()


def _reply_extra(reply: Reply) -> tuple[int, int] | int | None:
    """What a transcript notes after a reply's first line: a body's octets and lines, a listing's lines."""
    if isinstance(reply, MessageContent):
        return (reply.body.size, reply.body.lines)
    if isinstance(reply, Listing):
        return len(reply.lines)
    if isinstance(reply, (ScanListing, UidListing)):
        return len(reply.entries)
    return None


class _PeerGone(Exception):
    """Writing to the client failed: it is gone."""


class _FaultEnd(Exception):
    """A wire fault ended the session; the message is the end reason."""


class Pop3Session:
    """One POP3 session on an accepted stream.

    Args:
        stream: the accepted connection (plain TCP; wrapped in TLS here for STLS or implicit TLS).
        store: the tenant's mailboxes; a login never sees another tenant's store.
        config: limits, TLS and locking rules of the tenant.
        implicit_tls: do the TLS handshake before the greeting (the POP3S listener).
    """

    # Slots, not a __dict__: ten thousand idle sessions are ten thousand of these (bench/).
    __slots__ = (
        "_answered",
        "_answering",
        "_bad_in_a_row",
        "_fault_version",
        "_idle",
        "_mailbox",
        "_outbox",
        "_sasl",
        "_timeout",
        "config",
        "conn",
        "end_reason",
        "faults_fired",
        "implicit_tls",
        "maildrop",
        "quirks",
        "recorder",
        "store",
        "stream",
        "timestamp",
        "user",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        store: MailStore,
        config: SessionConfig,
        *,
        implicit_tls: bool = False,
    ) -> None:
        self.stream = stream
        self.store = store
        self.config = config
        self.implicit_tls = implicit_tls
        self.conn = Pop3Connection(max_command_line=config.max_command_line, secure=implicit_tls)
        self.timestamp = challenge(config.hostname)
        self.user: str | None = None
        self.maildrop: SessionMaildrop | None = None
        self.end_reason = "running"
        self._mailbox: Mailbox | None = None
        self._sasl: Mechanism | None = None
        self._outbox: list[bytes] = []
        self._idle = trio.CancelScope()
        """One scope for the whole session: its deadline is the autologout (counted from the last answered
        command, RFC 1939 section 3) or, while a line is half-sent, that line's own shorter deadline."""
        self.quirks = COMPLIANT_SESSION
        """The fault quirks this session drew (compliant unless the tenant has a plan)."""
        self.faults_fired: list[str] = []
        self._fault_version = 0
        self._timeout = config.idle_timeout
        """Autologout, or the fault plan's read/write deadline."""
        self.recorder: Recorder | None = None
        self._answering: str | None = None
        """The verb of the command being answered (None for the greeting): wire faults can target it."""
        self._answered = 0
        self._bad_in_a_row = 0

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self) -> str:
        """Serve the session until it ends; return why it ended.

        The loop is written out in this one coroutine on purpose: an idle session is a suspended stack
        of coroutine frames, and every frame fewer is memory saved ten thousand times (bench/).
        """
        conn = self.conn
        idle = self._idle
        if self.config.transcripts is not None:
            self.recorder = self.config.transcripts.start(_peer(self.stream))
        recorder = self.recorder
        try:
            if self.implicit_tls and not await self._start_tls():
                return self.end_reason
            faults = self.config.faults
            if faults is not None and faults.version != self._fault_version:
                self._draw_faults(faults)
            greeting = Greeting("mockmail POP3 server ready", self.timestamp)
            if self.quirks.greeting == "ok":
                self._emit(greeting)
            else:
                self.conn.send(greeting)  # the core's bookkeeping; the wire gets the quirk's bytes instead
                self._fault(f"greeting ({self.quirks.greeting})")
                self._outbox.append(BAD_GREETINGS[self.quirks.greeting])
                if self.quirks.greeting == "err":
                    await self._flush()
                    self.end_reason = "fault: greeting refused"
                    return self.end_reason
            idle.deadline = trio.current_time() + self._timeout + IDLE_SLACK
            line_started: float | None = None
            answered_at_read = 0
            line_cut = False
            with idle:
                while conn.state is not State.CLOSED:
                    if faults is not None and faults.version != self._fault_version:
                        self._draw_faults(faults)  # a plan change reaches open sessions at their next command
                    event = conn.next_event()
                    if event is NEED_DATA:
                        if self._outbox:
                            await self._flush()
                        now = trio.current_time()
                        if self._answered != answered_at_read:
                            # A command was answered since the last read: autologout counts from here.
                            # Move the deadline only when it would fall short of a full idle period:
                            # moving it on every line costs a heap update each time (bench/).  The
                            # timeout then lies between the idle timeout and IDLE_SLACK more.
                            answered_at_read = self._answered
                            line_started = None
                            line_cut = False
                            if idle.deadline < now + self._timeout:
                                idle.deadline = now + self._timeout + IDLE_SLACK
                        if line_started is None and conn.mid_line:
                            # A line has begun: bytes that do not end it move no deadline, and the line
                            # gets its own, shorter one, counted from the read that began it.
                            line_started = now
                            cut = now + min(self.config.line_timeout, self._timeout)
                            if cut < idle.deadline:
                                idle.deadline = cut
                                line_cut = True
                        try:
                            data = await self.stream.receive_some(RECEIVE_SIZE)
                        except (trio.BrokenResourceError, trio.ClosedResourceError):
                            data = b""
                        conn.receive_data(data)
                        continue
                    if isinstance(event, ConnectionClosed):
                        self.end_reason = "client eof"
                        return self.end_reason
                    if recorder is not None:
                        recorder.client(event)
                    if type(event) is not BadCommand:
                        self._bad_in_a_row = 0
                    self._answering = getattr(event, "verb", None) or "?"
                    self._answered += 1
                    if faults is not None and faults.version:
                        if isinstance(event, Quit) and await self._quit_fault():
                            return self.end_reason
                        reply = self._scripted(faults, event) or self._HANDLERS[type(event)](self, event)
                    else:
                        reply = self._HANDLERS[type(event)](self, event)
                    self._emit(reply)
                    if self._bad_in_a_row >= BAD_COMMAND_BUDGET:
                        await self._flush()
                        self.end_reason = "too many bad commands"
                        return self.end_reason
                    if type(reply) is LoggedIn and faults is not None and self.user in faults.mailbox_plans:
                        self._fault_version = -1  # the mailbox's own plan applies from login on
                    elif (
                        self.quirks.errors_close
                        and type(reply) is Err
                        and isinstance(event, (Retr, Top, Dele))
                    ):
                        await self._flush()
                        self._fault("errors_close")
                        self.end_reason = "fault: error closed the connection"
                        return self.end_reason
                    if isinstance(reply, TlsReady):
                        await self._flush()  # the +OK must go out in plaintext, before the handshake
                        if not await self._start_tls():
                            return self.end_reason
                if self._outbox:
                    await self._flush()
                self.end_reason = "quit"
            if idle.cancelled_caught:
                # RFC 1939 section 3: on autologout, close without a response and without entering UPDATE.
                self.end_reason = "line timeout" if line_cut else "idle timeout"
        except _PeerGone:
            self.end_reason = "client gone"
        except _FaultEnd as end:
            self.end_reason = str(end)
        except trio.Cancelled:
            self.end_reason = "server shutdown"
            raise
        except Exception:
            log.exception("POP3 session failed")
            self.end_reason = "internal error"
            with (
                trio.move_on_after(1, shield=True),
                contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
            ):
                await self.stream.send_all(b"-ERR [SYS/TEMP] internal server error\r\n")
        finally:
            self._release()
            if recorder is not None:
                recorder.finish(self.end_reason)
        return self.end_reason

    # --- faults ------------------------------------------------------------------------------------

    def _draw_faults(self, faults: FaultState) -> None:
        self.quirks = faults.session_faults(self.user)
        self.conn.quirks = self.quirks.core
        self._fault_version = faults.version
        deadline = self.quirks.deadline
        self._timeout = self.config.idle_timeout if deadline is None else deadline
        limit = self.quirks.line_limit
        self.conn.max_command_line = self.config.max_command_line if limit is None else limit.octets
        for name in self.quirks.fired:
            self._fault(f"{name} (drawn)")

    def _fault(self, name: str) -> None:
        self.faults_fired.append(name)
        if self.recorder is not None:
            self.recorder.fault(name)

    def _scripted(self, faults: FaultState, event: object) -> Reply | None:
        if not isinstance(event, Command):
            return None
        hit = faults.scripted_reply(self.user, event.verb, getattr(event, "msg", None))
        if hit is None:
            return None
        name, line = hit
        self._fault(name)
        self._sasl = None
        return Err(line[len("-ERR ") :] if line.startswith("-ERR ") else "")

    async def _quit_fault(self) -> bool:
        """Apply a QUIT fault that fired; True when the session is over (no +OK was sent)."""
        fault = self.quirks.quit
        if fault is None or fault.reply == "ok":
            return False
        drop = self.maildrop
        if fault.commit and self.conn.state is State.UPDATE and drop is not None:
            drop.commit()
        self._fault(f"quit ({fault.reply})")
        if self._outbox:
            await self._flush()
        self.conn.send_failed()
        if fault.reply == "drop":
            self.end_reason = "fault: QUIT dropped"
            return True
        # hang: say nothing, keep the socket open until the client gives up (or the idle timer ends it)
        await self._drain()
        self.end_reason = "fault: QUIT hung, client closed"
        return True

    async def _drain(self) -> None:
        """Read and drop what the client sends until it closes or goes away: a fault that says nothing.

        A reset is as normal an end here as a FIN (the client gave up), not an internal error.
        """
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            while await self.stream.receive_some(RECEIVE_SIZE):
                pass

    async def _send_faulty(
        self, faults: FaultState, data: bytes, hits: list[tuple[str, TransportFault]]
    ) -> None:
        """Send one flush's bytes through the wire faults that fired (the one place they act)."""
        for name, _ in hits:
            self._fault(name)
        kinds = {type(fault): fault for _, fault in hits}
        if Stall in kinds:
            await self._drain()  # say nothing until the client gives up
            raise _FaultEnd(f"fault: stalled on {self._answering}")
        if Reset in kinds:
            _reset(self.stream)
            raise _FaultEnd(f"fault: TCP reset on {self._answering}")
        for fault in (kinds.get(Latency), kinds.get(GreetingDelay)):
            if isinstance(fault, Latency):
                await trio.sleep(
                    max(0.0, fault.ms + faults.uniform(-fault.jitter_ms, fault.jitter_ms)) / 1000
                )
            elif isinstance(fault, GreetingDelay):
                await trio.sleep(fault.ms / 1000)
        truncate = kinds.get(TruncateRetr)
        if isinstance(truncate, TruncateRetr) and self._answering == "RETR":
            data = data[: truncate.after_bytes]
        piece, pause = len(data) or 1, 0.0
        bandwidth, slicer = kinds.get(Bandwidth), kinds.get(Slicer)
        if isinstance(bandwidth, Bandwidth):
            piece = max(1, bandwidth.bytes_per_second // 20)
            pause = piece / bandwidth.bytes_per_second
        if isinstance(slicer, Slicer):
            piece, pause = min(piece, slicer.size), max(pause, slicer.delay_ms / 1000)
        try:
            for start in range(0, len(data), piece):
                if start and pause:
                    await trio.sleep(pause)
                await self.stream.send_all(data[start : start + piece])
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.conn.send_failed()
            raise _PeerGone from None
        if isinstance(truncate, TruncateRetr) and self._answering == "RETR":
            raise _FaultEnd(f"fault: RETR cut after {truncate.after_bytes:d} octets")
        if CloseAfter in kinds:
            await self._half_close()
            raise _FaultEnd(f"fault: closed after {self._answered:d} commands")

    async def _half_close(self) -> None:
        """End the session so that every client sees the same thing: end of file, never a reset.

        Closing at once would race the client's next command: if it had arrived, the kernel answers the
        close with a reset; if not, with a FIN.  Sending FIN and reading on until the client closes (for
        at most HALF_CLOSE_DRAIN seconds) removes the race.
        """
        raw = getattr(self.stream, "transport_stream", self.stream)
        send_eof = getattr(raw, "send_eof", None)
        if send_eof is None:
            return
        with (
            trio.move_on_after(HALF_CLOSE_DRAIN),
            contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
        ):
            await send_eof()
            while await raw.receive_some(RECEIVE_SIZE):
                pass

    def _emit(self, reply: Reply) -> None:
        chunks = self.conn.send_chunks(reply)
        if self.recorder is not None:
            first = chunks[0]
            end = first.find(b"\r\n")
            self.recorder.server(first[:end] if end >= 0 else first, _reply_extra(reply))
        quirks = self.quirks
        if quirks.terminator_missing and isinstance(reply, MULTI_LINE):
            chunks = [*chunks[:-1], chunks[-1][: -len(b".\r\n")]] if chunks[-1].endswith(b".\r\n") else chunks
        if quirks.line_endings_lf:
            chunks = [chunk.replace(b"\r\n", b"\n") for chunk in chunks]
        self._outbox.extend(chunks)

    async def _flush(self) -> None:
        """Write what the replies produced: small chunks joined into one write, large ones as they are."""
        chunks, self._outbox = self._outbox, []
        faults = self.config.faults
        if faults is not None and faults.version:
            hits = faults.transport(self.user, self._answering, self._answered)
            if hits:
                await self._send_faulty(faults, b"".join(chunks), hits)
                return
        try:
            if len(chunks) == 1:
                await self.stream.send_all(chunks[0])
                return
            gathered: list[bytes] = []
            for chunk in chunks:
                if len(chunk) < LARGE_CHUNK:
                    gathered.append(chunk)
                    continue
                if gathered:
                    await self.stream.send_all(b"".join(gathered))
                    gathered = []
                await self.stream.send_all(chunk)
            if gathered:
                await self.stream.send_all(b"".join(gathered))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.conn.send_failed()
            raise _PeerGone from None

    async def _start_tls(self) -> bool:
        context = self.config.tls_context
        assert context is not None
        tls = trio.SSLStream(self.stream, context, server_side=True)
        try:
            with trio.fail_after(self.config.handshake_timeout):
                await tls.do_handshake()
        except (trio.BrokenResourceError, trio.TooSlowError, trio.ClosedResourceError):
            self.end_reason = "tls handshake failed"
            self.conn.send_failed()
            return False
        self.stream = tls
        return True

    def _release(self) -> None:
        mailbox = self._mailbox
        if mailbox is not None:
            self.config.locks.release(mailbox, self)
            self._mailbox = None

    # --- AUTHORIZATION --------------------------------------------------------------------------

    def _login(self, credentials: Credentials) -> Reply:
        mailbox = authenticate(self.store, credentials)
        if mailbox is None:
            return Err("invalid user name or password", "AUTH")
        if not self.config.locks.acquire(mailbox, self, exclusive=self.config.exclusive_sessions):
            return Err(f"maildrop of {credentials.user} is locked by another session", "IN-USE")
        self._mailbox = mailbox
        self.user = credentials.user
        if self.recorder is not None:
            self.recorder.user = credentials.user
        self.maildrop = drop = SessionMaildrop(mailbox, newest_first=self.quirks.newest_first)
        return LoggedIn(f"{credentials.user} has {drop.count:d} messages ({drop.octets:d} octets)")

    def _on_USER(self, event: User) -> Reply:
        return Ok(f"send PASS for {event.name}" if len(event.name) <= 64 else "send PASS")

    def _on_PASS(self, event: Pass) -> Reply:
        user = self.conn.user
        assert user is not None  # the core refuses PASS without a successful USER
        if self.quirks.accept_any_password:
            given = bool(event.password)
            return self._login(Credentials(user, lambda stored: given))
        return self._login(password_credentials(user, event.password))

    def _on_APOP(self, event: Apop) -> Reply:
        return self._login(apop_credentials(event.name, self.timestamp, event.digest))

    def _on_AUTH(self, event: Auth) -> Reply:
        if event.mechanism is None:
            return Listing("SASL mechanisms follow", list(MECHANISMS))
        factory = MECHANISMS.get(event.mechanism)
        if factory is None:
            return Err(f"unsupported SASL mechanism, use one of: {' '.join(MECHANISMS)}")
        mechanism = factory(challenge(self.config.hostname))
        try:
            initial = None if event.initial_response is None else decode_response(event.initial_response)
            return self._sasl_outcome(mechanism, mechanism.start(initial))
        except SaslFailure as exc:
            return Err(str(exc))

    def _on_SaslResponse(self, event: SaslResponse) -> Reply:
        mechanism, self._sasl = self._sasl, None
        assert mechanism is not None
        if event.cancelled:
            return Err("AUTH cancelled by client")
        try:
            return self._sasl_outcome(mechanism, mechanism.step(decode_response(event.data)))
        except SaslFailure as exc:
            return Err(str(exc))

    def _sasl_outcome(self, mechanism: Mechanism, outcome: Challenge | Credentials) -> Reply:
        if isinstance(outcome, Challenge):
            self._sasl = mechanism
            return Continue(outcome.encoded())
        return self._login(outcome)

    def _on_STLS(self, event: Stls) -> Reply:
        if self.config.tls_context is None:
            return Err("STLS is not available: TLS is not configured on this server")
        if self.conn.secure:
            return Err("the connection already uses TLS")
        return TlsReady("begin TLS negotiation")

    def _on_CAPA(self, event: Capa) -> Reply:
        capa = self.quirks.capa
        if capa is not None and capa.mode == "custom":
            return Listing("capability list follows", list(capa.lines))
        caps = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"]
        if self.conn.state is State.AUTHORIZATION:
            caps += ["USER", "SASL " + " ".join(MECHANISMS)]
            if self.config.tls_context is not None and not self.conn.secure:
                caps.append("STLS")
        disabled = self.quirks.core.disabled
        if disabled:  # an accurate list names only what the server (as the plan shapes it) knows
            caps = [
                cap
                for cap in caps
                if cap.split()[0] not in disabled and not (cap.startswith("SASL") and "AUTH" in disabled)
            ]
        if capa is not None and capa.mode == "overclaims":
            caps += [cap for cap in OVERCLAIMED if cap not in caps]
        caps.append(f"IMPLEMENTATION mockmail-{__version__}")
        return Listing("capability list follows", caps)

    def _on_QUIT(self, event: Quit) -> Reply:
        drop = self.maildrop
        if self.conn.state is State.UPDATE and drop is not None:
            drop.commit()
            left = drop.mailbox.count
            return Goodbye(f"mockmail POP3 server signing off ({left:d} messages left)")
        return Goodbye("mockmail POP3 server signing off")

    def _on_BadCommand(self, event: BadCommand) -> Reply:
        self._sasl = None
        self._bad_in_a_row += 1
        if self._bad_in_a_row >= BAD_COMMAND_BUDGET:
            return Err(f"{BAD_COMMAND_BUDGET:d} bad commands in a row, closing")
        limit = self.quirks.line_limit
        if limit is not None and event.reason.startswith("line too long"):
            return Err(limit.text)
        return Err(event.reason)

    # --- TRANSACTION ----------------------------------------------------------------------------

    def _drop(self) -> SessionMaildrop:
        assert self.maildrop is not None  # the core allows these commands only after login
        return self.maildrop

    def _listed_size(self, message: Message) -> int:
        """What LIST and STAT report: the exact octets, or one per line fewer (the off-by-lf quirk)."""
        return message.size - wire_body(message).lines if self.quirks.octets_off_by_lf else message.size

    def _uid(self, message: Message) -> str:
        return (
            f"{message.uid}.{self.timestamp[1:-1].split('@')[0]}"
            if self.quirks.uidl == "unstable"
            else message.uid
        )

    def _on_STAT(self, event: Stat) -> Reply:
        drop = self._drop()
        if self.quirks.octets_off_by_lf:
            return DropStat(drop.count, sum(self._listed_size(m) for _, m in drop.live()))
        return DropStat(drop.count, drop.octets)

    def _on_LIST(self, event: List) -> Reply:
        drop = self._drop()
        if event.msg is None or self.quirks.ignore_message_argument:
            return ScanListing([(n, self._listed_size(m)) for n, m in drop.live()])
        found = drop.lookup(event.msg)
        return Err(found) if isinstance(found, str) else ScanLine(event.msg, self._listed_size(found))

    def _on_UIDL(self, event: Uidl) -> Reply:
        drop = self._drop()
        if event.msg is None or self.quirks.ignore_message_argument:
            return UidListing([(n, self._uid(m)) for n, m in drop.live()])
        found = drop.lookup(event.msg)
        return Err(found) if isinstance(found, str) else UidLine(event.msg, self._uid(found))

    def _on_RETR(self, event: Retr) -> Reply:
        found = self._drop().lookup_present(event.msg)
        if isinstance(found, str):
            return Err(found)
        return MessageContent(f"{found.size:d} octets", wire_body(found))

    def _on_TOP(self, event: Top) -> Reply:
        found = self._drop().lookup_present(event.msg)
        if isinstance(found, str):
            return Err(found)
        return MessageContent("top of message follows", wire_body(found).top(event.lines))

    def _on_DELE(self, event: Dele) -> Reply:
        drop = self._drop()
        found = drop.lookup(event.msg)
        if isinstance(found, str):
            return Err(found)
        drop.mark(event.msg)
        return Ok(f"message {event.msg:d} deleted")

    def _on_NOOP(self, event: Noop) -> Reply:
        return Ok()

    def _on_RSET(self, event: Rset) -> Reply:
        drop = self._drop()
        drop.reset()
        return Ok(f"maildrop has {drop.count:d} messages ({drop.octets:d} octets)")

    _HANDLERS: dict[type, Callable[[Pop3Session, Any], Reply]] = {}


Pop3Session._HANDLERS = {
    User: Pop3Session._on_USER,
    Pass: Pop3Session._on_PASS,
    Apop: Pop3Session._on_APOP,
    Auth: Pop3Session._on_AUTH,
    SaslResponse: Pop3Session._on_SaslResponse,
    Stls: Pop3Session._on_STLS,
    Capa: Pop3Session._on_CAPA,
    Quit: Pop3Session._on_QUIT,
    BadCommand: Pop3Session._on_BadCommand,
    Stat: Pop3Session._on_STAT,
    List: Pop3Session._on_LIST,
    Uidl: Pop3Session._on_UIDL,
    Retr: Pop3Session._on_RETR,
    Top: Pop3Session._on_TOP,
    Dele: Pop3Session._on_DELE,
    Noop: Pop3Session._on_NOOP,
    Rset: Pop3Session._on_RSET,
}
