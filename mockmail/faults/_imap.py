"""The `imap` part of a fault plan: how a tenant (or one mailbox) departs from RFC 9051.

The kinds of knob POP3 and SMTP have, for IMAP:

- `replies`: a scripted tagged reply to a command (`NO` or `BAD` with text, instead of carrying it out),
  `BYE` (an untagged BYE instead of any answer, then a close) or `drop` (the command is carried out and
  its untagged responses are sent, but its tagged completion never is);
- `bye`: an untagged BYE mid-session, after the Nth command's reply or instead of the answer to a verb;
- quirks of real servers that broke clients: `logout_no_ok` (BYE, then a close without the tagged OK),
  `size_delta` (RFC822.SIZE off by some octets), `bodystructure` (GreenMail issue 113's shape),
  `select_empty_fails` (smtp4dev issue 2004), `uidvalidity_churn`, `idle_no_updates`, `idle_cut`,
  `peek_sets_seen` and `expunge_numbers`.  docs/faults.md names the source of each.
Delay, truncation (of a FETCH reply), stall, reset and close at command level are the plan's `transport`
faults with `"protocol": "imap"`.  Session quirks count sessions in `times`; replies count occurrences.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ._knob import Knob

__all__ = [
    "BodystructureFault",
    "ExpungeNumbersFault",
    "IdleCut",
    "ImapBye",
    "ImapFaultPlan",
    "ImapReply",
    "ImapVerb",
    "SelectEmptyFault",
    "SizeDelta",
]

ImapVerb = Literal[
    "CAPABILITY",
    "NOOP",
    "LOGOUT",
    "ID",
    "STARTTLS",
    "AUTHENTICATE",
    "LOGIN",
    "ENABLE",
    "SELECT",
    "EXAMINE",
    "CREATE",
    "DELETE",
    "RENAME",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "LIST",
    "LSUB",
    "NAMESPACE",
    "STATUS",
    "APPEND",
    "IDLE",
    "CHECK",
    "CLOSE",
    "UNSELECT",
    "EXPUNGE",
    "SEARCH",
    "SORT",
    "FETCH",
    "STORE",
    "COPY",
    "MOVE",
]
"""IMAP commands by RFC verb; a UID command counts as its verb (`UID FETCH` is `FETCH`)."""
ImapText = Annotated[
    str, Meta(pattern=r"^[ -~]{1,200}(?!\n)$", description="Response text (printable ASCII).")
]


class ImapReply(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Answer `command` (optionally only for mailbox user `user`) another way: `NO` or `BAD` with `text`
    instead of carrying it out; `BYE`: `* BYE text` instead of any answer, then a close; `drop`: carry it
    out and send its untagged responses, but never its tagged completion."""

    command: ImapVerb
    status: Literal["NO", "BAD", "BYE", "drop"] = "NO"
    text: ImapText = "server unavailable, try again later"
    user: str | None = None


class ImapBye(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An untagged `* BYE text` and a close mid-session: after the reply to the `after_commands`th command
    (counted from the greeting), or instead of any answer to `command`; with neither, after the first."""

    after_commands: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    command: ImapVerb | None = None
    text: ImapText = "server shutting down"

    @property
    def after(self) -> int | None:
        """The command count the BYE follows; None when it replaces the answer to `command` instead."""
        if self.after_commands is None and self.command is None:
            return 1
        return self.after_commands


class SizeDelta(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """RFC822.SIZE differs from the octets the message's literal holds by `delta` (RFC 9051 section
    7.5.2 wants them equal); clients that size their buffers from it read short or wait for more."""

    delta: Annotated[int, Meta(ge=-1_000_000, le=1_000_000)] = -2


class BodystructureFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`greenmail-113`: a part's disposition goes out without its parameter list (`("inline")` where
    RFC 9051's body-fld-dsp wants `("inline" NIL)`), which Jakarta Mail's parser refuses."""

    mode: Literal["greenmail-113"] = "greenmail-113"


class SelectEmptyFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """SELECT and EXAMINE of a folder holding no message fail with `NO text` (smtp4dev issue 2004)."""

    text: ImapText = "uid must be >= 1"


class IdleCut(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An IDLE during which the client sends nothing for `seconds` ends in a close without BYE, as a NAT
    or a proxy in front of the server drops a quiet connection."""

    seconds: Annotated[float, Meta(gt=0, le=3600)] = 30.0


class ExpungeNumbersFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`original`: when one command expunges several messages, each EXPUNGE names the message's number
    from before the command, as if the EXPUNGEs before it had not moved it down (RFC 9051 section 7.5.1
    wants each number as the client's view is at that moment)."""

    mode: Literal["original"] = "original"


class ImapFaultPlan(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """How IMAP departs from RFC 9051 for a tenant (or for one mailbox, from its login on); empty is
    compliant."""

    replies: list[ImapReply] = []
    bye: ImapBye | None = None
    logout_no_ok: Knob | None = None
    """LOGOUT gets its `* BYE`, then the connection closes without the tagged OK."""
    size_delta: SizeDelta | None = None
    bodystructure: BodystructureFault | None = None
    select_empty_fails: SelectEmptyFault | None = None
    uidvalidity_churn: Knob | None = None
    """Every SELECT and EXAMINE announces a new UIDVALIDITY, so a client must forget every UID it cached."""
    idle_no_updates: Knob | None = None
    """During IDLE no EXISTS, EXPUNGE or FETCH is pushed; they come with the reply to DONE."""
    idle_cut: IdleCut | None = None
    peek_sets_seen: Knob | None = None
    """BODY.PEEK[...] and BINARY.PEEK[...] set \\Seen as if they were not PEEK."""
    expunge_numbers: ExpungeNumbersFault | None = None
