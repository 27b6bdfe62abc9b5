"""`SessionDriver`: the protocol-neutral half of a session, over a trio stream.

It owns everything a session does that no protocol rule decides: the read loop, the autologout and the
per-line deadline, pipelined replies gathered into one write, the TLS upgrade, handing a flush's bytes to
the wire faults (`server/wire_faults.py`) and the transcript hooks.  A protocol handler subclasses it
(`Pop3Session`; SMTP next) and supplies:

- `store`: the `MailStore` its handlers change (replies wait for its changes to be durable);
- `conn`: its sans-IO state machine, with `receive_data`, `next_event`, `send_chunks`, `mid_line`, `closed`
  and `send_failed`;
- `_HANDLERS`: event type -> method returning the compliant reply (built once, never `getattr` per line);
- `_greet()`, `_draw()`, `_tls_started()`, `_release()` and a few class attributes naming its events;
- `hooks`: the session's quirk hooks (None when compliant), which may rewrite an event, a reply or the bytes.

Who closes what: the driver never closes its stream; the listener's handler does, with `aclose_forcefully`,
once `run` returns or is cancelled.  `_release` runs in a `finally`, so a cancelled or vanished client never
keeps a lock.  Replies are collected and written when the parser needs more input, so pipelined commands are
answered in order with one write (RFC 2449 section 6.6, RFC 2920).

Unprompted output (IMAP's untagged updates during IDLE, RFC 2177; every protocol's last line when the server
stops).  Every byte is written by the session's own task, so an unprompted line and a reply cannot
interleave and nothing is written during a TLS handshake, with no lock and no second task:

- `notify()` is what another task calls (the store saw a change).  It never blocks and never writes: it
  sets a flag and, when the session is waiting for the client, wakes that wait (protocols that set
  `SPEAKS_UNPROMPTED`; a read is only woken between commands, never during a handshake).  Calls that come
  before the session gets to them are one call (coalesced), so a flood of changes costs nothing here.
- The session then asks the protocol, between commands and after its replies are out, what to say:
  `_unprompted()` returns rendered lines, or nothing when this is not the moment (IMAP keeps its updates
  for the next tagged response outside IDLE).  The lines take the replies' path: transcript (direction S),
  metrics, wire faults, the TLS stream.  The driver keeps no queue: what is pending is the protocol's
  (IMAP's view of the mailbox), so a client that does not read makes nothing grow.
- A client that does not take an unprompted write within the line deadline is closed ("client not
  reading"): dropping lines would leave its view of the mailbox wrong, and closing is what IMAP servers do.
- When the tenant's scope is cancelled (tenant deleted, server stopping), the session says `SHUTDOWN`
  (SMTP 421, POP3 -ERR [SYS/TEMP], IMAP BYE) through the same path, shielded and for at most
  `FAREWELL_TIMEOUT` seconds, unless it was cut in the middle of a reply or a handshake, where a line
  would corrupt what the client is reading.

The durability barrier (docs/scaling.md): handlers change the store synchronously, into its open unit of
work.  Before any write, while the store has changes that are not durable yet (`MailStore.unsettled`),
the driver awaits `store.settled()`, the commit that every session which changed something in the same
scheduler pass shares (group commit).  So no reply goes out while a change it may have observed is
uncommitted, and acknowledged means durable.  If that commit fails, none of the queued replies are
written: the session says `STORE_FAILED` (a temporary failure) and ends.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

import trio

from ..faults import FaultState
from ..login.policy import FailurePolicy
from ..observe.transcripts import Recorder
from ..store import CommitFailed, MailStore
from .session_config import FollowUp, Hooks, SansIO, SessionConfig, peer_address
from .wire_faults import FaultEnd, PeerGone, drain, send_through

__all__ = [
    "BAD_COMMAND_BUDGET",
    "FAREWELL_TIMEOUT",
    "RECEIVE_SIZE",
    "UNPROMPTED",
    "FollowUp",
    "SessionConfig",
    "SessionDriver",
    "peer_address",
]

log = logging.getLogger("mockmail.server")

RECEIVE_SIZE = 65536
BAD_COMMAND_BUDGET = 20
"""Consecutive refused lines before the session is closed: a client that only sends garbage should not
hold a session (and a lock) until autologout.  Any accepted command resets the count."""
IDLE_SLACK = 1.0
"""Seconds an autologout may come late (never early: RFC 1939 asks for at least ten minutes)."""
LARGE_CHUNK = 65536
"""A chunk this large (a message body) is written on its own rather than copied into a joined buffer."""

FAREWELL_TIMEOUT = 1.0
"""Seconds the last line may take when the server stops or the tenant is deleted: a client that does not
read it does not hold the shutdown up."""
UNPROMPTED = "(unprompted)"
"""The verb wire faults and end reasons see for lines no command asked for: a fault aimed at a command
never fires on them, one aimed at every command does."""


class _StoreFailed(Exception):
    """The session's changes were not made durable: it said `STORE_FAILED` and ends."""


