"""What a session exposes to its quirk hooks: the public seams, as Protocols.

The quirk hooks (`pop3_hooks.py`, `smtp_hooks.py`) bend a compliant session, so they need to reach into it:
queue a reply, flush, close after the reply, run the compliant handler, see the maildrop or the
transaction.  They do so only through these Protocols, never through a session's underscore members and
never by importing the session's module: a session module imports its hooks, and the hooks import this
module, so no import runs in a circle (a test checks both rules).  `SessionDriver` implements the
protocol-neutral half (`HookedSession`); each session adds its own (`Pop3Seams`, `SmtpSeams`,
`ImapSeams`).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..imap import ImapConnection
from ..imap import Response as ImapResponse
from ..login.sasl import Credentials
from ..pop3 import Pop3Connection
from ..pop3 import Reply as Pop3Reply
from ..smtp import Reply as SmtpReply
from ..smtp import SmtpConnection
from .driver import SessionConfig
from .maildrop import SessionMaildrop

__all__ = ["HookedSession", "ImapSeams", "Pop3Seams", "SmtpSeams"]


class HookedSession(Protocol):
    """The protocol-neutral seams of every session (`SessionDriver` provides them)."""

    user: str | None
    """The logged-in user (the fault plans are drawn for them), None before login."""
    end_reason: str
    """Why the session ended, as a follow-up that ends it sets it."""

    @property
    def config(self) -> SessionConfig: ...
    @property
    def closing(self) -> str | None:
        """The reason the session closes after the reply being made, or None."""

    def close_after_reply(self, reason: str) -> None:
        """Flush what is queued after the reply being made, then end the session with `reason`."""

    def fault(self, name: str) -> None:
        """Note that a fault fired (the session's list and its transcript)."""

    def emit(self, reply: Any) -> None:
        """Queue a reply of the core, through the transcript, metrics and the hooks' `chunks`."""

    def queue_raw(self, data: bytes) -> None:
        """Queue bytes that are no reply of the core (a fault's greeting)."""

    @property
    def replies_pending(self) -> bool:
        """Replies are queued and not yet written: the command being answered was pipelined."""

    async def input_within(self, seconds: float) -> bool:
        """Wait up to `seconds` for client input before anything is written; True when some came."""

    async def flush(self) -> None:
        """Write what is queued, if anything is."""

    async def drain(self) -> None:
        """Say nothing until the client closes or goes away (a fault that hangs)."""

    def handle(self, event: Any) -> Any:
        """The compliant handler's reply to `event`."""


class Pop3Seams(HookedSession, Protocol):
    """What `Pop3Hooks` needs of a POP3 session."""

    @property
    def conn(self) -> Pop3Connection: ...
    @property
    def maildrop(self) -> SessionMaildrop | None: ...
    @property
    def timestamp(self) -> str:
        """The greeting's APOP timestamp: unique to the session."""

    def handle(self, event: Any) -> Pop3Reply: ...
    def login(self, credentials: Credentials) -> Pop3Reply:
        """Log in with `credentials` as PASS, APOP and AUTH do: the reply, and the failure policy on failure."""

    def cancel_login(self) -> None:
        """Drop a SASL exchange in progress (a scripted reply answered its line instead)."""


class SmtpSeams(HookedSession, Protocol):
    """What `SmtpHooks` needs of an SMTP session."""

    @property
    def conn(self) -> SmtpConnection: ...
    @property
    def peer(self) -> str:
        """The client's `host:port`."""

    @property
    def mail_from(self) -> str | None: ...
    @property
    def recipients(self) -> dict[str, list[str]]:
        """Mailbox user -> the accepted recipient addresses that lead to it."""

    def handle(self, event: Any) -> SmtpReply: ...
    def mailbox_for(self, address: str) -> str | None:
        """The mailbox user a recipient address delivers to, or None."""

    def reset_transaction(self) -> None:
        """Forget the mail transaction (sender, recipients, chunks): nothing of it is stored."""


class ImapSeams(HookedSession, Protocol):
    """What `ImapHooks` needs of an IMAP session."""

    @property
    def conn(self) -> ImapConnection: ...
    @property
    def commands_answered(self) -> int:
        """Commands answered in the session so far, the one being answered included."""

    def handle(self, event: Any) -> ImapResponse: ...
    def folder_messages(self, name: str) -> int | None:
        """How many messages the logged-in user's folder `name` holds; None when there is no such folder."""
