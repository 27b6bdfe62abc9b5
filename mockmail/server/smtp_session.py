"""`SmtpSession`: the SMTP handler, mapping the core's events to RFC 5321 replies (compliant only).

The driver (`server/driver.py`) runs the loop, deadlines, TLS and flushing; the sans-IO core
(`mockmail.smtp`) keeps sequencing, limits and the DATA terminator.  This module decides outcomes:
who a recipient is, whether AUTH is needed or allowed, and what a finished message becomes.

Delivery rules:
- `RCPT TO:<local@domain>` goes to the mailbox whose user is the whole address, else the one named by the
  local part, else the tenant's `catch_all` mailbox; otherwise `550 5.1.1`.  Each mailbox gets one copy,
  whose envelope lists the recipients that led to it.
- A message is stored with `Return-Path:` and a `Received:` trace field prepended (RFC 5321 section 4.4)
  through `mockmail.message.ingest.deliver`, in one synchronous block before the 250 is queued: it is visible to
  POP3 and REST from the moment the 250 can be read, and a client gone before its final dot stores nothing.
- `smtp_auth`: `none` (AUTH offered, any credentials accepted, none needed), `optional` (AUTH checks the
  mailbox passwords, MAIL without it is fine) or `required` (MAIL before AUTH is `530 5.7.0`).  When the
  server has TLS, `optional` and `required` refuse AUTH outside it with `538 5.7.11` unless the tenant
  allows plaintext AUTH (RFC 4954 section 4 and RFC 8314: credentials only over TLS).
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from dataclasses import dataclass
from typing import Any

import trio

from .. import __version__
from ..errors import DomainError, StorageLimit
from ..faults import FaultState
from ..login.credentials import authenticate
from ..login.exchange import (
    Cancelled,
    Denied,
    Granted,
    Malformed,
    SaslExchange,
    Step,
    offered,
    open_exchange,
)
from ..login.sasl import Challenge, Credentials
from ..message.ids import random_hex
from ..message.ingest import Incoming, deliver
from ..protocols import SmtpAuth
from ..smtp import (
    MAX_TEXT_LINE,
    NEED_DATA,
    Auth,
    AuthResponse,
    BadCommand,
    Bdat,
    ConnectionClosed,
    Data,
    Ehlo,
    Helo,
    Help,
    Mail,
    MessageData,
    Noop,
    Quit,
    Rcpt,
    Reply,
    Rset,
    SmtpConnection,
    StartTls,
    TlsReady,
    Vrfy,
    lines_fit,
)
from ..store import Envelope, MailStore, normalize_crlf
from ..store.quota import Quota
from .context import TenantContext
from .driver import BAD_COMMAND_BUDGET, SessionConfig, SessionDriver, peer_address
from .smtp_hooks import SmtpHooks

__all__ = ["MAX_RECIPIENTS", "SmtpPolicy", "SmtpSession", "open_session"]

MAX_RECIPIENTS = 1000
"""Recipients one transaction may name; RFC 5321 section 4.5.3.1.8 asks servers to take at least 100."""



@dataclass(frozen=True, slots=True)
class SmtpPolicy:
    """What the tenant decided about SMTP."""

    max_message_size: int
    auth: SmtpAuth = "none"
    plaintext_auth: bool = False
    """AUTH outside TLS is allowed even in `optional` and `required` mode."""
    catch_all: str | None = None
    """The mailbox that takes mail for unknown recipients; None refuses them."""
    quota: Quota | None = None
    """The tenant's storage limits: 452 4.2.2 at RCPT when full, 552 5.3.4 when a message would cross."""


_stamp: tuple[int, str] = (0, "")


def _date_now() -> str:
    """The RFC 5322 date for a Received: field, made at most once a second (formatting costs ~7 us)."""
    global _stamp
    now = int(time.time())
    if _stamp[0] != now:
        _stamp = (now, email.utils.format_datetime(email.utils.localtime()))
    return _stamp[1]


def _ok(text: str, enhanced: str = "2.0.0") -> Reply:
    return Reply.of(250, enhanced, text)


