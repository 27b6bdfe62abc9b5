"""`Pop3Hooks`: every way a fault plan bends a POP3 session, in one place.

The POP3 handler (`server/pop3_session.py`) is compliant only; the driver routes each command through these
hooks instead whenever the tenant has a fault plan.  Each quirk acts at exactly one of four points:

- the greeting (`greet`): `-ERR` or a non-POP3 banner instead of `+OK`;
- the event (`answer`, `_event`): a scripted reply or a QUIT fault replaces the handler, a pipelined
  command is dropped unanswered, PASS takes any password, LIST/UIDL ignore their argument, TOP is broken;
- the reply (`_reply`): sizes one octet per line short, unstable UIDs, a custom or over-claiming CAPA, the
  line-limit text, the newest message first, a bare `+OK` to a login, an error that closes the connection;
- the bytes (`chunks`): LF instead of CRLF, the multi-line terminator left out.
The quirks of the sans-IO core itself (relaxed states, case-sensitive verbs, Go float sizes, dot-stuffing,
disabled verbs) are handed to `Pop3Connection.quirks` when drawn, not here.
"""

from __future__ import annotations

from typing import Any

from ..faults import SessionFaults
from ..login.sasl import Credentials
from ..pop3 import (
    BadCommand,
    Capa,
    Command,
    Dele,
    DropStat,
    Err,
    Greeting,
    List,
    Listing,
    LoggedIn,
    MessageContent,
    Pass,
    Quit,
    Reply,
    Retr,
    ScanLine,
    ScanListing,
    State,
    Top,
    Uidl,
    UidLine,
    UidListing,
)
from .driver import FollowUp
from .maildrop import wire_body
from .seams import Pop3Seams

__all__ = ["BAD_GREETINGS", "OVERCLAIMED", "Pop3Hooks"]

BAD_GREETINGS = {
    "err": b"-ERR [SYS/TEMP] service not available, closing\r\n",
    "garbage": b"* OK [CAPABILITY IMAP4rev1] this is not a POP3 server\r\n",
}
MULTI_LINE = (Listing, ScanListing, UidListing, MessageContent)
OVERCLAIMED = ["STLS", "SASL GSSAPI XOAUTH2", "LOGIN-DELAY 900", "UTF8", "LANG"]
_TERMINATOR = b".\r\n"
WHOLE_MESSAGE = 1 << 30
"""The line count a broken TOP uses whatever the client asked for: more lines than any message has."""


