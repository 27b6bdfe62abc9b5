"""The SMTP session's states and every rule that moves between them (RFC 5321 section 4.1.4, RFC 3030).

Theory of operation: the core reads a command, the handler decides the reply, and *sending* the reply
moves the state, by the command answered and the reply's class (2xx, 3xx, 4xx, 5xx).  `ALLOWED` says which
commands a state takes; anything else is refused with 503 and the state stays put.  Everything that
affects transitions lives in this file.

- GREETED: the greeting was sent, no EHLO/HELO yet.  (RFC 5321 section 4.1.4: MAIL needs a HELO first.)
- READY: after EHLO/HELO (or RSET, or a finished transaction); no transaction open.
- MAIL: MAIL FROM accepted; RCPT TO expected.
- RCPT: at least one recipient accepted; more RCPT, DATA or BDAT.
- DATA: 354 sent; the content is being read up to CRLF.CRLF.
- BDAT: a non-LAST BDAT chunk accepted; more BDAT (DATA is refused, RFC 3030 section 2).
- AUTH: a 334 challenge was sent; the next line is the client's SASL response.
- CLOSED: 221 or 421 sent, or a write failed.
"""

from __future__ import annotations

import enum

from ._events import (
    Auth,
    AuthResponse,
    Bdat,
    Data,
    Ehlo,
    Helo,
    Help,
    Mail,
    MessageData,
    Noop,
    Quit,
    Rcpt,
    Rset,
    StartTls,
    Vrfy,
)

__all__ = ["ALLOWED", "TRANSITIONS", "State", "refusal"]


class State(enum.Enum):
    GREETED = enum.auto()
    READY = enum.auto()
    MAIL = enum.auto()
    RCPT = enum.auto()
    DATA = enum.auto()
    BDAT = enum.auto()
    AUTH = enum.auto()
    CLOSED = enum.auto()


_ANYTIME = frozenset({Ehlo, Helo, Rset, Noop, Quit, Vrfy, Help})
"""RFC 5321 section 4.1.4: these may be sent at any time outside DATA (EHLO and RSET end a transaction)."""

ALLOWED: dict[State, frozenset[type]] = {
    State.GREETED: _ANYTIME,
    State.READY: _ANYTIME | {Mail, StartTls, Auth},
    State.MAIL: _ANYTIME | {Rcpt},
    State.RCPT: _ANYTIME | {Rcpt, Data, Bdat},
    State.BDAT: frozenset({Bdat, Rset, Noop, Quit}),
    State.DATA: frozenset({MessageData}),
    State.AUTH: frozenset({AuthResponse}),
    State.CLOSED: frozenset(),
}

_ANY = "*"
TRANSITIONS: dict[tuple[type, int | str], State] = {
    (Ehlo, 2): State.READY,
    (Helo, 2): State.READY,
    (Rset, 2): State.READY,
    (Mail, 2): State.MAIL,
    (Rcpt, 2): State.RCPT,
    (Data, 3): State.DATA,
    (MessageData, _ANY): State.READY,
    (StartTls, 2): State.GREETED,
    (Auth, 3): State.AUTH,
    (AuthResponse, 3): State.AUTH,
    (Quit, 2): State.CLOSED,
}
"""(command answered, reply class) -> next state; a pair not listed leaves the state as it was, except the
special cases in `next_state` (421 closes; AUTH ends where it began; BDAT depends on LAST)."""


def next_state(state: State, command: object, code: int) -> State:
    """The state after answering `command` with `code` in `state`.

    An AUTH exchange ends (success or failure) where it began: READY, the only state that takes AUTH.
    """
    if code == 421:
        return State.CLOSED  # RFC 5321 section 3.8: the server closes after 421
    kind, klass = type(command), code // 100
    if kind is Bdat:
        # RFC 3030 section 2: a refused chunk ends the transaction (the server discards the message).
        return State.BDAT if klass == 2 and not command.last else State.READY  # type: ignore[attr-defined]
    if kind in (Auth, AuthResponse) and klass != 3:
        return State.READY
    found = TRANSITIONS.get((kind, klass)) or TRANSITIONS.get((kind, _ANY))
    return state if found is None else found


def refusal(state: State, command: type) -> str:
    """Why `command` is out of sequence in `state`: the text of the 503 reply."""
    if state is State.GREETED:
        return "send EHLO or HELO first"
    if command is Mail:
        return "nested MAIL command: a transaction is open (RSET first)"
    if command is Rcpt:
        return "need MAIL before RCPT"
    if command in (Data, Bdat):
        if state is State.BDAT:
            return "DATA is not allowed in the middle of a BDAT transfer"
        return "need RCPT before DATA" if state is State.MAIL else "need MAIL and RCPT before DATA"
    if command is StartTls:
        return "STARTTLS is not allowed in a mail transaction"
    if command is Auth:
        return "AUTH is not allowed in a mail transaction"
    return f"{getattr(command, 'verb', '?')} is not allowed now"
