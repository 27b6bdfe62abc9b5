"""mockmail/pop3/_state.py: every (state, command) pair the tables allow or refuse."""

from __future__ import annotations

import pytest

from mockmail.pop3 import (
    ALLOWED,
    Apop,
    Auth,
    BadCommand,
    Capa,
    Command,
    Dele,
    Err,
    List,
    Noop,
    Ok,
    Pass,
    Pop3Connection,
    Quit,
    Retr,
    Rset,
    Stat,
    State,
    Stls,
    Top,
    Uidl,
    User,
)

from .helpers import greeted, logged_in

LINES: dict[type[Command], bytes] = {
    User: b"USER bob",
    Pass: b"PASS pw",
    Apop: b"APOP bob " + b"0" * 32,
    Auth: b"AUTH PLAIN",
    Capa: b"CAPA",
    Stls: b"STLS",
    Quit: b"QUIT",
    Stat: b"STAT",
    List: b"LIST",
    Retr: b"RETR 1",
    Dele: b"DELE 1",
    Noop: b"NOOP",
    Rset: b"RSET",
    Top: b"TOP 1 0",
    Uidl: b"UIDL",
}

CONNECTIONS = {State.AUTHORIZATION: greeted, State.TRANSACTION: logged_in}


def test_every_command_has_a_test_line() -> None:
    assert set(LINES) == set().union(*ALLOWED.values())


def test_authorization_and_transaction_are_disjoint_but_for_capa_and_quit() -> None:
    shared = ALLOWED[State.AUTHORIZATION] & ALLOWED[State.TRANSACTION]
    assert shared == {Capa, Quit}


@pytest.mark.parametrize("state", list(CONNECTIONS))
@pytest.mark.parametrize("command", list(LINES))
def test_command_in_state(state: State, command: type[Command]) -> None:
    conn: Pop3Connection = CONNECTIONS[state]()
    assert conn.state is state
    if command is Pass:
        conn.receive_data(b"USER bob\r\n")  # PASS is only legal after a USER (checked separately)
        if state is State.AUTHORIZATION:
            conn.next_event()
            conn.send(Ok())
        else:
            conn.next_event()
            conn.send(Err("no"))
    conn.receive_data(LINES[command] + b"\r\n")
    event = conn.next_event()
    if command in ALLOWED[state]:
        assert type(event) is command
    else:
        assert isinstance(event, BadCommand)
        assert event.reason == f"{command.verb} not allowed in {state.name} state"
        assert event.verb == command.verb
        conn.send(Err(event.reason))
        assert conn.state is state  # a refused command never moves the state
        conn.receive_data(b"CAPA\r\n")
        assert isinstance(conn.next_event(), Capa)  # and the session stays usable


def test_update_and_closed_allow_nothing() -> None:
    assert ALLOWED[State.UPDATE] == frozenset()
    assert ALLOWED[State.CLOSED] == frozenset()