def _first_line(chunk: bytes) -> bytes:
    """The first line of a reply's first chunk, without its CRLF, for the transcript."""
    end = chunk.find(b"\r\n")
    return chunk[:end] if end >= 0 else chunk


class SessionDriver:
    """The read-answer-write loop of one session; a protocol handler subclasses it.

    Args:
        stream: the accepted connection (plain TCP; wrapped in TLS here for an upgrade or implicit TLS).
        config: limits, TLS, faults and transcripts of the tenant.
        implicit_tls: do the TLS handshake before the greeting (POP3S, SMTPS).
    """

    # Slots, not a __dict__: ten thousand idle sessions are ten thousand of these (bench/).
    __slots__ = (
        "_answered",
        "_answering",
        "_bad_in_a_row",
        "_busy",
        "_closing",
        "_failed_logins",
        "_fault_version",
        "_hold",
        "_idle",
        "_notified",
        "_outbox",
        "_timeout",
        "_wake",
        "config",
        "end_reason",
        "faults_fired",
        "hooks",
        "implicit_tls",
        "recorder",
        "stream",
        "user",
    )

    PROTOCOL: ClassVar[Literal["pop3", "smtp", "imap"]]
    """The name in transcripts and logs: `pop3`, `smtp`."""
    NEED_DATA: ClassVar[object]
    """The core's answer when no complete event is buffered."""
    EOF_EVENT: ClassVar[type]
    """The event the core yields once the client has closed its side."""
    BAD_EVENT: ClassVar[type]
    """The event of a refused line (it counts against `BAD_COMMAND_BUDGET`)."""
    TLS_READY: ClassVar[type]
    """The reply after which the TLS handshake starts (STLS's, STARTTLS's)."""
    INTERNAL_ERROR: ClassVar[bytes]
    """What a session that fails on a bug sends before it ends."""
    SHUTDOWN: ClassVar[bytes | None] = None
    """The last line when the server stops or the tenant is deleted under the session (SMTP's 421, RFC
    5321 section 3.8; POP3's -ERR [SYS/TEMP], RFC 3206; IMAP's BYE, RFC 9051 section 7.1.5); None says
    nothing."""
    STORE_FAILED: ClassVar[bytes] = b""
    """The last line when the commit that was to make the session's changes durable failed: the protocol's
    temporary failure, after which the session closes (the queued replies are never written)."""
    SPEAKS_UNPROMPTED: ClassVar[bool] = False
    """True when the protocol may speak while the client is silent (IMAP IDLE): `notify` then wakes the
    session's wait for input.  Otherwise a notification is heard at the next wait, and the wait costs
    nothing extra (the POP3 and SMTP hot path)."""
    _HANDLERS: ClassVar[dict[type, Callable[[Any, Any], Any]]]

    conn: SansIO
    store: MailStore
    """The store the handler changes: replies wait for its changes to be durable."""

    def __init__(self, stream: trio.abc.Stream, config: SessionConfig, *, implicit_tls: bool = False) -> None:
        self.stream = stream
        self.config = config
        self.implicit_tls = implicit_tls
        self.user: str | None = None
        self.end_reason = "running"
        self._outbox: list[bytes] = []
        self._idle = trio.CancelScope()
        """One scope for the whole session: its deadline is the autologout (counted from the last answered
        command, RFC 1939 section 3) or, while a line is half-sent, that line's own shorter deadline."""
        self.hooks: Hooks | None = None
        """The quirk hooks for those quirks; None while compliant (the fast path)."""
        self.faults_fired: list[str] = []
        self._fault_version = 0
        self._timeout = config.idle_timeout
        """Autologout, or the fault plan's read/write deadline."""
        self.recorder: Recorder | None = None
        self._answering: str | None = None
        """The verb of the command being answered (None for the greeting): wire faults can target it."""
        self._answered = 0
        self._bad_in_a_row = 0
        self._closing: str | None = None
        """Set by a handler or hook: flush what is queued, then end the session with this reason."""
        self._hold = 0.0
        """Seconds to wait before the reply being made goes out (a failed login's delay)."""
        self._failed_logins = 0
        self._busy = False
        """A reply or a TLS handshake is part-way out: no other line may be written now."""
        self._notified = False
        self._wake: trio.CancelScope | None = None
        """The scope of the wait for input while `notify` may wake it (`SPEAKS_UNPROMPTED`)."""

    # --- what a protocol handler supplies ---------------------------------------------------------

    async def _greet(self) -> bool:
        """Queue (or send) the greeting; False when the session is over before its first command."""
        raise NotImplementedError

    def _draw(self, faults: FaultState) -> tuple[str, ...]:
        """Draw the session's quirks from `faults`, hand them to the core, build `hooks` (None when
        compliant) and set the read deadline; return the names of the quirks that fired."""
        return ()

    def _tls_started(self) -> None:
        """The handshake succeeded: restart what the protocol restarts (RFC 3207 section 4.2)."""

    def _release(self) -> None:
        """Give back what the session holds (locks); runs however the session ended."""

    def _unprompted(self) -> Sequence[bytes]:
        """What to say now, unasked, after `notify`: rendered lines (each ends in CRLF), or nothing when
        now is not the moment (the protocol keeps them for later, and calls `notify` once the moment
        comes).  Called between commands, with every reply out; it must not call `notify` itself.  Set
        `_closing` to end the session once the lines are written."""
        return ()

    def _wakeable(self) -> bool:
        """Whether `notify` may wake the wait for input now (asked before each read, only when the
        protocol sets `SPEAKS_UNPROMPTED`): IMAP only speaks unasked during IDLE, and a read with no
        wake scope costs no cancel scope."""
        return True

    def _peer(self) -> str:
        """The client's `host:port` for the transcript (a handler that keeps it returns its own)."""
        return peer_address(self.stream)

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self) -> str:
        """Serve the session until it ends; return why it ended.

        The loop is written out in this one coroutine on purpose: an idle session is a suspended stack
        of coroutine frames, and every frame fewer is memory saved ten thousand times (bench/).
        """
        conn = self.conn
        idle = self._idle
        handlers = self._HANDLERS
        need_data, eof, bad, tls_ready = self.NEED_DATA, self.EOF_EVENT, self.BAD_EVENT, self.TLS_READY
        wakeable = self.SPEAKS_UNPROMPTED
        admits = self.config.admits
        if self.config.transcripts is not None:
            self.recorder = self.config.transcripts.start(self._peer(), self.PROTOCOL)
        recorder = self.recorder
        metrics = self.config.metrics
        counted = (self.PROTOCOL, self.config.tenant)
        if metrics is not None:
            metrics.sessions[counted] += 1
            metrics.active[counted] += 1
        try:
            if self.implicit_tls and not await self._start_tls():
                return self.end_reason
            faults = self.config.faults
            if faults is not None and faults.version != self._fault_version:
                self._draw_faults(faults)
            if not await self._greet():
                return self.end_reason
            idle.deadline = trio.current_time() + self._timeout + IDLE_SLACK
            line_started: float | None = None
            answered_at_read = 0
            line_cut = False
            with idle:
                while not conn.closed:
                    if faults is not None and faults.version != self._fault_version:
                        self._draw_faults(faults)  # a plan change reaches open sessions at their next command
                    event = conn.next_event()
                    if event is need_data:
                        if self._outbox:
                            await self._flush()
                        while self._notified:  # again if notified while the last lines went out
                            if await self._speak():
                                return self.end_reason
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
                            if wakeable and self._wakeable():
                                # notify() cancels this scope: safe on a read (trio's SSLStream too,
                                # no renegotiation: server/tls.py), and no byte is lost.
                                with trio.CancelScope() as wake:
                                    self._wake = wake
                                    data = await self.stream.receive_some(RECEIVE_SIZE)
                                self._wake = None
                                if wake.cancelled_caught:
                                    continue  # speak at the top of the loop, then wait again
                            else:
                                data = await self.stream.receive_some(RECEIVE_SIZE)
                        except (trio.BrokenResourceError, trio.ClosedResourceError):
                            self._wake = None
                            data = b""
                        if metrics is not None:
                            metrics.received[counted] += len(data)
                        conn.receive_data(data)
                        continue
                    if type(event) is eof:
                        self.end_reason = "client eof"
                        return self.end_reason
                    if admits is not None and not admits():  # a replica's lease ran out: answer nothing
                        self.end_reason = "lease lost"
                        await self._farewell()
                        return self.end_reason
                    if recorder is not None:
                        recorder.client(event)
                    if type(event) is not bad:
                        self._bad_in_a_row = 0
                    self._answering = getattr(event, "verb", None) or "?"
                    self._answered += 1
                    hooks = self.hooks
                    if hooks is None:
                        reply = handlers[type(event)](self, event)
                    else:
                        reply = hooks.answer(event)
                        if callable(reply):  # a follow-up instead of a reply (a QUIT fault)
                            if await reply():
                                return self.end_reason
                            continue
                    if self._hold:
                        hold, self._hold = self._hold, 0.0
                        await trio.sleep(hold)
                    self._emit(reply)
                    if self._closing is not None:
                        await self._flush()
                        self.end_reason = self._closing
                        return self.end_reason
                    if type(reply) is tls_ready:
                        await self._flush()  # the go-ahead must go out in plaintext, before the handshake
                        if not await self._start_tls():
                            return self.end_reason
                        self._tls_started()
                if self._outbox:
                    await self._flush()
                self.end_reason = "quit"
            if idle.cancelled_caught:
                # RFC 1939 section 3, RFC 5321 section 4.5.3.2: on timeout, close without entering UPDATE.
                self.end_reason = "line timeout" if line_cut else "idle timeout"
        except PeerGone:
            self.end_reason = "client gone"
        except FaultEnd as end:
            self.end_reason = str(end)
        except _StoreFailed:
            self.end_reason = "store failed"
        except trio.Cancelled:
            self.end_reason = "server shutdown"
            await self._farewell()
            raise
        except Exception:
            log.exception("%s session failed", self.PROTOCOL.upper())
            self.end_reason = "internal error"
            with (
                trio.move_on_after(1, shield=True),
                contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
            ):
                await self.stream.send_all(self.INTERNAL_ERROR)
        finally:
            self._release()
            if metrics is not None:
                metrics.active[counted] -= 1
            if recorder is not None:
                recorder.finish(self.end_reason)
        return self.end_reason

    def _count_bad(self, budget_text: str) -> str | None:
        """Count one refused line; the text to answer with when the budget has run out (then close)."""
        self._bad_in_a_row += 1
        if self._bad_in_a_row >= BAD_COMMAND_BUDGET:
            self._closing = "too many bad commands"
            return budget_text
        return None

    def _login_failed(self) -> None:
        """Count a failed login and apply its penalty (`mockmail.login.policy`): the reply is held, and
        the last allowed attempt closes the session."""
        self._failed_logins += 1
        penalty = FailurePolicy(self.config.auth_failure_delay).penalty(self._failed_logins)
        self._hold = penalty.hold
        if penalty.close is not None:
            self._closing = penalty.close

    # --- unprompted output ---------------------------------------------------------------------------

    def notify(self) -> None:
        """The protocol may have something to say unasked (see the module docstring).

        Never blocks and never writes; any task of the session's trio run may call it, as often as it
        likes: calls before the session acts on them count as one.
        """
        self._notified = True
        wake = self._wake
        if wake is not None:
            wake.cancel()

    async def _speak(self) -> bool:
        """Say what `_unprompted` has for now; True when that ended the session."""
        self._notified = False
        lines = self._unprompted()
        if lines:
            with trio.move_on_after(min(self.config.line_timeout, self._timeout)) as cut:
                await self._say(lines)
            if cut.cancelled_caught:
                self.end_reason = "client not reading"  # what it has not taken is lost: close
                return True
        if self._closing is not None:
            self.end_reason = self._closing
            return True
        return False

    async def _say(self, lines: Sequence[bytes]) -> None:
        """Write lines no command asked for (after anything queued) the way replies go out."""
        recorder = self.recorder
        if recorder is not None:
            for data in lines:
                recorder.server(_first_line(data))
        self._outbox.extend(lines)
        self._answering = UNPROMPTED
        await self._flush()

    async def _farewell(self) -> None:
        """Say `SHUTDOWN` as the session is cancelled, shielded and bounded by `FAREWELL_TIMEOUT`.

        Nothing when a reply or a handshake was cut part-way (the line would land inside it) or the
        session is already over; a client that does not read, or a fault that stalls, is given up on.
        """
        last = self.SHUTDOWN
        if last is None or self._busy or self.conn.closed:
            return
        with (
            trio.move_on_after(FAREWELL_TIMEOUT, shield=True),
            contextlib.suppress(PeerGone, FaultEnd, _StoreFailed),
        ):
            await self._say([last])

    # --- faults ------------------------------------------------------------------------------------

    def _draw_faults(self, faults: FaultState) -> None:
        self._fault_version = faults.version
        for name in self._draw(faults):
            self.fault(f"{name} (drawn)")

    def redraw_at_next_command(self) -> None:
        """Draw the quirks again before the next command (a login brought a mailbox's own plan)."""
        self._fault_version = -1

    def fault(self, name: str) -> None:
        """Note that a fault fired: in the session's list and its transcript."""
        self.faults_fired.append(name)
        if self.recorder is not None:
            self.recorder.fault(name)

    # --- the seams the quirk hooks use (`server/seams.py`): no hook touches an underscore member -----

    @property
    def closing(self) -> str | None:
        """The reason the session closes after the reply being made, or None."""
        return self._closing

    def close_after_reply(self, reason: str) -> None:
        """Flush what is queued after the reply being made, then end the session with `reason`."""
        self._closing = reason

    def handle(self, event: Any) -> Any:
        """The compliant handler's reply to `event`."""
        return self._HANDLERS[type(event)](self, event)

    def emit(self, reply: Any) -> None:
        """Queue a reply of the core (the driver's own `_emit`)."""
        self._emit(reply)

    def queue_raw(self, data: bytes) -> None:
        """Queue bytes that are not a reply of the core (a fault's greeting)."""
        self._outbox.append(data)

    @property
    def replies_pending(self) -> bool:
        """Replies are queued and not yet written: the command being answered came in the same read as
        an earlier one (it was pipelined)."""
        return bool(self._outbox)

    async def input_within(self, seconds: float) -> bool:
        """Wait up to `seconds` for the client to send something, before anything is written (a fault's
        greeting check); what arrives goes to the core as any input does.  True when something came
        (end of file included)."""
        with trio.move_on_after(seconds):
            try:
                data = await self.stream.receive_some(RECEIVE_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            self.conn.receive_data(data)
            return True
        return False

    async def flush(self) -> None:
        """Write what is queued, if anything is."""
        if self._outbox:
            await self._flush()

    async def drain(self) -> None:
        """Say nothing until the client closes or goes away (a fault that hangs)."""
        await drain(self.stream)

    # --- writing -----------------------------------------------------------------------------------

    def _reply_extra(self, reply: Any) -> tuple[int, int] | int | None:
        """What a transcript notes after a reply's first line (a body's octets and lines, a count)."""
        return None

    def _outcome(self, reply: Any) -> str | None:
        """How a reply counts in `mockmail_commands_total`: `ok`, or the protocol's kind of refusal; None
        for a line that completes no command (IMAP's untagged data), which is not counted."""
        return "ok"

    def _emit(self, reply: Any) -> None:
        chunks = self.conn.send_chunks(reply)
        metrics = self.config.metrics
        if metrics is not None and self._answering is not None:
            outcome = self._outcome(reply)
            if outcome is not None:
                metrics.commands[(self.PROTOCOL, self._answering, outcome)] += 1
        if self.recorder is not None:
            self.recorder.server(_first_line(chunks[0]), self._reply_extra(reply))
        if self.hooks is not None:
            chunks = self.hooks.chunks(reply, chunks)
        self._outbox.extend(chunks)

    def _emit_lines(self, replies: Sequence[Any]) -> None:
        """Queue replies that complete no command (IMAP's untagged data: a FETCH 1:* answer), as `_emit`
        does each but in one pass: each is rendered by the core and noted in the transcript; none counts
        as a command."""
        if self.hooks is not None:  # the quirk hooks see every reply on its own
            for reply in replies:
                self._emit(reply)
            return
        send = self.conn.send_chunks
        outbox = self._outbox
        recorder = self.recorder
        if recorder is None:
            for reply in replies:
                outbox.extend(send(reply))
            return
        for reply in replies:
            chunks = send(reply)
            recorder.server(_first_line(chunks[0]), self._reply_extra(reply))
            outbox.extend(chunks)

    async def _settle(self, store: MailStore) -> None:
        """The durability barrier: wait until the store's changes are committed.

        Raises:
            _StoreFailed: they were not (`STORE_FAILED` was said instead of the queued replies).
        """
        try:
            await store.settled()
        except CommitFailed as exc:
            log.warning("%s session: %s", self.PROTOCOL.upper(), exc)
            self._outbox = []
            if self.recorder is not None:
                self.recorder.server(_first_line(self.STORE_FAILED))
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await self.stream.send_all(self.STORE_FAILED)
            raise _StoreFailed from exc

    async def _flush(self) -> None:
        """Write what the replies produced: small chunks joined into one write, large ones as they are."""
        store = self.store
        if store.unsettled:
            await self._settle(store)
        chunks, self._outbox = self._outbox, []
        metrics = self.config.metrics
        if metrics is not None:
            metrics.sent[(self.PROTOCOL, self.config.tenant)] += sum(map(len, chunks))
        self._busy = True  # until the last byte is out (left set when cut: the session is over)
        faults = self.config.faults
        if faults is not None and faults.version:
            hooks = self.hooks
            if hooks is not None and hooks.delay:
                await trio.sleep(hooks.delay)  # a tarpit: every reply held
            hits = faults.transport(self.user, self._answering, self._answered, self.PROTOCOL)
            if hits:
                for name, _ in hits:
                    self.fault(name)
                try:
                    await send_through(
                        self.stream,
                        b"".join(chunks),
                        hits,
                        uniform=faults.uniform,
                        answering=self._answering,
                        answered=self._answered,
                    )
                except PeerGone:
                    self.conn.send_failed()
                    raise
                self._busy = False
                return
        try:
            if len(chunks) == 1:
                await self.stream.send_all(chunks[0])
            else:
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
            raise PeerGone from None
        self._busy = False

    async def _start_tls(self) -> bool:
        context = self.config.tls_context
        assert context is not None
        tls = trio.SSLStream(self.stream, context, server_side=True)
        self._busy = True  # no line may cross the handshake, not even the last one
        try:
            with trio.fail_after(self.config.handshake_timeout):
                await tls.do_handshake()
        except (trio.BrokenResourceError, trio.TooSlowError, trio.ClosedResourceError):
            self.end_reason = "tls handshake failed"
            self.conn.send_failed()
            return False
        self.stream = tls
        self._busy = False
        return True
