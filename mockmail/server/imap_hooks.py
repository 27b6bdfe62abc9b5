"""`ImapHooks`: every way a fault plan bends an IMAP session, in one place.

The IMAP handler (`server/imap_session.py`) is compliant only; when a plan of the tenant has an `imap`
part, the driver routes each command through these hooks (otherwise `hooks` is None: the compliant path
costs nothing more).  Each fault acts at one point:

- the command (`answer`, before the handler): a scripted `NO`/`BAD`, a `BYE` instead of the answer, a
  tagged completion dropped, SELECT of an empty folder refused, BODY.PEEK made a plain BODY;
- after the handler (follow-ups): a BYE after the Nth command's reply, LOGOUT closing without its tagged
  OK, an IDLE cut when the client stays quiet;
- the responses (`chunks`): RFC822.SIZE off by a delta, GreenMail's BODYSTRUCTURE disposition, a new
  UIDVALIDITY at every SELECT, EXPUNGE numbers from before the command;
- IDLE's pushed updates (`idle_updates_held`, asked by the session): held until DONE.
Delay, truncation, stall, reset and close are the wire faults' (`transport` with `"protocol": "imap"`).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ..faults import ImapSessionFaults
from ..imap import (
    Bad,
    Bye,
    Command,
    Continuation,
    Examine,
    ExpungeResponse,
    Fetch,
    FetchResponse,
    Idle,
    Logout,
    No,
    Rendered,
    Response,
    Select,
    Untagged,
    uid_validity,
)
from .driver import FollowUp
from .seams import ImapSeams

__all__ = ["ImapHooks", "greenmail_113"]

_UIDVALIDITY = "UIDVALIDITY"

_DISPOSITION = re.compile(rb'\(("(?:[^"\\]|\\.)*") (?:NIL|\((?:"(?:[^"\\]|\\.)*" ?)+\))\)')
"""A body-fld-dsp, `("inline" NIL)` or `("attachment" ("filename" "a.txt"))`: the type, then its params."""


def greenmail_113(structure: bytes) -> bytes:
    """A BODYSTRUCTURE with every disposition's parameter list left out, `("inline")`: the shape GreenMail
    wrote before its issue 113 was fixed, which Jakarta Mail refuses ("Unable to load BODYSTRUCTURE")."""
    return _DISPOSITION.sub(rb"(\1)", structure)


class ImapHooks:
    """The hooks of one IMAP session, for the quirks it drew (made again at every draw)."""

    __slots__ = ("_expunged", "_noted", "_selecting", "quirks", "session")

    delay = 0.0
    """IMAP has no tarpit: wire faults do their own waiting."""

    def __init__(self, session: ImapSeams, quirks: ImapSessionFaults) -> None:
        self.session = session
        self.quirks = quirks
        self._expunged = 0
        """EXPUNGEs sent so far in the reply being made (`expunge_numbers`)."""
        self._selecting = False
        self._noted: set[str] = set()
        """Faults already noted for the command being answered: one fault line per command and knob."""

    def _note(self, name: str) -> None:
        if name not in self._noted:
            self._noted.add(name)
            self.session.fault(name)

    # --- one command --------------------------------------------------------------------------------

    def answer(self, event: Any) -> Response | FollowUp:
        """The reply to `event` as the plan shapes it, or a follow-up that replaces the reply."""
        session, quirks = self.session, self.quirks
        self._expunged = 0
        self._selecting = False
        self._noted = set()
        kind = type(event)
        bye = quirks.bye
        if isinstance(event, Command):
            verb = event.verb
            if bye is not None and bye.command == verb:
                return self._bye(f"imap.bye ({verb})", bye.text, None)
            faults = session.config.faults
            assert faults is not None  # hooks exist only with a plan
            scripted = faults.imap.scripted(session.user, verb)
            if scripted is not None:
                name, status, text = scripted
                if status == "BYE":
                    return self._bye(f"{name} (BYE)", text, None)
                session.fault(f"{name} ({status})")
                if status == "drop":
                    return self._dropped(session.handle(event))
                return No(text) if status == "NO" else Bad(text)
        if kind is Logout and quirks.logout_no_ok:
            return self._logout(event)
        if kind in (Select, Examine):
            empty = quirks.select_empty
            if empty is not None and session.folder_messages(event.mailbox) == 0:
                session.fault("imap.select_empty_fails")
                return No(empty.text)
            self._selecting = quirks.uidvalidity_churn
        if kind is Fetch and quirks.peek_sets_seen and any(a.peek for a in event.items):
            session.fault("imap.peek_sets_seen")
            items = tuple(dataclasses.replace(a, peek=False) if a.peek else a for a in event.items)
            event = dataclasses.replace(event, items=items)
        reply = session.handle(event)
        if kind is Idle and quirks.idle_cut is not None and isinstance(reply, Continuation):
            return self._idle_cut(reply, quirks.idle_cut.seconds)
        if bye is not None and bye.after == session.commands_answered:
            return self._bye(f"imap.bye (after {session.commands_answered:d} commands)", bye.text, reply)
        return reply

    def _bye(self, name: str, text: str, reply: Response | None) -> FollowUp:
        """`reply` (if any), then `* BYE text`, then a close."""
        session = self.session

        async def bye() -> bool:
            session.fault(name)
            if reply is not None:
                session.emit(reply)
            session.emit(Bye(text))
            await session.flush()
            session.end_reason = f"fault: {name}"
            return True

        return bye

    def _dropped(self, reply: Response) -> FollowUp:
        """The command was carried out; its tagged completion never reaches the wire."""
        session = self.session

        async def drop() -> bool:
            session.conn.send_chunks(reply)  # the core's bookkeeping; the bytes are dropped
            return False

        return drop

    def _logout(self, event: Logout) -> FollowUp:
        """LOGOUT: the `* BYE`, then a close with no tagged OK (the twin of POP3's dropped QUIT reply)."""
        session = self.session

        async def logout() -> bool:
            reply = session.handle(event)  # queues the BYE
            session.conn.send_chunks(reply)  # the core's bookkeeping; the OK never reaches the wire
            session.fault("imap.logout_no_ok")
            await session.flush()
            session.end_reason = "fault: LOGOUT closed without OK"
            return True

        return logout

    def _idle_cut(self, reply: Response, seconds: float) -> FollowUp:
        """IDLE's continuation, then a close without BYE if the client says nothing for `seconds`."""
        session = self.session

        async def idle() -> bool:
            session.emit(reply)
            await session.flush()
            if await session.input_within(seconds):
                return False  # the client spoke (DONE, most likely): the session goes on
            session.fault(f"imap.idle_cut (after {seconds:g} s)")
            session.conn.send_failed()
            session.end_reason = "fault: IDLE cut without BYE"
            return True

        return idle

    # --- the responses ------------------------------------------------------------------------------

    def chunks(self, reply: Any, chunks: list[bytes]) -> list[bytes]:
        """The response's bytes as the plan bends them (re-rendered by the core when a value changes)."""
        kind = type(reply)
        quirks = self.quirks
        if kind is FetchResponse and (quirks.size_delta or quirks.bodystructure is not None):
            bent = self._fetch(reply)
            if bent is not reply:
                return self.session.conn.send_chunks(bent)
        elif kind is ExpungeResponse and quirks.expunge_numbers is not None:
            number = reply.number + self._expunged
            self._expunged += 1
            if number != reply.number:
                self._note("imap.expunge_numbers")
                return self.session.conn.send_chunks(ExpungeResponse(number))
        elif (
            kind is Untagged
            and self._selecting
            and reply.code is not None
            and reply.code.name == _UIDVALIDITY
        ):
            faults = self.session.config.faults
            assert faults is not None
            self._note("imap.uidvalidity_churn")
            churned = uid_validity(faults.imap.next_uidvalidity())
            return self.session.conn.send_chunks(Untagged(reply.status, reply.text, churned))
        return chunks

    def _fetch(self, reply: FetchResponse) -> FetchResponse:
        quirks = self.quirks
        items: list[tuple[str, Any]] = []
        changed = False
        for name, value in reply.items:
            if name == "RFC822.SIZE" and quirks.size_delta and isinstance(value, int):
                self._note(f"imap.size_delta ({quirks.size_delta:+d})")
                value = max(0, value + quirks.size_delta)
                changed = True
            elif name == "BODYSTRUCTURE" and quirks.bodystructure and isinstance(value, Rendered):
                bent = greenmail_113(value.data)
                if bent != value.data:
                    self._note("imap.bodystructure (greenmail-113)")
                    value = Rendered(bent)
                    changed = True
            items.append((name, value))
        return FetchResponse(reply.number, tuple(items)) if changed else reply

    # --- IDLE ---------------------------------------------------------------------------------------

    def idle_updates_held(self) -> bool:
        """True when IDLE pushes nothing (`idle_no_updates`): the updates wait for the reply to DONE."""
        if self.quirks.idle_no_updates:
            self.session.fault("imap.idle_no_updates (held)")
            return True
        return False
