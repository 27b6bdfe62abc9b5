"""`ImapConnection`: the server side of one IMAP session, without I/O.

The shape is h11's: `receive_data(bytes)` only buffers (`b""` means end of file), `next_event()` returns
the next client event or `NEED_DATA`, and `send(response)` returns the bytes to write and moves the
state.  It never touches a socket or a clock; the adapter in `mockmail.server` decides outcomes and this
object checks that what it sends is legal now, and renders it.

- Commands are read one at a time: every command must get its tagged completion (`Ok`, `No`, `Bad`)
  before the next is read, so a pipelining client gets answers in order.  Untagged responses may be
  sent at any time after the greeting (EXISTS during IDLE, an ALERT, BYE).
- A synchronizing literal yields `ContinuationNeeded`: send `Continuation()` and reading goes on, or
  send `No`/`Bad` and the command is over (the client sends no octets).  A command the state does not
  allow is refused there and then, before its literal is asked for.
- AUTHENTICATE: each `SaslChallenge` makes the next line an `AuthenticateResponse`; the tagged
  completion ends the exchange.  IDLE: a `Continuation` starts it, the client's line is `IdleDone`
  (anything else a `BadCommand`), and the tagged completion ends it.
- Sending `EnabledResponse` with IMAP4rev2 or UTF8=ACCEPT switches mailbox names from modified UTF-7 to
  UTF-8, both ways (RFC 9051 section 5.1, RFC 6855 section 3).
- STARTTLS (RFC 9051 section 6.2.1): once its OK is sent, whatever the client pipelined after it is
  moved to `trailing_data` and never parsed.
"""

from __future__ import annotations

from ._errors import LocalProtocolError
from ._events import (
    NEED_DATA,
    Authenticate,
    AuthenticateResponse,
    BadCommand,
    Command,
    ConnectionClosed,
    ContinuationNeeded,
    Event,
    Idle,
    IdleDone,
    LiteralTooLarge,
    NeedData,
    StartTls,
)
from ._framing import (
    DEFAULT_APPEND_LIMIT,
    MAX_COMMAND_TEXT,
    MAX_LITERAL_OCTETS,
    MAX_SASL_LINE,
    TOO_LONG,
    CommandFrame,
    Framer,
)
from ._parser import PARSERS, UID_COMMANDS, parse_command
from ._responses import (
    Bad,
    Bye,
    Continuation,
    EnabledResponse,
    ExistsResponse,
    ExpungeResponse,
    FetchResponse,
    FetchRows,
    FlagsResponse,
    Greeting,
    No,
    Ok,
    RecentResponse,
    Response,
    SaslChallenge,
    SearchResponse,
    SortResponse,
)
from ._state import ALLOWED, TRANSITIONS, Mode, State, refusal
from ._writer import write_chunks

__all__ = ["DEFAULT_EXTENSIONS", "MAX_IDLE_LINE", "ImapConnection"]

MAX_IDLE_LINE = 1_024
"""Longest line read during IDLE, where the only valid one is `DONE`."""

DEFAULT_EXTENSIONS = (
    "LITERAL+",
    "SASL-IR",
    "ID",
    "ENABLE",
    "IDLE",
    "NAMESPACE",
    "UNSELECT",
    "UIDPLUS",
    "MOVE",
    "ESEARCH",
    "SORT",
    "SPECIAL-USE",
    "CREATE-SPECIAL-USE",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "CHILDREN",
    "STATUS=SIZE",
)
"""Extensions the core parses; the adapter may offer fewer (an explicit, named choice)."""