class SmtpSession(SessionDriver):
    """One SMTP session on an accepted stream.

    Args:
        stream: the accepted connection (plain TCP; TLS by the driver for STARTTLS or SMTPS).
        store: the tenant's mailboxes, where messages are delivered.
        config: limits, TLS, faults and transcripts of the tenant (the plans' `smtp` parts act
            through `server/smtp_hooks.py`).
        policy: size limit, AUTH rules and catch-all.
        implicit_tls: do the TLS handshake before the greeting (the SMTPS listener, RFC 8314).
    """

    __slots__ = (
        "_bdat",
        "_esmtp",
        "_sasl",
        "_smtputf8",
        "auth_user",
        "conn",
        "helo",
        "mail_from",
        "peer",
        "policy",
        "recipients",
        "store",
    )

    PROTOCOL = "smtp"
    NEED_DATA = NEED_DATA
    EOF_EVENT = ConnectionClosed
    BAD_EVENT = BadCommand
    TLS_READY = TlsReady
    INTERNAL_ERROR = b"421 4.3.0 internal server error, closing\r\n"
    SHUTDOWN = b"421 4.3.2 service shutting down, closing connection\r\n"
    STORE_FAILED = b"421 4.3.0 the message store failed, nothing was accepted; closing connection\r\n"

    def __init__(
        self,
        stream: trio.abc.Stream,
        store: MailStore,
        config: SessionConfig,
        policy: SmtpPolicy,
        *,
        implicit_tls: bool = False,
    ) -> None:
        super().__init__(stream, config, implicit_tls=implicit_tls)
        self.store = store
        self.policy = policy
        self.conn: SmtpConnection = SmtpConnection(
            max_message_size=policy.max_message_size, secure=implicit_tls
        )
        self.peer = peer_address(stream)
        self.helo: str | None = None
        self.auth_user: str | None = None
        self.mail_from: str | None = None
        self.recipients: dict[str, list[str]] = {}
        """Mailbox user -> the accepted recipient addresses that lead to it, in order."""
        self._esmtp = False
        self._smtputf8 = False
        self._bdat: list[bytes] | None = None
        self._sasl: SaslExchange[object] | None = None

    # --- the driver's hooks ---------------------------------------------------------------------

    async def _greet(self) -> bool:
        greeting = Reply.of(220, None, f"{self.config.hostname} ESMTP mockmail {__version__}")
        hooks = self.hooks
        if isinstance(hooks, SmtpHooks):
            return await hooks.greet(greeting)
        self._emit(greeting)
        return True

    def _draw(self, faults: FaultState) -> tuple[str, ...]:
        engine = faults.smtp
        if not engine.active:
            self.hooks = None
            return ()
        quirks = engine.session()
        self.hooks = SmtpHooks(self, quirks)
        return quirks.fired

    def _tls_started(self) -> None:
        # RFC 3207 section 4.2: forget everything learnt before the handshake; the client starts over.
        self.helo = None
        self.auth_user = None
        self._esmtp = False
        self.reset_transaction()

    def _peer(self) -> str:
        return self.peer  # read once, in __init__: the envelope and the Received: field need it too

    def _outcome(self, reply: Any) -> str:
        code = reply.code if isinstance(reply, Reply) else 0
        return "ok" if code < 400 else "temporary" if code < 500 else "permanent"

    def _reply_extra(self, reply: Any) -> tuple[int, int] | int | None:
        return len(reply.lines) if isinstance(reply, Reply) and len(reply.lines) > 1 else None

    def reset_transaction(self) -> None:
        """Forget the mail transaction: sender, recipients, SMTPUTF8 and BDAT chunks."""
        self.mail_from = None
        self.recipients = {}
        self._smtputf8 = False
        self._bdat = None

    # --- greeting and session commands -------------------------------------------------------------

    def _auth_offered(self) -> bool:
        policy = self.policy
        return (
            policy.auth == "none"
            or self.conn.secure
            or policy.plaintext_auth
            or self.config.tls_context is None  # no TLS to ask for
        )

    def _on_EHLO(self, event: Ehlo) -> Reply:
        self.reset_transaction()
        self.helo, self._esmtp = event.domain, True
        lines = [
            f"{self.config.hostname} greets {event.domain}",
            "PIPELINING",
            f"SIZE {self.policy.max_message_size:d}",
            "8BITMIME",
            "ENHANCEDSTATUSCODES",
            "SMTPUTF8",
            "CHUNKING",
        ]
        if self.config.tls_context is not None and not self.conn.secure:
            lines.append("STARTTLS")
        if self._auth_offered():
            lines.append("AUTH " + " ".join(offered(self.config.bearer_tokens)))
        lines.append("HELP")
        return Reply(250, lines, None)  # RFC 2034 section 3: no enhanced code on EHLO/HELO replies

    def _on_HELO(self, event: Helo) -> Reply:
        self.reset_transaction()
        self.helo, self._esmtp = event.domain, False
        return Reply.of(250, None, self.config.hostname)

    def _on_RSET(self, event: Rset) -> Reply:
        self.reset_transaction()
        return _ok("OK")

    def _on_NOOP(self, event: Noop) -> Reply:
        return _ok("OK")

    def _on_QUIT(self, event: Quit) -> Reply:
        return Reply.of(221, "2.0.0", f"{self.config.hostname} closing connection")

    def _on_VRFY(self, event: Vrfy) -> Reply:
        # RFC 5321 section 3.5.3: 252 when the server will not verify but will accept mail for it.
        return Reply.of(252, "2.5.0", "cannot VRFY user, but will accept message and attempt delivery")

    def _on_HELP(self, event: Help) -> Reply:
        return Reply(
            214,
            [
                "commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH",
                "see RFC 5321 and the mockmail README",
            ],
            "2.0.0",
        )

    def _on_STARTTLS(self, event: StartTls) -> Reply:
        if self.config.tls_context is None:
            return Reply.of(502, "5.5.1", "STARTTLS is not available: TLS is not configured on this server")
        if self.conn.secure:
            return Reply.of(503, "5.5.1", "the connection already uses TLS")
        return TlsReady()

    def _on_BadCommand(self, event: BadCommand) -> Reply:
        self._sasl = None
        last = self._count_bad(f"{BAD_COMMAND_BUDGET:d} bad commands in a row, closing")
        if last is not None:
            return Reply.of(421, "4.7.0", last)
        return Reply.of(event.code, event.enhanced, event.reason)

    # --- AUTH (RFC 4954) ----------------------------------------------------------------------------

    def _on_AUTH(self, event: Auth) -> Reply:
        if self.auth_user is not None:
            return Reply.of(503, "5.5.1", "already authenticated")
        if not self._esmtp:
            return Reply.of(503, "5.5.1", "AUTH needs EHLO first")
        if not self._auth_offered():
            return Reply.of(538, "5.7.11", "encryption required for requested authentication mechanism")
        tokens = self.config.bearer_tokens
        exchange = open_exchange(event.mechanism, self._check, hostname=self.config.hostname, tokens=tokens)
        if exchange is None:
            names = " ".join(offered(tokens))
            return Reply.of(504, "5.5.4", f"unrecognized authentication type, use one of: {names}")
        return self._sasl_step(exchange, exchange.start(event.initial_response))

    def _on_AuthResponse(self, event: AuthResponse) -> Reply:
        exchange, self._sasl = self._sasl, None
        assert exchange is not None  # the core yields responses only inside an exchange
        return self._sasl_step(
            exchange, exchange.cancel() if event.cancelled else exchange.respond(event.data)
        )

    def _check(self, credentials: Credentials) -> object | None:
        if self.policy.auth == "none":
            return credentials  # any credentials will do, and none are needed
        return authenticate(self.store, credentials)

    def _sasl_step(self, exchange: SaslExchange[object], step: Step[object]) -> Reply:
        if isinstance(step, Challenge):
            self._sasl = exchange
            return Reply.of(334, None, step.encoded())
        if isinstance(step, Granted):
            self.auth_user = step.user
            if self.recorder is not None:
                self.recorder.user = step.user
            return Reply.of(235, "2.7.0", "authentication successful")
        if isinstance(step, Denied):
            self._login_failed()
            if self._closing is not None:
                return Reply.of(
                    421, "4.7.0", "authentication credentials invalid, too many failures: closing"
                )
            return Reply.of(535, "5.7.8", "authentication credentials invalid")
        if isinstance(step, Cancelled):
            return Reply.of(501, "5.0.0", "AUTH cancelled by client")
        if isinstance(step, Malformed):
            return Reply.of(501, "5.5.2", step.reason)
        return Reply.of(535, "5.7.8", step.reason)  # Refused: the mechanism could not go on

    # --- the mail transaction -------------------------------------------------------------------------

    def _on_MAIL(self, event: Mail) -> Reply:
        if self.policy.auth == "required" and self.auth_user is None:
            return Reply.of(530, "5.7.0", "authentication required")
        params = event.params
        if params and not self._esmtp:
            return Reply.of(555, "5.5.4", "MAIL parameters need EHLO, not HELO")
        unknown = sorted(set(params) - {"SIZE", "BODY", "SMTPUTF8", "AUTH"})
        if unknown:
            return Reply.of(555, "5.5.4", f"MAIL parameter {unknown[0]} not recognized")
        size = params.get("SIZE")
        if "SIZE" in params:
            if size is None or not size.isascii() or not size.isdigit() or len(size) > 18:
                return Reply.of(501, "5.5.4", "SIZE takes a number of octets")
            if int(size) > self.policy.max_message_size:
                return Reply.of(
                    552, "5.3.4", f"message size exceeds the limit of {self.policy.max_message_size:d} octets"
                )
        body = params.get("BODY", "7BIT")
        if body is None or body.upper() not in ("7BIT", "8BITMIME"):
            return Reply.of(501, "5.5.4", "BODY takes 7BIT or 8BITMIME")
        if "SMTPUTF8" in params and params["SMTPUTF8"] is not None:
            return Reply.of(501, "5.5.4", "SMTPUTF8 takes no value")
        smtputf8 = "SMTPUTF8" in params
        if not smtputf8 and not event.address.isascii():
            return Reply.of(553, "5.6.7", "non-ASCII address needs the SMTPUTF8 parameter")
        self.reset_transaction()
        self.mail_from, self._smtputf8 = event.address, smtputf8
        return _ok(f"sender <{event.address}> OK", "2.1.0")

    def mailbox_for(self, address: str) -> str | None:
        """The mailbox user `address` delivers to (see the module's delivery rules), or None."""
        store = self.store
        if store.find(address) is not None:
            return address
        local = address.rpartition("@")[0] or address
        if store.find(local) is not None:
            return local
        catch_all = self.policy.catch_all
        if catch_all is not None and store.find(catch_all) is not None:
            return catch_all
        return None

    def _on_RCPT(self, event: Rcpt) -> Reply:
        if event.params:
            return Reply.of(555, "5.5.4", f"RCPT parameter {sorted(event.params)[0]} not recognized")
        if not self._smtputf8 and not event.address.isascii():
            return Reply.of(553, "5.6.7", "non-ASCII address needs the SMTPUTF8 parameter on MAIL")
        if sum(len(v) for v in self.recipients.values()) >= MAX_RECIPIENTS:
            return Reply.of(452, "4.5.3", f"too many recipients (at most {MAX_RECIPIENTS:d} per message)")
        user = self.mailbox_for(event.address)
        if user is None:
            return Reply.of(550, "5.1.1", f"no mailbox here for <{event.address}>")
        full = self.policy.quota.full() if self.policy.quota is not None else None
        if full is not None:
            return Reply.of(452, "4.2.2", f"the tenant's storage is full ({full} limit); try later")
        self.recipients.setdefault(user, []).append(event.address)
        return _ok(f"recipient <{event.address}> OK", "2.1.5")

    def _on_DATA(self, event: Data) -> Reply:
        return Reply.of(354, None, "end data with <CR><LF>.<CR><LF>")

    def _on_MessageData(self, event: MessageData) -> Reply:
        try:
            if event.problem == "too-large":
                return self._too_large()
            if event.problem == "line-too-long":
                return self._line_too_long()
            content = event.content
            # CRLF throughout (the core counted): the view is copied once, into the stored message.
            return self._deliver(normalize_crlf(bytes(content)) if event.bare_line_ends else content)
        finally:
            self.reset_transaction()

    def _on_BDAT(self, event: Bdat) -> Reply:
        if event.dropped:
            self.reset_transaction()
            return self._too_large()
        parts = self._bdat if self._bdat is not None else []
        parts.append(event.data)
        if not event.last:
            self._bdat = parts
            return _ok(f"{event.size:d} octets received")
        self._bdat = None
        content = b"".join(parts)
        try:
            if not lines_fit(content, len(content)):
                return self._line_too_long()
            return self._deliver(normalize_crlf(content))
        finally:
            self.reset_transaction()

    def _too_large(self) -> Reply:
        limit = self.policy.max_message_size
        return Reply.of(552, "5.3.4", f"message size exceeds the limit of {limit:d} octets; nothing stored")

    def _line_too_long(self) -> Reply:
        return Reply.of(
            554,
            "5.6.0",
            f"a text line is over {MAX_TEXT_LINE:d} octets (RFC 5321 section 4.5.3.1.6); nothing stored",
        )

    def _deliver(self, content: bytes | memoryview) -> Reply:
        """Store one copy per recipient mailbox, all in this synchronous block and one store transaction
        (every copy or none), and answer for them.

        `content` is CRLF-normalized and, unless empty, ends in CRLF.
        """
        mail_from = self.mail_from
        assert mail_from is not None  # the core allows DATA/BDAT only after MAIL and RCPT
        queue_id = random_hex(6)
        copies = []
        for user, addresses in self.recipients.items():
            mailbox = self.store.find(user)
            if mailbox is None:  # deleted since RCPT
                continue
            envelope = Envelope(
                mail_from=mail_from,
                rcpt_to=list(addresses),
                peer=self.peer,
                helo=self.helo or "",
                tls=self.conn.secure,
                auth=self.auth_user,
            )
            copies.append((mailbox, self._trace(mail_from, addresses, queue_id), envelope))
        quota = self.policy.quota
        stored_ids = []
        try:
            if quota is not None:  # every copy counts: all of them fit, or none is stored
                quota.check(len(copies), sum(len(trace) + len(content) for _, trace, _ in copies))
            # One unit for every recipient mailbox, before the 250; one copy is one write by itself.
            with self.store.transaction() if len(copies) > 1 else contextlib.nullcontext():
                for mailbox, trace, envelope in copies:
                    stored = deliver(
                        mailbox,
                        [Incoming(trace + content, None, "DATA", normalized=True)],
                        limit=self.policy.max_message_size + len(trace),
                        via="smtp",
                        envelope=envelope,
                    )
                    stored_ids.append(stored[0].id)
        except StorageLimit as exc:
            return Reply.of(552, "5.3.4", f"message refused: {exc.detail}")
        except DomainError as exc:
            return Reply.of(554, "5.6.0", f"message refused: {exc}")
        if not stored_ids:
            return Reply.of(554, "5.1.1", "no recipient mailbox exists any more; nothing stored")
        return _ok(f"OK queued as {queue_id}")

    def _trace(self, mail_from: str, addresses: list[str], queue_id: str) -> bytes:
        """`Return-Path:` and `Received:` (RFC 5321 section 4.4; the with-protocol of RFC 3848)."""
        protocol = (
            ("UTF8SMTP" if self._smtputf8 else "ESMTP" if self._esmtp else "SMTP")
            + ("S" if self.conn.secure else "")
            + ("A" if self.auth_user is not None else "")
        )
        host, _, _port = self.peer.rpartition(":")
        source = f"from {self.helo or 'unknown'} ([{host.strip('[]') or 'unknown'}])"
        recipient = f"\r\n\tfor <{addresses[0]}>" if len(addresses) == 1 else ""
        stamp = _date_now()
        received = (
            f"Received: {source}\r\n\tby {self.config.hostname} (mockmail) with {protocol} id {queue_id}"
            f"{recipient}; {stamp}\r\n"
        )
        return f"Return-Path: <{mail_from}>\r\n{received}".encode()


