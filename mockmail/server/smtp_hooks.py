"""`SmtpHooks`: every way a fault plan bends an SMTP session, in one place.

The SMTP handler (`server/smtp_session.py`) is compliant only; when a plan of the tenant has an `smtp`
part, the driver routes each command through these hooks.  Each fault acts at one point:

- the greeting (`greet`): `421` and close, or `554` and then only QUIT (RFC 5321 section 3.1); exim's
  `554 SMTP synchronization error` to a client that talks first; a greeting over several lines;
- the command (`answer`, before the handler): a refused sender after the 554 greeting, EHLO unknown,
  STARTTLS refused or cut, the missing extensions' commands and parameters, the rate limit at MAIL,
  greylisting at RCPT, scripted replies (filtered by sender and recipient), the drop after the final dot,
  accept-and-lose, AUTH refused over TLS, QUIT closing without 221;
- the reply (`_reply`): EHLO without the missing extensions (or without AUTH over TLS), with an extra
  `AUTH=` line, no enhanced codes without ENHANCEDSTATUSCODES, a failed AUTH answered 235, 4xx/5xx over
  several lines, a 421 that closes;
- the bytes (`chunks`): multi-line replies without `-`, bare LF line ends; and every flush held by the
  tarpit (`delay`).
"""

from __future__ import annotations

import re
from typing import Any

import trio

from ..faults import SmtpSessionFaults
from ..message.ids import random_hex
from ..smtp import (
    Auth,
    AuthResponse,
    BadCommand,
    Bdat,
    Ehlo,
    Mail,
    MessageData,
    Quit,
    Rcpt,
    Reply,
    StartTls,
    TlsReady,
)
from .driver import FollowUp
from .seams import SmtpSeams

__all__ = ["SmtpHooks"]

_CONTINUATION = re.compile(rb"^(\d{3})-", re.M)
_PARAM_EXTENSION = {"SIZE": "SIZE", "BODY": "8BITMIME", "SMTPUTF8": "SMTPUTF8"}
_COMMAND_EXTENSION = {Bdat: "CHUNKING", Auth: "AUTH"}
_CLOSING_CODE = 421
_EHLO_REFUSALS = {
    500: Reply.of(500, None, "command unrecognized"),
    502: Reply.of(502, "5.5.1", "command not recognized"),
    503: Reply.of(503, None, "bad sequence of commands"),  # what HELO-only servers sent (pear/Net_SMTP 5)
}
_SYNC_ERROR = Reply(554, ["SMTP synchronization error"], None)
"""exim's words to a client that sent before its turn (exim spec, `smtp_enforce_sync`)."""


def _reply_of(line: str) -> Reply:
    code, _, text = line.partition(" ")
    return Reply(int(code), [text], None)