class Pop3Hooks:
    """The hooks of one session, for the quirks it drew (made again at every draw)."""

    __slots__ = ("quirks", "session")

    delay = 0.0
    """POP3 has no tarpit: no flush is held (wire faults do their own waiting)."""

    def __init__(self, session: Pop3Seams, quirks: SessionFaults) -> None:
        self.session = session
        self.quirks = quirks

    # --- greeting ---------------------------------------------------------------------------------

    async def greet(self, greeting: Greeting) -> bool:
        """Queue the greeting, or the quirk's bytes instead; False when the session is over."""
        session, kind = self.session, self.quirks.greeting
        if kind == "ok":
            session.emit(greeting)
            return True
        session.conn.send(greeting)  # the core's bookkeeping; the wire gets the quirk's bytes instead
        session.fault(f"greeting ({kind})")
        session.queue_raw(BAD_GREETINGS[kind])
        if kind == "err":
            await session.flush()
            session.end_reason = "fault: greeting refused"
            return False
        return True

    # --- one command --------------------------------------------------------------------------------

    def answer(self, event: Any) -> Reply | FollowUp:
        """The reply to `event` as the plan shapes it, or a follow-up that replaces the reply."""
        session, quirks = self.session, self.quirks
        if type(event) is Quit and quirks.quit is not None and quirks.quit.reply != "ok":
            return self._quit_fault
        if quirks.pipelining_first_only and session.replies_pending:
            return self._dropped(event)
        scripted = self._scripted(event)
        if scripted is not None:
            return scripted  # the handler never sees the command
        if type(event) is Pass and quirks.accept_any_password:
            user = session.conn.user
            assert user is not None  # the core refuses PASS without a successful USER
            given = bool(event.password)
            reply = session.login(Credentials(user, lambda stored: given))
        elif type(event) is Top and quirks.top == "err":
            session.fault("top (err)")
            reply = Err("TOP failed")
        else:
            event = self._event(event)
            reply = session.handle(event)
        return self._reply(event, reply)

    def _scripted(self, event: Any) -> Reply | None:
        """The plan's scripted `-ERR` for this command, if one fires."""
        session = self.session
        faults = session.config.faults
        if faults is None or not isinstance(event, Command):
            return None
        hit = faults.scripted_reply(session.user, event.verb, getattr(event, "msg", None))
        if hit is None:
            return None
        name, line = hit
        session.fault(name)
        session.cancel_login()
        return Err(line[len("-ERR ") :] if line.startswith("-ERR ") else "")

    def _dropped(self, event: Any) -> FollowUp:
        """A pipelined command the server never answers (it read the first command of the batch only)."""
        session = self.session

        async def drop() -> bool:
            session.fault(f"pipelining (first only: {getattr(event, 'verb', '?')} dropped)")
            session.conn.send(Err("dropped"))  # the core's bookkeeping; the bytes never reach the wire
            return False

        return drop

    def _event(self, event: Any) -> Any:
        """The command as the handler gets it: LIST and UIDL may lose their argument, TOP its line count."""
        kind = type(event)
        if self.quirks.ignore_message_argument and kind in (List, Uidl) and event.msg is not None:
            return kind()
        if kind is Top and self.quirks.top == "whole":
            self.session.fault("top (whole)")
            return Top(event.msg, WHOLE_MESSAGE)
        return event

    def _reply(self, event: Any, reply: Reply) -> Reply:
        session, quirks = self.session, self.quirks
        kind = type(reply)
        if kind is LoggedIn and quirks.bare_ok:
            session.fault("bare_ok")
            reply = LoggedIn("")
        if kind is LoggedIn and quirks.newest_first and session.maildrop is not None:
            session.maildrop.reverse()  # a fault plan's order: message 1 is the newest
        elif quirks.octets_off_by_lf and kind in (DropStat, ScanLine, ScanListing):
            reply = self._off_by_lf(reply)
        elif quirks.uidl == "unstable" and kind in (UidLine, UidListing):
            reply = self._unstable(reply)
        elif type(event) is Capa and isinstance(reply, Listing):
            reply = self._capa(reply)
        elif kind is Err and type(event) is BadCommand:
            limit = quirks.line_limit
            if limit is not None and session.closing is None and event.reason.startswith("line too long"):
                reply = Err(limit.text)
        elif kind is Err and quirks.errors_close and type(event) in (Retr, Top, Dele):
            session.fault("errors_close")
            session.close_after_reply("fault: error closed the connection")
        return reply

    def chunks(self, reply: Reply, chunks: list[bytes]) -> list[bytes]:
        """The reply's bytes as the plan bends them."""
        quirks = self.quirks
        if quirks.terminator_missing and isinstance(reply, MULTI_LINE) and chunks[-1].endswith(_TERMINATOR):
            chunks = [*chunks[:-1], chunks[-1][: -len(_TERMINATOR)]]
        if quirks.line_endings_lf:
            chunks = [chunk.replace(b"\r\n", b"\n") for chunk in chunks]
        return chunks

    # --- the quirks behind those points -----------------------------------------------------------

    def _lines(self, msg: int) -> int:
        drop = self.session.maildrop
        assert drop is not None  # sizes are listed only after login
        found = drop.lookup(msg)
        return 0 if isinstance(found, str) else wire_body(found).lines

    def _off_by_lf(self, reply: Reply) -> Reply:
        """Sizes one octet per line short: a server that counted LF line ends (RFC 1939 wants CRLF)."""
        if isinstance(reply, ScanLine):
            return ScanLine(reply.msg, reply.octets - self._lines(reply.msg))
        if isinstance(reply, ScanListing):
            return ScanListing([(n, size - self._lines(n)) for n, size in reply.entries])
        assert isinstance(reply, DropStat)
        drop = self.session.maildrop
        assert drop is not None
        return DropStat(reply.count, sum(m.size - wire_body(m).lines for _, m in drop.live()))

    def _unstable(self, reply: Reply) -> Reply:
        """UIDs that change with every session (RFC 1939 section 7 wants them stable)."""
        suffix = "." + self.session.timestamp[1:-1].split("@")[0]
        if isinstance(reply, UidLine):
            return UidLine(reply.msg, reply.uid + suffix)
        assert isinstance(reply, UidListing)
        return UidListing([(n, uid + suffix) for n, uid in reply.entries])

    def _capa(self, reply: Listing) -> Reply:
        capa, disabled = self.quirks.capa, self.quirks.core.disabled
        if capa is not None and capa.mode == "custom":
            return Listing(reply.text, list(capa.lines))
        caps = list(reply.lines)
        if disabled:  # an accurate list names only what the server (as the plan shapes it) knows
            caps = [
                cap
                for cap in caps
                if cap.split()[0] not in disabled and not (cap.startswith("SASL") and "AUTH" in disabled)
            ]
        if capa is not None and capa.mode == "overclaims":
            implementation = caps[-1:]
            caps = caps[:-1] + [cap for cap in OVERCLAIMED if cap not in caps] + implementation
        return Listing(reply.text, caps)

    async def _quit_fault(self) -> bool:
        """Apply the QUIT fault that fired (no +OK is sent); the session is over."""
        session = self.session
        fault = self.quirks.quit
        assert fault is not None
        drop = session.maildrop
        if fault.commit and session.conn.state is State.UPDATE and drop is not None:
            drop.commit()
        session.fault(f"quit ({fault.reply})")
        await session.flush()
        session.conn.send_failed()
        if fault.reply == "drop":
            session.end_reason = "fault: QUIT dropped"
            return True
        # hang: say nothing, keep the socket open until the client gives up (or the idle timer ends it)
        await session.drain()
        session.end_reason = "fault: QUIT hung, client closed"
        return True
