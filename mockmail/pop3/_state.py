"""The POP3 session state machine (RFC 1939 section 3).

Theory of operation: everything that decides *whether* something may happen lives in the tables of this
file; nothing here knows about mailboxes, sockets or clocks.

- `ALLOWED[state]` is the set of commands a client may send in that state.  A command outside it becomes a
  `BadCommand` ("RETR not allowed in AUTHORIZATION state") and the state does not move.  This is the
  AUTHORIZATION/TRANSACTION split: it lives here, not in `if` chains in the adapter.
- `RECEIVE_TRANSITIONS[(state, command)]` moves the state when a command is *received*: QUIT in TRANSACTION
  enters UPDATE at once (RFC 1939 section 6), so the adapter commits deletions while in UPDATE.
- `SEND_TRANSITIONS[(state, reply)]` moves the state when a reply is *sent*: the adapter decides outcomes
  (was the password right?) and sending `LoggedIn` enters TRANSACTION, sending `Goodbye` closes.
- `ANSWERS[command]` lists the reply types that may answer each command; anything else is a bug in the
  adapter (`LocalProtocolError`).  `Err` may answer anything.
"""

from __future__ import annotations

import enum

from ._events import (
    Apop,
    Auth,
    Capa,
    Command,
    Continue,
    Dele,
    DropStat,
    Err,
    Goodbye,
    List,
    Listing,
    LoggedIn,
    MessageContent,
    Noop,
    Ok,
    Pass,
    Quit,
    Reply,
    Retr,
    Rset,
    ScanLine,
    ScanListing,
    Stat,
    Stls,
    TlsReady,
    Top,
    Uidl,
    UidLine,
    UidListing,
    User,
)

__all__ = ["ALLOWED", "ANSWERS", "RECEIVE_TRANSITIONS", "SEND_TRANSITIONS", "State"]


class State(enum.Enum):
    """RFC 1939 section 3 states, plus CLOSED once the session is over."""

    AUTHORIZATION = enum.auto()
    TRANSACTION = enum.auto()
    UPDATE = enum.auto()
    CLOSED = enum.auto()


ALLOWED: dict[State, frozenset[type[Command]]] = {
    State.AUTHORIZATION: frozenset({Capa, User, Pass, Apop, Auth, Stls, Quit}),
    State.TRANSACTION: frozenset({Capa, Stat, List, Retr, Dele, Noop, Rset, Top, Uidl, Quit}),
    State.UPDATE: frozenset(),
    State.CLOSED: frozenset(),
}

RECEIVE_TRANSITIONS: dict[tuple[State, type[Command]], State] = {
    (State.TRANSACTION, Quit): State.UPDATE,
}

SEND_TRANSITIONS: dict[tuple[State, type[Reply]], State] = {
    (State.AUTHORIZATION, LoggedIn): State.TRANSACTION,
    (State.AUTHORIZATION, Goodbye): State.CLOSED,
    (State.UPDATE, Goodbye): State.CLOSED,
    # RFC 1939 section 6: QUIT in UPDATE may answer -ERR if deletions failed; the session ends either way.
    (State.UPDATE, Err): State.CLOSED,
}

ANSWERS: dict[type[Command], frozenset[type[Reply]]] = {
    User: frozenset({Ok}),
    Pass: frozenset({LoggedIn}),
    Apop: frozenset({LoggedIn}),
    Auth: frozenset({Continue, LoggedIn, Listing}),
    Capa: frozenset({Listing}),
    Stls: frozenset({TlsReady}),
    Quit: frozenset({Goodbye}),
    Stat: frozenset({DropStat}),
    List: frozenset({ScanLine, ScanListing}),
    Retr: frozenset({MessageContent}),
    Top: frozenset({MessageContent}),
    Dele: frozenset({Ok}),
    Noop: frozenset({Ok}),
    Rset: frozenset({Ok}),
    Uidl: frozenset({UidLine, UidListing}),
}
