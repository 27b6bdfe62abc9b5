"""`Pop3Session`: the POP3 handler, mapping the core's events to RFC 1939 replies (compliant only).

The protocol-neutral loop, deadlines, TLS and wire faults are the driver's (`server/driver.py`); every
departure from the RFC a fault plan asks for acts through the hooks in `server/pop3_hooks.py`.  Nothing here
reads a quirk.

Deletions happen in exactly one place, `_on_QUIT` in UPDATE state, in one synchronous block: a client that
disconnects, times out or is cancelled at any other moment deletes nothing (RFC 1939 section 6).  The
maildrop lock is released in `_release`, which the driver runs however the session ended.
"""

from __future__ import annotations

from typing import Any

import trio

from .. import __version__
from ..faults import COMPLIANT, FaultState, SessionFaults
from ..login.credentials import authenticate, challenge, password_credentials
from ..login.exchange import Cancelled, Denied, Granted, SaslExchange, Step, offered, open_exchange
from ..login.sasl import Challenge, Credentials, apop_credentials
from ..pop3 import (
    NEED_DATA,
    Apop,
    Auth,
    BadCommand,
    Capa,
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
from ..store import Mailbox, MailStore
from .context import TenantContext
from .driver import BAD_COMMAND_BUDGET, SessionConfig, SessionDriver
from .maildrop import SessionMaildrop, wire_body
from .pop3_hooks import Pop3Hooks

__all__ = ["Pop3Session", "open_session"]


class Pop3Session(SessionDriver):
    """One POP3 session on an accepted stream.

    Args:
        stream: the accepted connection (plain TCP; wrapped in TLS by the driver for STLS or POP3S).
        store: the tenant's mailboxes; a login never sees another tenant's store.
        config: limits, TLS, locking rules and faults of the tenant.
        implicit_tls: do the TLS handshake before the greeting (the POP3S listener).
    """

    __slots__ = ("_mailbox", "_sasl", "conn", "maildrop", "quirks", "store", "timestamp")

    PROTOCOL = "pop3"
    NEED_DATA = NEED_DATA
    EOF_EVENT = ConnectionClosed
    BAD_EVENT = BadCommand
    TLS_READY = TlsReady
    INTERNAL_ERROR = b"-ERR [SYS/TEMP] internal server error\r\n"
    SHUTDOWN = b"-ERR [SYS/TEMP] server shutting down\r\n"
    STORE_FAILED = b"-ERR [SYS/TEMP] the mailbox store failed, nothing was changed\r\n"
    """RFC 3206: SYS/TEMP, a transient system problem (not the user's); the client may try again later."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        store: MailStore,
        config: SessionConfig,
        *,
        implicit_tls: bool = False,
    ) -> None:
        super().__init__(stream, config, implicit_tls=implicit_tls)
        self.store = store
        self.conn: Pop3Connection = Pop3Connection(
            max_command_line=config.max_command_line, secure=implicit_tls
        )
        self.timestamp = challenge(config.hostname)
        self.maildrop: SessionMaildrop | None = None
        self.quirks: SessionFaults = COMPLIANT
        """The fault quirks this session drew (compliant unless the tenant has a plan); only `_draw` and
        the hooks read them."""
        self._mailbox: Mailbox | None = None
        self._sasl: SaslExchange[Mailbox] | None = None

    # --- the driver's hooks -------------------------------------------------------------------

    async def _greet(self) -> bool:
        greeting = Greeting("mockmail POP3 server ready", self.timestamp)
        hooks = self.hooks
        if isinstance(hooks, Pop3Hooks):
            return await hooks.greet(greeting)
        self._emit(greeting)
        return True

    def _draw(self, faults: FaultState) -> tuple[str, ...]:
        self.quirks = quirks = faults.session_faults(self.user)
        self._timeout = self.config.idle_timeout if quirks.deadline is None else quirks.deadline
        self.conn.quirks = quirks.core
        limit = quirks.line_limit
        self.conn.max_command_line = self.config.max_command_line if limit is None else limit.octets
        self.hooks = Pop3Hooks(self, quirks) if faults.active else None
        return quirks.fired

    def _release(self) -> None:
        mailbox = self._mailbox
        if mailbox is not None:
            self.config.locks.release(mailbox, self)
            self._mailbox = None

    def _outcome(self, reply: Any) -> str:
        return "error" if isinstance(reply, Err) else "ok"

    def _reply_extra(self, reply: Any) -> tuple[int, int] | int | None:
        if isinstance(reply, MessageContent):
            return (reply.body.size, reply.body.lines)
        if isinstance(reply, Listing):
            return len(reply.lines)
        if isinstance(reply, (ScanListing, UidListing)):
            return len(reply.entries)
        return None

    # --- AUTHORIZATION --------------------------------------------------------------------------

    def login(self, credentials: Credentials) -> Reply:
        """Log in with `credentials` (APOP, and PASS as a fault plan bends it): the reply to send."""
        mailbox = authenticate(self.store, credentials)
        if mailbox is None:
            return self._denied()
        return self._logged_in(credentials.user, mailbox)

    def _denied(self) -> Reply:
        self._login_failed()
        return Err("invalid user name or password", "AUTH")

    def _logged_in(self, user: str, mailbox: Mailbox) -> Reply:
        if not self.config.locks.acquire(mailbox, self, exclusive=self.config.exclusive_sessions):
            return Err(f"maildrop of {user} is locked by another session", "IN-USE")
        self._mailbox = mailbox
        self.user = user
        if self.recorder is not None:
            self.recorder.user = user
        self.maildrop = drop = SessionMaildrop(mailbox)
        faults = self.config.faults
        if faults is not None and user in faults.mailbox_plans:
            self.redraw_at_next_command()  # the mailbox's own plan applies from login on
        return LoggedIn(f"{user} has {drop.count:d} messages ({drop.octets:d} octets)")

    def _on_USER(self, event: User) -> Reply:
        return Ok(f"send PASS for {event.name}" if len(event.name) <= 64 else "send PASS")

    def _on_PASS(self, event: Pass) -> Reply:
        user = self.conn.user
        assert user is not None  # the core refuses PASS without a successful USER
        mailbox = authenticate(self.store, password_credentials(user, event.password))
        if mailbox is None:
            return self._denied()
        return self._logged_in(user, mailbox)

    def _on_APOP(self, event: Apop) -> Reply:
        return self.login(apop_credentials(event.name, self.timestamp, event.digest))

    # AUTH (RFC 5034): the exchange is the login component's; only the framing is POP3's.

    def _on_AUTH(self, event: Auth) -> Reply:
        tokens = self.config.bearer_tokens
        if event.mechanism is None:
            return Listing("SASL mechanisms follow", list(offered(tokens)))
        exchange = open_exchange(event.mechanism, self._check, hostname=self.config.hostname, tokens=tokens)
        if exchange is None:
            return Err(f"unsupported SASL mechanism, use one of: {' '.join(offered(tokens))}")
        return self._sasl_step(exchange, exchange.start(event.initial_response))

    def _on_SaslResponse(self, event: SaslResponse) -> Reply:
        exchange, self._sasl = self._sasl, None
        assert exchange is not None  # the core yields responses only inside an exchange
        return self._sasl_step(
            exchange, exchange.cancel() if event.cancelled else exchange.respond(event.data)
        )

    def cancel_login(self) -> None:
        """Drop a SASL exchange in progress (a fault plan's scripted reply answered its line)."""
        self._sasl = None

    def _check(self, credentials: Credentials) -> Mailbox | None:
        return authenticate(self.store, credentials)

    def _sasl_step(self, exchange: SaslExchange[Mailbox], step: Step[Mailbox]) -> Reply:
        if isinstance(step, Challenge):
            self._sasl = exchange
            return Continue(step.encoded())
        if isinstance(step, Granted):
            return self._logged_in(step.user, step.grant)
        if isinstance(step, Denied):
            return self._denied()
        if isinstance(step, Cancelled):
            return Err("AUTH cancelled by client")
        return Err(step.reason)  # Malformed or Refused: no login was tried

    def _on_STLS(self, event: Stls) -> Reply:
        if self.config.tls_context is None:
            return Err("STLS is not available: TLS is not configured on this server")
        if self.conn.secure:
            return Err("the connection already uses TLS")
        return TlsReady("begin TLS negotiation")

    def _on_CAPA(self, event: Capa) -> Reply:
        caps = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"]
        if self.conn.state is State.AUTHORIZATION:
            caps += ["USER", "SASL " + " ".join(offered(self.config.bearer_tokens))]
            if self.config.tls_context is not None and not self.conn.secure:
                caps.append("STLS")
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
        last = self._count_bad(f"{BAD_COMMAND_BUDGET:d} bad commands in a row, closing")
        return Err(event.reason if last is None else last)

    # --- TRANSACTION ----------------------------------------------------------------------------

    def _drop(self) -> SessionMaildrop:
        assert self.maildrop is not None  # the core allows these commands only after login
        return self.maildrop

    def _on_STAT(self, event: Stat) -> Reply:
        drop = self._drop()
        return DropStat(drop.count, drop.octets)

    def _on_LIST(self, event: List) -> Reply:
        drop = self._drop()
        if event.msg is None:
            return ScanListing([(n, m.size) for n, m in drop.live()])
        found = drop.lookup(event.msg)
        return Err(found) if isinstance(found, str) else ScanLine(event.msg, found.size)

    def _on_UIDL(self, event: Uidl) -> Reply:
        drop = self._drop()
        if event.msg is None:
            return UidListing([(n, m.uid) for n, m in drop.live()])
        found = drop.lookup(event.msg)
        return Err(found) if isinstance(found, str) else UidLine(event.msg, found.uid)

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


Pop3Session._HANDLERS = {  # built once: no getattr per line
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


def open_session(stream: trio.abc.Stream, context: TenantContext, implicit_tls: bool) -> Pop3Session:
    """The POP3 session factory of `mockmail.protocols` (POP3 on `pop3`, POP3S on `pop3s`)."""
    return Pop3Session(stream, context.store, context.config, implicit_tls=implicit_tls)
