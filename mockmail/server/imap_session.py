"""`ImapSession`: the IMAP handler, mapping the core's events to RFC 9051 responses (compliant only).

The loop, deadlines, TLS and wire faults are the driver's (`server/driver.py`); the selected folder's view
and its pending updates are `server/imap_selected.py`'s; FETCH items and SEARCH/SORT are rendered and
decided by `server/imap_fetch.py` and `server/imap_search.py`; the folder commands are
`server/imap_folders.py`'s and the message commands `server/imap_messages.py`'s (mixins of this class).
Faults act through `server/imap_hooks.py`, as POP3's and SMTP's do through theirs: `hooks` stays None
while no plan of the tenant has an `imap` part (the compliant fast path).

Rules kept here:
- Every change to the store is one synchronous store call made before the tagged OK is queued: what the
  client hears acknowledged is stored (and committed, for a persistent store).
- Untagged updates (EXPUNGE, FETCH FLAGS, EXISTS) go out just before a tagged completion, except that
  EXPUNGE waits while FETCH, STORE, SEARCH or SORT by sequence number is answered (RFC 9051 section
  7.5.1); during IDLE they go out at once, through the driver's `notify()`.
- POP3 beside IMAP, as Dovecot does it: IMAP takes no maildrop lock (a POP3 session holding the lock does
  not keep IMAP out, nor the reverse); a POP3 QUIT's deletions reach IMAP sessions as EXPUNGEs; an IMAP
  EXPUNGE of a message a POP3 session listed leaves that POP3 session's numbering alone: the message
  answers "no longer in the maildrop" to RETR and TOP, and its DELE at QUIT deletes nothing more.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import trio

from .. import __version__
from ..errors import FolderNotFound
from ..faults import FaultState
from ..imap import (
    AUTHENTICATIONFAILED,
    CANNOT,
    CLOSED,
    NEED_DATA,
    NONEXISTENT,
    PRIVACYREQUIRED,
    READ_ONLY,
    READ_WRITE,
    TOOBIG,
    Append,
    Authenticate,
    AuthenticateResponse,
    Bad,
    BadCommand,
    Bye,
    Capability,
    CapabilityResponse,
    Check,
    Close,
    Code,
    ConnectionClosed,
    Continuation,
    ContinuationNeeded,
    Copy,
    Create,
    Delete,
    Enable,
    EnabledResponse,
    Examine,
    ExistsResponse,
    Expunge,
    Fetch,
    FetchRows,
    FlagsResponse,
    Greeting,
    Id,
    Idle,
    IdleDone,
    IdResponse,
    ImapConnection,
    List,
    ListResponse,
    LiteralTooLarge,
    Login,
    Logout,
    Lsub,
    Mode,
    Move,
    Namespace,
    No,
    Noop,
    Ok,
    RecentResponse,
    Rename,
    Response,
    SaslChallenge,
    Search,
    Select,
    Sort,
    StartTls,
    State,
    Status,
    Store,
    Subscribe,
    Unselect,
    Unsubscribe,
    Untagged,
    capability_code,
    permanent_flags,
    uid_next,
    uid_validity,
)
from ..login.credentials import authenticate, password_credentials
from ..login.exchange import Cancelled, Denied, Granted, Malformed, SaslExchange, Step, offered, open_exchange
from ..login.sasl import Challenge, Credentials
from ..store import SYSTEM_FLAGS, Change, FolderInfo, Mailbox, MailboxDeleted, MailStore
from ..store.quota import Quota
from .context import TenantContext
from .driver import BAD_COMMAND_BUDGET, SessionConfig, SessionDriver
from .imap_fetch import MessageCache
from .imap_folders import DELIMITER, FolderCommands
from .imap_hooks import ImapHooks
from .imap_messages import MessageCommands
from .imap_selected import SelectedFolder

__all__ = ["EXTENSIONS", "ImapSession", "open_session"]

EXTENSIONS = (
    "ENABLE",
    "IDLE",
    "UIDPLUS",
    "MOVE",
    "LITERAL+",
    "NAMESPACE",
    "UNSELECT",
    "ID",
    "ESEARCH",
    "SORT",
    "CHILDREN",
    "SPECIAL-USE",
    "CREATE-SPECIAL-USE",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "STATUS=SIZE",
)
"""The extensions this server implements, in its CAPABILITY order (SASL-IR follows when AUTH= is listed)."""
_ENABLEABLE = {"IMAP4REV2": "IMAP4rev2", "UTF8=ACCEPT": "UTF8=ACCEPT"}
_LOGGED_IN = (State.AUTHENTICATED, State.SELECTED)
_ANSWERED = (Ok, Continuation, SaslChallenge)
_REFUSED = (No, Bad)
_TAGGED = (Ok, No, Bad)
"""What answers a command well (tagged, or the go-ahead of a literal, IDLE or a SASL step)."""
_SELECT_LINES: dict[tuple[object, ...], bytes] = {}
"""SELECT's untagged lines as sent, by what they say (the folder's figures and flags, read-only, UTF-8):
sessions that select the same unchanged folder send the same bytes."""
_SELECT_LINES_KEPT = 256
"""Distinct SELECT answers kept (the dict is emptied when full)."""


_GREETINGS: dict[tuple[object, ...], Greeting] = {}
"""The greeting by what its capabilities depend on (`ImapSession._greet`): the same object each time, so
that rendering it (memoized by the writer) compares it by identity, not capability by capability."""
_KEPT = 64


@functools.lru_cache(maxsize=_KEPT)
def _logged_in_code(max_message_size: int) -> Code:
    """The CAPABILITY code of a login's OK (RFC 9051 section 6.2.3): the capabilities after login."""
    return capability_code(["IMAP4rev1", "IMAP4rev2", *EXTENSIONS, f"APPENDLIMIT={max_message_size:d}"])


