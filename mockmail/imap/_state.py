"""The IMAP session state machine (RFC 9051 section 3, figure in 3.5).

Theory of operation: everything that decides *whether* something may happen lives in the tables of this
file; nothing here knows about mailboxes, sockets or clocks.

- `ALLOWED[state]` is the set of commands a client may send in that state (RFC 9051 sections 6.1-6.4;
  LSUB and CHECK kept for rev1 clients, ID from RFC 2971 in any state).  A command outside it becomes a
  `BadCommand` ("FETCH not allowed in AUTHENTICATED state") and the state does not move.
- `TRANSITIONS[(state, command, status)]` moves the state when the tagged completion is *sent*: the
  adapter decides outcomes (was the password right?), and sending `OK` to LOGIN enters AUTHENTICATED.
  A failed SELECT or EXAMINE in SELECTED state leaves it for AUTHENTICATED (RFC 9051 section 6.3.2: the
  previous mailbox is closed even when the new one cannot be opened).
- `Mode` is the sub-state of the reader: a command, an AUTHENTICATE exchange (lines are raw SASL
  responses), IDLE (the only line is DONE), or waiting for the answer to a synchronizing literal.
"""

from __future__ import annotations

import enum

from ._events import (
    Append,
    Authenticate,
    Capability,
    Check,
    Close,
    Command,
    Copy,
    Create,
    Delete,
    Enable,
    Examine,
    Expunge,
    Fetch,
    Id,
    Idle,
    List,
    Login,
    Logout,
    Lsub,
    Move,
    Namespace,
    Noop,
    Rename,
    Search,
    Select,
    Sort,
    StartTls,
    Status,
    Store,
    Subscribe,
    Unselect,
    Unsubscribe,
)

__all__ = ["ALLOWED", "TRANSITIONS", "Mode", "State", "refusal"]


class State(enum.Enum):
    """RFC 9051 section 3 states."""

    NOT_AUTHENTICATED = enum.auto()
    AUTHENTICATED = enum.auto()
    SELECTED = enum.auto()
    LOGOUT = enum.auto()


class Mode(enum.Enum):
    """What the next client line is."""

    COMMAND = enum.auto()
    LITERAL = enum.auto()
    """A synchronizing literal was announced: the adapter must send `+` or refuse the command first."""
    AUTHENTICATE = enum.auto()
    """Inside an AUTHENTICATE exchange: lines are base64 responses or `*` (RFC 9051 section 6.2.2)."""
    IDLE = enum.auto()
    """Inside IDLE: the next line must be DONE (RFC 2177 / RFC 9051 section 6.3.13)."""


_ANY: frozenset[type[Command]] = frozenset({Capability, Noop, Logout, Id})
_AUTHENTICATED: frozenset[type[Command]] = _ANY | {
    Select,
    Examine,
    Create,
    Delete,
    Rename,
    Subscribe,
    Unsubscribe,
    List,
    Lsub,
    Namespace,
    Status,
    Append,
    Idle,
}

ALLOWED: dict[State, frozenset[type[Command]]] = {
    State.NOT_AUTHENTICATED: _ANY | {StartTls, Authenticate, Login},
    # RFC 5161 section 3.1: ENABLE only before a mailbox is selected.
    State.AUTHENTICATED: _AUTHENTICATED | {Enable},
    State.SELECTED: _AUTHENTICATED | {Check, Close, Unselect, Expunge, Search, Sort, Fetch, Store, Copy, Move},
    State.LOGOUT: frozenset(),
}

TRANSITIONS: dict[tuple[State, type[Command], str], State] = {
    (State.NOT_AUTHENTICATED, Login, "OK"): State.AUTHENTICATED,
    (State.NOT_AUTHENTICATED, Authenticate, "OK"): State.AUTHENTICATED,
    (State.AUTHENTICATED, Select, "OK"): State.SELECTED,
    (State.AUTHENTICATED, Examine, "OK"): State.SELECTED,
    (State.SELECTED, Select, "NO"): State.AUTHENTICATED,
    (State.SELECTED, Examine, "NO"): State.AUTHENTICATED,
    (State.SELECTED, Close, "OK"): State.AUTHENTICATED,
    (State.SELECTED, Unselect, "OK"): State.AUTHENTICATED,
    **{(state, Logout, "OK"): State.LOGOUT for state in State},
}


def refusal(state: State, command: type[Command]) -> str:
    """The BAD text for a command the state does not allow."""
    return f"{command.verb} not allowed in {state.name} state"