class SmtpHooks:
    """The hooks of one SMTP session, for the quirks it drew (made again at every draw)."""

    __slots__ = ("quirks", "refusing", "session")

    def __init__(self, session: SmtpSeams, quirks: SmtpSessionFaults) -> None:
        self.session = session
        self.quirks = quirks
        self.refusing = False
        """After a 554 greeting: every command but QUIT gets 503."""

    @property
    def delay(self) -> float:
        return self.quirks.tarpit_ms / 1000

    # --- greeting ---------------------------------------------------------------------------------

    async def greet(self, greeting: Reply) -> bool:
        session, quirks = self.session, self.quirks
        code = quirks.greeting
        if quirks.sync_delay_ms and await session.input_within(quirks.sync_delay_ms / 1000):
            session.fault("smtp.synchronization (input before the greeting)")
            session.emit(_SYNC_ERROR)
            await session.flush()
            session.end_reason = "fault: synchronization error"
            return False
        if code is None:
            count = quirks.greeting_lines
            if count > 1:
                session.fault(f"smtp.greeting_lines ({count:d})")
                more = [f"greeting line {n:d} of {count:d}" for n in range(2, count + 1)]
                greeting = Reply(greeting.code, [*greeting.lines, *more], greeting.enhanced)
            session.emit(greeting)
            return True
        session.fault(f"smtp.greeting ({code:d})")
        if code == _CLOSING_CODE:
            session.emit(Reply.of(421, "4.3.2", f"{session.config.hostname} service not available, closing"))
            await session.flush()
            session.end_reason = "fault: greeting 421"
            return False
        session.emit(Reply.of(554, "5.3.2", f"{session.config.hostname} no SMTP service here"))
        self.refusing = True
        return True

    # --- one command ------------------------------------------------------------------------------

    def answer(self, event: Any) -> Reply | FollowUp:
        """The reply to `event` as the plan shapes it, or a follow-up that replaces the reply."""
        session, quirks = self.session, self.quirks
        kind = type(event)
        if self.refusing and kind is not Quit:
            return self._reply(event, Reply.of(503, "5.5.1", "no SMTP service here; only QUIT"))
        early = self._before(event)
        if early is not None:
            return early if callable(early) else self._reply(event, early)
        reply = session.handle(event)
        if kind is StartTls and type(reply) is TlsReady and quirks.starttls == "cut":
            session.fault("smtp.starttls (cut)")
            session.close_after_reply("fault: STARTTLS handshake cut")
        return self._reply(event, reply)

    def _before(self, event: Any) -> Reply | FollowUp | None:
        """A reply (or follow-up) that replaces the handler's, if a fault decides this command."""
        session, quirks = self.session, self.quirks
        faults = session.config.faults
        assert faults is not None  # hooks exist only with a plan
        kind = type(event)
        if kind is Ehlo and quirks.ehlo_unknown is not None:
            session.fault(
                "smtp.ehlo_unknown" + ("" if quirks.ehlo_unknown == 502 else f" ({quirks.ehlo_unknown:d})")
            )
            return _EHLO_REFUSALS[quirks.ehlo_unknown]
        if kind is Quit and quirks.quit_no_reply:
            return self._quit_unanswered
        if kind is Auth and quirks.auth_after_starttls and session.conn.secure:
            session.fault("smtp.auth_after_starttls")
            return Reply.of(503, "5.5.1", "AUTH command used when not advertised")
        if kind is StartTls and quirks.starttls == "refuse" and session.config.tls_context is not None:
            session.fault("smtp.starttls (refuse)")
            return Reply.of(454, "4.7.0", "TLS not available due to temporary reason")
        extension = _COMMAND_EXTENSION.get(kind)
        if extension is not None and extension in quirks.missing:
            return Reply.of(502, "5.5.1", f"{event.verb} is not implemented")
        if kind is Mail:
            for param in event.params:
                if _PARAM_EXTENSION.get(param) in quirks.missing:
                    return Reply.of(555, "5.5.4", f"MAIL parameter {param} not recognized")
            if faults.smtp.rate_limited(trio.current_time()):
                session.fault("smtp.rate_limit")
                session.close_after_reply("fault: rate limit")
                return Reply.of(421, "4.7.0", "rate limit exceeded, try again later; closing")
        users, rcpts = self._recipients(event)
        if kind is Rcpt:
            user = users[0] if users else None
            client = session.peer.rpartition(":")[0]
            if faults.smtp.greylisted(
                user, client, session.mail_from or "", event.address, trio.current_time()
            ):
                session.fault("smtp.greylisting")
                return Reply.of(451, "4.7.1", "greylisted, please try again later")
        scripted = faults.smtp.scripted(users, getattr(event, "verb", "?"), self._sender(event), rcpts)
        if scripted is not None:
            name, line = scripted
            session.fault(name)
            reply = _reply_of(line)
            if reply.code < 400:
                handled = session.handle(event)
                return reply if handled.code // 100 == reply.code // 100 else handled
            if kind is MessageData or (kind is Bdat and event.last):
                session.reset_transaction()  # refused: nothing is stored
            if reply.code == _CLOSING_CODE:
                session.close_after_reply(f"fault: {name} closed")
            return reply
        if kind is MessageData or (kind is Bdat and event.last):
            drop = faults.smtp.drop_after_data(users)
            if drop is not None:
                return self._dropper(event, drop.deliver)
            if faults.smtp.accept_and_lose(users):
                session.fault("smtp.accept_and_lose")
                session.reset_transaction()
                return Reply.of(250, "2.0.0", f"OK queued as {random_hex(6)}")
        return None

    def _recipients(self, event: Any) -> tuple[list[str], list[str]]:
        """The mailboxes whose plans apply to `event`, and the recipient addresses it concerns."""
        session = self.session
        if type(event) is Rcpt:
            user = session.mailbox_for(event.address)
            return ([user] if user else []), [event.address]
        addresses = [a for found in session.recipients.values() for a in found]
        return list(session.recipients), addresses

    def _sender(self, event: Any) -> str | None:
        return event.address if type(event) is Mail else self.session.mail_from

    def _dropper(self, event: Any, deliver: bool) -> FollowUp:
        session = self.session

        async def drop() -> bool:
            if deliver:
                session.handle(event)
            session.reset_transaction()
            session.fault(f"smtp.drop_after_data ({'stored' if deliver else 'not stored'})")
            await session.flush()
            session.conn.send_failed()
            session.end_reason = f"fault: dropped after DATA ({'stored' if deliver else 'not stored'})"
            return True

        return drop

    async def _quit_unanswered(self) -> bool:
        """QUIT: the connection closes with no 221 (the session is over)."""
        session = self.session
        session.fault("smtp.quit_no_reply")
        await session.flush()
        session.conn.send_failed()
        session.end_reason = "fault: QUIT closed without 221"
        return True

    def _ehlo(self, reply: Reply) -> Reply:
        """EHLO's extension lines as the plan shapes them."""
        quirks = self.quirks
        missing = quirks.missing
        if quirks.auth_after_starttls and self.session.conn.secure:
            missing = missing | {"AUTH"}
        lines = [reply.lines[0]] + [line for line in reply.lines[1:] if line.split(" ")[0] not in missing]
        if quirks.auth_equals:
            lines = [
                more
                for line in lines
                for more in ((line, "AUTH=" + line[5:]) if line.startswith("AUTH ") else (line,))
            ]
        return Reply(250, lines, None)

    def _reply(self, event: Any, reply: Reply) -> Reply:
        kind = type(event)
        quirks = self.quirks
        if reply.code == 250 and (kind is MessageData or (kind is Bdat and event.last)):
            faults = self.session.config.faults
            assert faults is not None
            faults.smtp.arrived(trio.current_time())  # what the rate limit counts
        missing = quirks.missing
        if (
            kind is Ehlo
            and reply.code == 250
            and (missing or quirks.auth_equals or quirks.auth_after_starttls)
        ):
            reply = self._ehlo(reply)
        if "ENHANCEDSTATUSCODES" in missing and reply.enhanced:
            reply = Reply(reply.code, reply.lines, None)
        if quirks.auth_failure_235 and reply.code == 535 and kind in (Auth, AuthResponse):
            self.session.fault("smtp.auth_failure_235")
            reply = Reply(235, ["auth failure"], None)  # qmail's words (jakartaee/mail-api issue 23)
        if quirks.error_lines and reply.code >= 400:
            self.session.fault("smtp.error_lines")
            reply = Reply(reply.code, [*reply.lines, *quirks.error_lines], reply.enhanced)
        if reply.code == _CLOSING_CODE and type(event) is not BadCommand and self.session.closing is None:
            self.session.close_after_reply("fault: 421")
        return reply

    def chunks(self, reply: Any, chunks: list[bytes]) -> list[bytes]:
        """The reply's bytes as the plan bends them."""
        quirks = self.quirks
        if quirks.no_continuation and isinstance(reply, Reply) and len(reply.lines) > 1:
            chunks = [_CONTINUATION.sub(rb"\1 ", chunk) for chunk in chunks]
        if quirks.line_endings_lf:
            chunks = [chunk.replace(b"\r\n", b"\n") for chunk in chunks]
        return chunks