SmtpSession._HANDLERS = {  # built once: no getattr per line
    Ehlo: SmtpSession._on_EHLO,
    Helo: SmtpSession._on_HELO,
    Mail: SmtpSession._on_MAIL,
    Rcpt: SmtpSession._on_RCPT,
    Data: SmtpSession._on_DATA,
    MessageData: SmtpSession._on_MessageData,
    Bdat: SmtpSession._on_BDAT,
    Rset: SmtpSession._on_RSET,
    Noop: SmtpSession._on_NOOP,
    Quit: SmtpSession._on_QUIT,
    Vrfy: SmtpSession._on_VRFY,
    Help: SmtpSession._on_HELP,
    StartTls: SmtpSession._on_STARTTLS,
    Auth: SmtpSession._on_AUTH,
    AuthResponse: SmtpSession._on_AuthResponse,
    BadCommand: SmtpSession._on_BadCommand,
}


def open_session(stream: trio.abc.Stream, context: TenantContext, implicit_tls: bool) -> SmtpSession:
    """The SMTP session factory of `mockmail.protocols` (SMTP on `smtp`, SMTPS on `smtps`): the tenant's
    SMTP options (`smtp_auth`, `smtp_plaintext_auth`, `catch_all`) become the session's policy."""
    options = context.options
    policy = SmtpPolicy(
        max_message_size=context.max_message_size,
        quota=context.quota,
        auth=options.smtp_auth,
        plaintext_auth=options.smtp_plaintext_auth,
        catch_all=options.catch_all,
    )
    return SmtpSession(stream, context.store, context.config, policy, implicit_tls=implicit_tls)