class _Conn(ImapConnection):
    """The core with the one property the driver reads by another name."""

    __slots__ = ()

    @property
    def mid_line(self) -> bool:
        return self.mid_command


class TlsReady(Ok):
    """STARTTLS's OK: a type of its own, so that the driver starts the handshake once it is out.  It is
    named `Ok` because the core and the writer read the status from the class name."""

    __slots__ = ()


TlsReady.__name__ = TlsReady.__qualname__ = "Ok"


class ImapSession(SessionDriver, FolderCommands, MessageCommands):
    """One IMAP session on an accepted stream.

    Args:
        stream: the accepted connection (plain TCP; wrapped in TLS by the driver for STARTTLS or IMAPS).
        store: the tenant's mailboxes.
        config: limits, TLS, faults and transcripts of the tenant.
        max_message_size: APPENDLIMIT, the largest message APPEND stores.
        login_requires_tls: LOGIN and AUTHENTICATE wait for TLS (LOGINDISABLED) when the server has TLS.
        quota: the tenant's storage limits, checked by APPEND.
    """

    __slots__ = (
        "_cache",
        "_mailbox",
        "_sasl",
        "_stop_watching",
        "conn",
        "login_requires_tls",
        "max_message_size",
        "quota",
        "selected",
        "store",
    )

    PROTOCOL = "imap"
    NEED_DATA = NEED_DATA
    EOF_EVENT = ConnectionClosed
    BAD_EVENT = BadCommand
    TLS_READY = TlsReady
    INTERNAL_ERROR = b"* BYE [SERVERBUG] internal server error\r\n"
    SHUTDOWN = b"* BYE [UNAVAILABLE] server shutting down\r\n"
    STORE_FAILED = b"* BYE [UNAVAILABLE] the message store failed, nothing was changed\r\n"
    SPEAKS_UNPROMPTED = True

    def __init__(
        self,
        stream: trio.abc.Stream,
        store: MailStore,
        config: SessionConfig,
        *,
        max_message_size: int,
        login_requires_tls: bool = False,
        quota: Quota | None = None,
        implicit_tls: bool = False,
    ) -> None:
        super().__init__(stream, config, implicit_tls=implicit_tls)
        self.store = store
        self.max_message_size = max_message_size
        self.login_requires_tls = login_requires_tls
        self.quota = quota
        self.conn: _Conn = _Conn(
            append_limit=max_message_size,
            secure=implicit_tls,
            auth_mechanisms=offered(config.bearer_tokens),
            extensions=EXTENSIONS,
        )
        self.selected: SelectedFolder | None = None
        self._mailbox: Mailbox | None = None
        self._sasl: SaslExchange[Mailbox] | None = None
        self._stop_watching: Callable[[], None] | None = None
        self._cache = MessageCache()

    # --- the driver's hooks ---------------------------------------------------------------------

    async def _greet(self) -> bool:
        conn = self.conn
        key = (
            conn.secure,
            self.config.tls_context is not None,
            self.login_disabled,
            conn.auth_mechanisms,
            self.max_message_size,
        )
        greeting = _GREETINGS.get(key)
        if greeting is None:  # what `capabilities` depends on before login: one Greeting each
            greeting = Greeting("mockmail IMAP4rev2 server ready", capability_code(self.capabilities()))
            if len(_GREETINGS) >= _KEPT:
                _GREETINGS.clear()
            _GREETINGS[key] = greeting
        self._emit(greeting)
        return True

    def _draw(self, faults: FaultState) -> tuple[str, ...]:
        engine = faults.imap
        if not engine.active:
            self.hooks = None
            return ()
        quirks = engine.session(self.user)
        self.hooks = ImapHooks(self, quirks)
        return quirks.fired

    def _release(self) -> None:
        stop, self._stop_watching = self._stop_watching, None
        if stop is not None:
            stop()

    def _tls_started(self) -> None:
        self.conn.trailing_data = b""  # plaintext pipelined after STARTTLS never counts (CVE-2011-0411)

    def _outcome(self, reply: Any) -> str | None:
        if isinstance(reply, _ANSWERED):
            return "ok"
        if isinstance(reply, _REFUSED):
            return "error"
        return None  # untagged: it completes no command

    def _wakeable(self) -> bool:
        return self.conn.mode is Mode.IDLE  # _unprompted has nothing to say otherwise

    def _unprompted(self) -> Sequence[bytes]:
        if self.conn.mode is not Mode.IDLE:
            return ()
        lines: list[bytes] = []
        if self._mailbox is None:
            lines.append(self.conn.send(Bye("the mailbox was deleted", NONEXISTENT)))
            self._closing = "mailbox deleted"
        elif self.selected is not None:
            hooks = self.hooks
            if isinstance(hooks, ImapHooks) and hooks.idle_updates_held():
                return lines
            lines.extend(self.conn.send(response) for response in self.selected.updates())
        return lines

    # --- the seams the quirk hooks use (`server/seams.py`) ------------------------------------------

    @property
    def commands_answered(self) -> int:
        """Commands answered in the session so far, the one being answered included."""
        return self._answered

    def folder_messages(self, name: str) -> int | None:
        """How many messages the logged-in user's folder `name` holds; None when there is no such folder."""
        mailbox = self._mailbox
        if mailbox is None:
            return None
        try:
            return mailbox.folder(name).messages
        except FolderNotFound:
            return None

    # --- capabilities -----------------------------------------------------------------------------

    @property
    def login_disabled(self) -> bool:
        """LOGIN and AUTHENTICATE wait for TLS: the tenant asks it, the server has TLS, the session is plain."""
        return self.login_requires_tls and self.config.tls_context is not None and not self.conn.secure

    def capabilities(self) -> tuple[str, ...]:
        caps = ["IMAP4rev1", "IMAP4rev2"]
        if self.conn.state is State.NOT_AUTHENTICATED:
            if self.config.tls_context is not None and not self.conn.secure:
                caps.append("STARTTLS")
            if self.login_disabled:
                caps.append("LOGINDISABLED")
            else:
                caps.extend(f"AUTH={name}" for name in self.conn.auth_mechanisms)
                caps.append("SASL-IR")
        caps.extend(EXTENSIONS)
        caps.append(f"APPENDLIMIT={self.max_message_size:d}")
        return tuple(caps)

    # --- watching the store ---------------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        """A change to any mailbox of the store (synchronous, after it is stored): note what concerns us."""
        mailbox = self._mailbox
        if change.mailbox is not mailbox:
            return
        if isinstance(change, MailboxDeleted):
            self._mailbox = None
            if self.selected is not None:
                self.selected.gone = True
            self.notify()
            return
        selected = self.selected
        if selected is not None and selected.changed(change) and self.conn.mode is Mode.IDLE:
            self.notify()

    def _mailbox_gone(self) -> Response:
        """The answer to any command once the mailbox was deleted under the session: BYE, and close."""
        self._emit(Bye("the mailbox was deleted", NONEXISTENT))
        self._closing = "mailbox deleted"
        return No("the mailbox was deleted", NONEXISTENT)

    def _emit_rows(self, rows: FetchRows) -> bytes:
        """Queue a FETCH answer made of rows (no quirk hooks): one rendering, and in the transcript one
        line per message, as a FetchResponse each would give; return the bytes."""
        (block,) = self.conn.send_chunks(rows)  # rows hold no literal: one chunk
        self._emit_rendered_rows(block)
        return block

    def _emit_rendered_rows(self, block: bytes) -> None:
        """Queue the bytes of a FETCH answer of rows (`_emit_rows`'s, or the same answer kept)."""
        recorder = self.recorder
        if recorder is not None:
            recorder.server_lines(block[:-2])
        self._outbox.append(block)

    def _updates(self, *, expunges: bool = True, uid: bool = False) -> None:
        """Queue what is pending of the selected folder, before a tagged completion."""
        selected = self.selected
        if selected is not None and selected.pending:
            for response in selected.updates(expunges=expunges, uid=uid):
                self._emit(response)

    # --- any state ---------------------------------------------------------------------------------

    def _on_capability(self, event: Capability) -> Response:
        self._emit(CapabilityResponse(self.capabilities()))
        return Ok("CAPABILITY completed")

    def _on_noop(self, event: Noop) -> Response:
        return Ok("NOOP completed")

    def _on_logout(self, event: Logout) -> Response:
        self._emit(Bye("mockmail IMAP4rev2 server logging out"))
        return Ok("LOGOUT completed")

    def _on_id(self, event: Id) -> Response:
        self._emit(IdResponse((("name", "mockmail"), ("version", __version__))))
        return Ok("ID completed")

    def _on_bad(self, event: BadCommand) -> Response:
        self._sasl = None
        last = self._count_bad(f"{BAD_COMMAND_BUDGET:d} bad commands in a row, closing")
        if last is not None:
            self._emit(Bye(last))
            return Bad(last)
        return Bad(event.reason)

    def _on_continuation_needed(self, event: ContinuationNeeded) -> Response:
        return Continuation("Ready for literal data")

    def _on_literal_too_large(self, event: LiteralTooLarge) -> Response:
        what = (
            f"message of {event.size:d} octets"
            if event.verb == "APPEND"
            else f"literal of {event.size:d} octets"
        )
        return No(f"{what} is over the limit of {event.limit:d}", TOOBIG)

    # --- not authenticated ------------------------------------------------------------------------

    def _on_starttls(self, event: StartTls) -> Response:
        if self.config.tls_context is None:
            return Bad("STARTTLS is not available: TLS is not configured on this server")
        return TlsReady("Begin TLS negotiation now")

    def _on_login(self, event: Login) -> Response:
        if self.login_disabled:
            return No("LOGIN needs TLS first: use STARTTLS", PRIVACYREQUIRED)
        return self._login(password_credentials(event.user, event.password))

    def _check(self, credentials: Credentials) -> Mailbox | None:
        return authenticate(self.store, credentials)

    def _login(self, credentials: Credentials) -> Response:
        mailbox = authenticate(self.store, credentials)
        if mailbox is None:
            return self._denied()
        return self._logged_in(credentials.user, mailbox)

    def _denied(self) -> Response:
        self._login_failed()
        return No("invalid user name or password", AUTHENTICATIONFAILED)

    def _logged_in(self, user: str, mailbox: Mailbox) -> Response:
        self._mailbox = mailbox
        self.user = user
        if self.recorder is not None:
            self.recorder.user = user
        if self._stop_watching is None:
            self._stop_watching = self.store.watch_changes(self._on_change)
        faults = self.config.faults
        if faults is not None and user in faults.mailbox_plans:
            self.redraw_at_next_command()
        return Ok(f"{user} logged in", _logged_in_code(self.max_message_size))

    def _on_authenticate(self, event: Authenticate) -> Response:
        if self.login_disabled:
            return No("AUTHENTICATE needs TLS first: use STARTTLS", PRIVACYREQUIRED)
        tokens = self.config.bearer_tokens
        exchange = open_exchange(event.mechanism, self._check, hostname=self.config.hostname, tokens=tokens)
        if exchange is None:
            return No(f"unsupported SASL mechanism, use one of: {' '.join(offered(tokens))}", CANNOT)
        return self._sasl_step(exchange, exchange.start(event.initial_response))

    def _on_authenticate_response(self, event: AuthenticateResponse) -> Response:
        exchange, self._sasl = self._sasl, None
        assert exchange is not None  # the core yields responses only inside an exchange
        return self._sasl_step(
            exchange, exchange.cancel() if event.cancelled else exchange.respond(event.data)
        )

    def _sasl_step(self, exchange: SaslExchange[Mailbox], step: Step[Mailbox]) -> Response:
        if isinstance(step, Challenge):
            self._sasl = exchange
            return SaslChallenge(step.data)
        if isinstance(step, Granted):
            return self._logged_in(step.user, step.grant)
        if isinstance(step, Denied):
            return self._denied()
        if isinstance(step, Cancelled):
            return Bad("AUTHENTICATE cancelled by the client")
        if isinstance(step, Malformed):
            return Bad(step.reason)
        return No(step.reason)  # Refused: no login was tried

    # --- authenticated ------------------------------------------------------------------------------

    def _box(self) -> Mailbox:
        mailbox = self._mailbox
        assert mailbox is not None  # the core allows these commands only after login; deletion ends us
        return mailbox

    def _on_enable(self, event: Enable) -> Response:
        wanted = tuple(_ENABLEABLE[c] for c in event.capabilities if c in _ENABLEABLE)
        fresh = tuple(c for c in wanted if c.upper() not in self.conn.enabled)
        self._emit(EnabledResponse(fresh))
        return Ok("ENABLE completed")

    def _on_select(self, event: Select | Examine) -> Response:
        if self.selected is not None:
            self.selected = None
            self._emit(Untagged("OK", "previous mailbox closed", CLOSED))
        mailbox = self._box()
        try:
            view = SelectedFolder(mailbox, event.mailbox, read_only=isinstance(event, Examine))
        except FolderNotFound:
            return No(f"no folder {event.mailbox}", NONEXISTENT)
        info = mailbox.folder(view.folder)
        flags = self._folder_flags(view)
        rev2 = self.conn.rev2
        unseen = None if rev2 else view.first_unseen()
        if rev2 or self.hooks is not None:  # a LIST line of its own; the quirk hooks see each line
            self._emit_lines(self._select_lines(view, info, flags, unseen, rev2))
        else:
            # The same lines for every session that selects an unchanged folder: rendered once.
            key = (len(view.uids), unseen, view.uidvalidity, info.uidnext, view.read_only, flags, self.conn.utf8)
            block = _SELECT_LINES.get(key)
            if block is None:
                send = self.conn.send
                block = b"".join([send(line) for line in self._select_lines(view, info, flags, unseen, rev2)])
                if len(_SELECT_LINES) >= _SELECT_LINES_KEPT:
                    _SELECT_LINES.clear()
                _SELECT_LINES[key] = block
            if self.recorder is not None:
                self.recorder.server_lines(block[:-2])
            self._outbox.append(block)
        self.selected = view
        verb = "EXAMINE" if view.read_only else "SELECT"
        return Ok(f"{verb} completed", READ_ONLY if view.read_only else READ_WRITE)

    def _select_lines(
        self, view: SelectedFolder, info: FolderInfo, flags: tuple[str, ...], unseen: int | None, rev2: bool
    ) -> list[Response]:
        """SELECT's untagged lines (RFC 9051 section 6.3.2; RFC 3501 section 6.3.1 for rev1 clients)."""
        lines: list[Response] = [FlagsResponse(flags), ExistsResponse(len(view.uids))]
        if not rev2:
            lines.append(RecentResponse(0))
            if unseen is not None:
                lines.append(
                    Untagged("OK", f"message {unseen:d} is the first unseen", Code("UNSEEN", (unseen,)))
                )
        lines.append(Untagged("OK", "UIDs valid", uid_validity(view.uidvalidity)))
        lines.append(Untagged("OK", "predicted next UID", uid_next(info.uidnext)))
        permanent = () if view.read_only else (*flags, "\\*")
        lines.append(Untagged("OK", "flags permitted", permanent_flags(permanent)))
        if rev2:
            lines.append(
                ListResponse(
                    self._attributes(info.name, self._box(), info.special_use, False), DELIMITER, info.name
                )
            )
        return lines

    @staticmethod
    def _folder_flags(view: SelectedFolder) -> tuple[str, ...]:
        return (*SYSTEM_FLAGS, *view.keywords())

    def _on_idle(self, event: Idle) -> Response:
        self.notify()  # what is pending goes out as soon as the continuation is
        return Continuation("idling")

    def _on_idle_done(self, event: IdleDone) -> Response:
        return Ok("IDLE terminated")

    # --- selected -----------------------------------------------------------------------------------

    def _on_check(self, event: Check) -> Response:
        return Ok("CHECK completed")

    def _on_close(self, event: Close) -> Response:
        view = self._view()
        self.selected = None
        if not view.read_only and not view.gone:
            deleted = [u for u in view.uids if "\\Deleted" in view.messages[u].flags]
            if deleted:
                self._box().expunge(view.folder, deleted)
        return Ok("CLOSE completed")

    def _on_unselect(self, event: Unselect) -> Response:
        self.selected = None
        return Ok("UNSELECT completed")