_UTF8_CAPABILITIES = frozenset({"IMAP4REV2", "UTF8=ACCEPT", "UTF8=ONLY"})
_PLAIN_DATA = frozenset(
    {
        FetchResponse,
        FetchRows,
        ExistsResponse,
        ExpungeResponse,
        RecentResponse,
        FlagsResponse,
        SearchResponse,
        SortResponse,
    }
)
"""Untagged data that changes no state and renders the same whatever the tag and the session's UTF-8."""
# Tuples, not `A | B` unions: a union in an isinstance call is built anew on every call.
_TAGGED = (Ok, No, Bad)
_STATUS: dict[type, str] = {Ok: "OK", No: "NO", Bad: "BAD"}
_HAS_TAG = (Command, BadCommand, LiteralTooLarge, ContinuationNeeded)
_UNANSWERABLE = (AuthenticateResponse, IdleDone, ConnectionClosed)
_REFUSED = (BadCommand, LiteralTooLarge, ContinuationNeeded)
_COMMANDS_BY_VERB: dict[str, type[Command]] = {kind.verb: kind for kinds in ALLOWED.values() for kind in kinds}


class ImapConnection:
    """Server side of an IMAP session as a pure state machine.

    Args:
        max_command_text: octets of a command outside its literals (CRLFs included).
        max_literal: total literal octets of a command other than APPEND.
        append_limit: largest APPEND message (RFC 7889 APPENDLIMIT).
        secure: the transport is already TLS (the implicit-TLS port).
        auth_mechanisms: SASL mechanisms offered (`AUTH=` capabilities) before authentication.
        login_disabled: advertise LOGINDISABLED while the transport is not secure (RFC 9051 section 6.2.3).
        extensions: extension capabilities offered (`DEFAULT_EXTENSIONS` unless told otherwise).
    """

    __slots__ = (
        "_eof",
        "_framer",
        "_greeted",
        "_pending",
        "_sasl_turn",
        "append_limit",
        "auth_mechanisms",
        "enabled",
        "extensions",
        "login_disabled",
        "max_command_text",
        "max_literal",
        "mode",
        "secure",
        "state",
        "trailing_data",
    )

    def __init__(
        self,
        *,
        max_command_text: int = MAX_COMMAND_TEXT,
        max_literal: int = MAX_LITERAL_OCTETS,
        append_limit: int = DEFAULT_APPEND_LIMIT,
        secure: bool = False,
        auth_mechanisms: tuple[str, ...] = ("PLAIN",),
        login_disabled: bool = False,
        extensions: tuple[str, ...] = DEFAULT_EXTENSIONS,
    ) -> None:
        self.state = State.NOT_AUTHENTICATED
        self.mode = Mode.COMMAND
        self.secure = secure
        self.max_command_text = max_command_text
        self.max_literal = max_literal
        self.append_limit = append_limit
        self.auth_mechanisms = auth_mechanisms
        self.login_disabled = login_disabled
        self.extensions = extensions
        self.enabled: frozenset[str] = frozenset()
        """Capabilities the client turned on with ENABLE (upper-cased), as the server confirmed them."""
        self.trailing_data = b""
        """Bytes buffered when STARTTLS was accepted; they are discarded, never parsed."""
        self._framer = Framer()
        self._pending: Event | None = None
        self._greeted = False
        self._eof = False
        self._sasl_turn = False

    # --- session facts ------------------------------------------------------------------------------

    @property
    def utf8(self) -> bool:
        """Mailbox names and strings are UTF-8 (IMAP4rev2 or UTF8=ACCEPT enabled), not modified UTF-7."""
        return bool(self.enabled & _UTF8_CAPABILITIES)

    @property
    def rev2(self) -> bool:
        """The client enabled IMAP4rev2 (RFC 9051 section 6.3.1): no \\Recent, no RECENT responses."""
        return "IMAP4REV2" in self.enabled

    @property
    def pending(self) -> Event | None:
        """The event that waits for its (tagged) answer, if any."""
        return self._pending

    @property
    def closed(self) -> bool:
        return self.state is State.LOGOUT

    @property
    def mid_command(self) -> bool:
        """Part of a command is buffered without its end (meaningful when `next_event` needs data)."""
        return self._framer.mid_command

    def capabilities(self) -> tuple[str, ...]:
        """The CAPABILITY list for the current state (RFC 9051 section 7.2.2)."""
        caps = ["IMAP4rev1", "IMAP4rev2", *self.extensions, f"APPENDLIMIT={self.append_limit:d}"]
        if self.state is State.NOT_AUTHENTICATED:
            if not self.secure:
                caps.append("STARTTLS")
                if self.login_disabled:
                    caps.append("LOGINDISABLED")
            caps.extend(f"AUTH={m}" for m in self.auth_mechanisms)
        return tuple(caps)

    # --- reading ------------------------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray) -> None:
        """Add bytes from the peer; `b""` means the peer closed its side."""
        if data:
            self._framer.feed(data)
        else:
            self._eof = True

    def next_event(self) -> Event | NeedData:
        """The next client event, or `NEED_DATA` when none is complete.

        Raises:
            LocalProtocolError: the previous event has not been answered, or the session is over.
        """
        if self.state is State.LOGOUT:
            raise LocalProtocolError("the session is over (LOGOUT)")
        if self.mode is Mode.AUTHENTICATE:
            return self._sasl_line()
        if self.mode is Mode.IDLE:
            return self._idle_line()
        if self._pending is not None:
            raise LocalProtocolError(f"answer {self._pending!r} before reading the next command")
        frame = self._framer.next_frame(
            max_text=self.max_command_text, max_literal=self.max_literal, append_limit=self.append_limit
        )
        if isinstance(frame, NeedData):
            return ConnectionClosed() if self._eof else NEED_DATA
        if isinstance(frame, CommandFrame):
            event: Event = self._accept(parse_command(frame.text, frame.literals, utf8=self.utf8))
        elif isinstance(frame, ContinuationNeeded):
            event = self._early_refusal(frame)
        else:
            event = frame
        self._pending = event
        return event

    def _accept(self, parsed: Command | BadCommand) -> Command | BadCommand:
        if isinstance(parsed, BadCommand):
            return parsed
        kind = type(parsed)
        if kind not in ALLOWED[self.state]:
            return BadCommand(parsed.tag, refusal(self.state, kind), kind.verb)
        if kind is StartTls and self.secure:
            return BadCommand(parsed.tag, "STARTTLS: the connection is already secure", "STARTTLS")
        return parsed

    def _early_refusal(self, wanted: ContinuationNeeded) -> ContinuationNeeded | BadCommand:
        """Refuse before the literal is sent when the verb already shows the command cannot run here."""
        verb = wanted.verb or ""
        name = verb.removeprefix("UID ")
        kind = _COMMANDS_BY_VERB.get(name)
        reason = None
        if name not in PARSERS:
            reason = f"unknown command '{verb[:20]}'" if verb else "missing or invalid command name"
        elif verb.startswith("UID ") and name not in UID_COMMANDS:
            reason = f"{verb[:24]} is not a UID command"
        elif kind is not None and kind not in ALLOWED[self.state]:
            reason = refusal(self.state, kind)
        if reason is None:
            self.mode = Mode.LITERAL
            return wanted
        self._framer.refuse_literal()
        return BadCommand(wanted.tag, reason, verb or None)

    def _sasl_line(self) -> Event | NeedData:
        if not self._sasl_turn:
            raise LocalProtocolError("send a SaslChallenge or the tagged completion before reading again")
        line = self._framer.next_raw_line(MAX_SASL_LINE)
        if line is None:
            return ConnectionClosed() if self._eof else NEED_DATA
        self._sasl_turn = False
        pending = self._pending
        assert isinstance(pending, Authenticate)
        if line is TOO_LONG:
            self.mode = Mode.COMMAND
            return BadCommand(pending.tag, f"authentication line too long (over {MAX_SASL_LINE:d} octets)", "AUTHENTICATE")
        assert isinstance(line, bytes)
        return AuthenticateResponse(line.decode("ascii", "replace").strip())

    def _idle_line(self) -> Event | NeedData:
        pending = self._pending
        assert isinstance(pending, Idle)
        line = self._framer.next_raw_line(MAX_IDLE_LINE)
        if line is None:
            return ConnectionClosed() if self._eof else NEED_DATA
        self.mode = Mode.COMMAND
        if isinstance(line, bytes) and line.upper() == b"DONE":
            return IdleDone()
        return BadCommand(pending.tag, "expected DONE to end IDLE (RFC 2177)", "IDLE")

    # --- writing ------------------------------------------------------------------------------------

    def send(self, response: Response) -> bytes:
        """Render `response` and apply its effect on the session.

        Raises:
            LocalProtocolError: the response is not legal now (nothing was changed), or cannot be rendered.
        """
        return b"".join(self.send_chunks(response))

    def send_chunks(self, response: Response) -> list[bytes]:
        """`send`, as chunks (a large literal stands alone, never copied)."""
        kind = type(response)
        if self._greeted:
            if kind in _PLAIN_DATA:  # the common case: FETCH 1:*, SELECT
                return write_chunks(response)
            if kind is Ok or kind is No or kind is Bad:  # every command's last line
                return self._complete(response)  # type: ignore[arg-type]
        if isinstance(response, Greeting):
            if self._greeted:
                raise LocalProtocolError("the greeting was already sent")
            data = write_chunks(response, utf8=self.utf8)
            self._greeted = True
            if response.status == "PREAUTH":
                self.state = State.AUTHENTICATED
            elif response.status == "BYE":
                self.state = State.LOGOUT
            return data
        if not self._greeted:
            raise LocalProtocolError("send the greeting before any other response")
        if isinstance(response, _TAGGED):
            return self._complete(response)
        if isinstance(response, Continuation):
            return self._continue(response)
        if isinstance(response, SaslChallenge):
            if not isinstance(self._pending, Authenticate):
                raise LocalProtocolError("a SASL challenge answers only AUTHENTICATE")
            data = write_chunks(response)
            self.mode = Mode.AUTHENTICATE
            self._sasl_turn = True
            return data
        data = write_chunks(response, tag=self._tag(), utf8=self.utf8)
        if isinstance(response, EnabledResponse):
            self.enabled |= {c.upper() for c in response.capabilities}
        elif isinstance(response, Bye):
            self.state = State.LOGOUT
        return data

    def _tag(self) -> str | None:
        pending = self._pending
        if isinstance(pending, _HAS_TAG):
            return pending.tag
        return None

    def _continue(self, response: Continuation) -> list[bytes]:
        pending = self._pending
        if isinstance(pending, ContinuationNeeded):
            data = write_chunks(response, utf8=self.utf8)
            self._framer.accept_literal()
            self._pending = None
            self.mode = Mode.COMMAND
            return data
        if isinstance(pending, Idle) and self.mode is Mode.COMMAND:
            data = write_chunks(response, utf8=self.utf8)
            self.mode = Mode.IDLE
            return data
        raise LocalProtocolError(f"a continuation cannot answer {pending!r}")

    def _complete(self, response: Ok | No | Bad) -> list[bytes]:
        pending = self._pending
        if pending is None or isinstance(pending, _UNANSWERABLE):
            raise LocalProtocolError(f"no command is waiting for {type(response).__name__}")
        kind = type(response)
        status = _STATUS.get(kind) or kind.__name__.upper()
        if isinstance(pending, _REFUSED) and status == "OK":
            raise LocalProtocolError(f"OK cannot answer {pending!r}")
        data = write_chunks(
            response,
            tag=pending.tag if isinstance(pending, _HAS_TAG) else None,
            utf8=bool(self.enabled & _UTF8_CAPABILITIES),
        )
        self._pending = None
        self._sasl_turn = False
        if isinstance(pending, ContinuationNeeded):
            self._framer.refuse_literal()
        self.mode = Mode.COMMAND
        if isinstance(pending, Command):
            self.state = TRANSITIONS.get((self.state, type(pending), status), self.state)
            if isinstance(pending, StartTls) and status == "OK":
                # RFC 9051 section 6.2.1 / CVE-2011-0411: nothing pipelined in plaintext counts after it.
                self.trailing_data = self._framer.take_all()
                self.secure = True
        return data

    def send_failed(self) -> None:
        """Record that writing to the peer failed: the session is over."""
        self.state = State.LOGOUT