def _answering(
    handler: Callable[[Any, Any], Response], *, searching: bool = False, updates: bool = True
) -> Callable[[Any, Any], Response]:
    """`handler`, followed by the selected folder's pending updates before its tagged completion."""

    def answer(session: ImapSession, event: Any) -> Response:
        if session._mailbox is None and session.conn.state in _LOGGED_IN:
            return session._mailbox_gone()
        reply = handler(session, event)
        if updates and isinstance(reply, _TAGGED) and session.conn.state is not State.LOGOUT:
            uid = bool(getattr(event, "uid", False))
            session._updates(expunges=not searching or uid, uid=uid)
        return reply

    return answer


ImapSession._HANDLERS = {  # built once: no getattr per line
    Capability: _answering(ImapSession._on_capability),
    Noop: _answering(ImapSession._on_noop),
    Logout: _answering(ImapSession._on_logout, updates=False),
    Id: _answering(ImapSession._on_id),
    BadCommand: _answering(ImapSession._on_bad, updates=False),
    ContinuationNeeded: _answering(ImapSession._on_continuation_needed, updates=False),
    LiteralTooLarge: _answering(ImapSession._on_literal_too_large, updates=False),
    StartTls: _answering(ImapSession._on_starttls, updates=False),
    Login: _answering(ImapSession._on_login, updates=False),
    Authenticate: _answering(ImapSession._on_authenticate, updates=False),
    AuthenticateResponse: _answering(ImapSession._on_authenticate_response, updates=False),
    Enable: _answering(ImapSession._on_enable),
    Select: _answering(ImapSession._on_select, updates=False),
    Examine: _answering(ImapSession._on_select, updates=False),
    Create: _answering(ImapSession._on_create),
    Delete: _answering(ImapSession._on_delete),
    Rename: _answering(ImapSession._on_rename),
    Subscribe: _answering(ImapSession._on_subscribe),
    Unsubscribe: _answering(ImapSession._on_subscribe),
    List: _answering(ImapSession._on_list),
    Lsub: _answering(ImapSession._on_lsub),
    Namespace: _answering(ImapSession._on_namespace),
    Status: _answering(ImapSession._on_status),
    Append: _answering(ImapSession._on_append),
    Idle: _answering(ImapSession._on_idle, updates=False),
    IdleDone: _answering(ImapSession._on_idle_done),
    Check: _answering(ImapSession._on_check),
    Close: _answering(ImapSession._on_close, updates=False),
    Unselect: _answering(ImapSession._on_unselect, updates=False),
    Expunge: _answering(ImapSession._on_expunge),
    Search: _answering(ImapSession._on_search, searching=True),
    Sort: _answering(ImapSession._on_sort, searching=True),
    Fetch: _answering(ImapSession._on_fetch, searching=True),
    Store: _answering(ImapSession._on_store, searching=True),
    Copy: _answering(ImapSession._on_copy),
    Move: _answering(ImapSession._on_move),
}


def open_session(stream: trio.abc.Stream, context: TenantContext, implicit_tls: bool) -> ImapSession:
    """The IMAP session factory of `mockmail.protocols` (IMAP on `imap`, IMAPS on `imaps`)."""
    return ImapSession(
        stream,
        context.store,
        context.config,
        max_message_size=context.max_message_size,
        login_requires_tls=bool(getattr(context.options, "imap_login_requires_tls", False)),
        quota=context.quota,
        implicit_tls=implicit_tls,
    )
