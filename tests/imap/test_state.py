"""mockmail/imap/_state.py: which command each state allows, and which sent completions move the state."""

from __future__ import annotations

import pytest

from mockmail.imap import (
    ALLOWED,
    Bad,
    BadCommand,
    Bye,
    Command,
    Greeting,
    ImapConnection,
    LocalProtocolError,
    No,
    Ok,
    State,
)
from mockmail.imap._state import TRANSITIONS

from .helpers import greeted, logged_in, selected

SAMPLES: dict[str, bytes] = {
    "CAPABILITY": b"CAPABILITY",
    "NOOP": b"NOOP",
    "LOGOUT": b"LOGOUT",
    "ID": b"ID NIL",
    "STARTTLS": b"STARTTLS",
    "AUTHENTICATE": b"AUTHENTICATE PLAIN",
    "LOGIN": b"LOGIN bob pw",
    "ENABLE": b"ENABLE IMAP4rev2",
    "SELECT": b"SELECT INBOX",
    "EXAMINE": b"EXAMINE INBOX",
    "CREATE": b"CREATE x",
    "DELETE": b"DELETE x",
    "RENAME": b"RENAME x y",
    "SUBSCRIBE": b"SUBSCRIBE x",
    "UNSUBSCRIBE": b"UNSUBSCRIBE x",
    "LIST": b'LIST "" *',
    "LSUB": b'LSUB "" *',
    "NAMESPACE": b"NAMESPACE",
    "STATUS": b"STATUS INBOX (MESSAGES)",
    "APPEND": b"APPEND INBOX {1+}\r\nx",
    "IDLE": b"IDLE",
    "CHECK": b"CHECK",
    "CLOSE": b"CLOSE",
    "UNSELECT": b"UNSELECT",
    "EXPUNGE": b"EXPUNGE",
    "SEARCH": b"SEARCH ALL",
    "SORT": b"SORT (DATE) UTF-8 ALL",
    "FETCH": b"FETCH 1 FLAGS",
    "STORE": b"STORE 1 +FLAGS (\\Seen)",
    "COPY": b"COPY 1 x",
    "MOVE": b"MOVE 1 x",
}
EVERY_COMMAND = sorted({kind for kinds in ALLOWED.values() for kind in kinds}, key=lambda k: k.verb)
SESSIONS = {State.NOT_AUTHENTICATED: greeted, State.AUTHENTICATED: logged_in, State.SELECTED: selected}


def test_every_command_has_a_sample() -> None:
    assert {kind.verb for kind in EVERY_COMMAND} == set(SAMPLES)


@pytest.mark.parametrize("state", list(SESSIONS))
@pytest.mark.parametrize("kind", EVERY_COMMAND, ids=lambda k: k.verb)
def test_allowed_or_refused_and_state_unchanged(state: State, kind: type[Command]) -> None:
    conn = SESSIONS[state]()
    assert conn.state is state
    conn.receive_data(b"t " + SAMPLES[kind.verb] + b"\r\n")
    event = conn.next_event()
    if kind in ALLOWED[state]:
        assert type(event) is kind
    else:
        assert event == BadCommand("t", f"{kind.verb} not allowed in {state.name} state", kind.verb)
        assert conn.send(Bad(event.reason)) == f"t BAD {event.reason}\r\n".encode()
        assert conn.state is state


def test_the_any_state_commands() -> None:
    for verb in ("CAPABILITY", "NOOP", "LOGOUT", "ID"):
        assert all(any(k.verb == verb for k in ALLOWED[s]) for s in SESSIONS)
    assert ALLOWED[State.LOGOUT] == frozenset()


@pytest.mark.parametrize(
    ("make", "line", "response", "after"),
    [
        (greeted, b"LOGIN bob pw", Ok(), State.AUTHENTICATED),
        (greeted, b"LOGIN bob pw", No(), State.NOT_AUTHENTICATED),
        (greeted, b"LOGIN bob pw", Bad(), State.NOT_AUTHENTICATED),
        (greeted, b"AUTHENTICATE PLAIN AGJvYgBwdw==", Ok(), State.AUTHENTICATED),
        (greeted, b"AUTHENTICATE PLAIN AGJvYgBwdw==", No(), State.NOT_AUTHENTICATED),
        (logged_in, b"SELECT INBOX", Ok(), State.SELECTED),
        (logged_in, b"EXAMINE INBOX", Ok(), State.SELECTED),
        (logged_in, b"SELECT nope", No(), State.AUTHENTICATED),
        (selected, b"SELECT other", Ok(), State.SELECTED),
        (selected, b"SELECT nope", No(), State.AUTHENTICATED),  # RFC 9051 section 6.3.2
        (selected, b"EXAMINE nope", No(), State.AUTHENTICATED),
        (selected, b"SELECT nope", Bad(), State.SELECTED),
        (selected, b"CLOSE", Ok(), State.AUTHENTICATED),
        (selected, b"UNSELECT", Ok(), State.AUTHENTICATED),
        (selected, b"UNSELECT", No(), State.SELECTED),
        (selected, b"EXPUNGE", Ok(), State.SELECTED),
        (greeted, b"LOGOUT", Ok(), State.LOGOUT),
        (logged_in, b"LOGOUT", Ok(), State.LOGOUT),
        (selected, b"LOGOUT", Ok(), State.LOGOUT),
    ],
)
def test_sending_the_completion_moves_the_state(make: object, line: bytes, response: Ok | No | Bad, after: State) -> None:
    conn = make()  # type: ignore[operator]
    conn.receive_data(b"t " + line + b"\r\n")
    event = conn.next_event()
    assert isinstance(event, Command)
    conn.send(response)
    assert conn.state is after


def test_transitions_only_name_allowed_commands() -> None:
    for state, kind, _status in TRANSITIONS:
        if state is not State.LOGOUT:
            assert kind in ALLOWED[state]


def test_preauth_greeting_starts_authenticated() -> None:
    conn = ImapConnection()
    assert conn.send(Greeting("welcome", status="PREAUTH")) == b"* PREAUTH welcome\r\n"
    assert conn.state is State.AUTHENTICATED


def test_bye_greeting_ends_the_session() -> None:
    conn = ImapConnection()
    conn.send(Greeting("too busy", status="BYE"))
    assert conn.closed
    with pytest.raises(LocalProtocolError, match="over"):
        conn.next_event()


def test_logout_sends_bye_then_ok() -> None:
    conn = selected()
    conn.receive_data(b"z LOGOUT\r\n")
    conn.next_event()
    assert conn.send(Bye("logging out")) == b"* BYE logging out\r\n"
    assert conn.send(Ok("LOGOUT completed")) == b"z OK LOGOUT completed\r\n"
    assert conn.state is State.LOGOUT
    with pytest.raises(LocalProtocolError):
        conn.next_event()


def test_illegal_sends_change_nothing() -> None:
    conn = logged_in()
    with pytest.raises(LocalProtocolError, match="no command is waiting"):
        conn.send(Ok())
    conn.receive_data(b"t FROB\r\n")
    conn.next_event()
    with pytest.raises(LocalProtocolError, match="OK cannot answer"):
        conn.send(Ok())
    assert conn.state is State.AUTHENTICATED
    assert conn.send(Bad("unknown")) == b"t BAD unknown\r\n"


def test_greeting_first_and_once() -> None:
    conn = ImapConnection()
    with pytest.raises(LocalProtocolError, match="greeting"):
        conn.send(Ok())
    conn.send(Greeting())
    with pytest.raises(LocalProtocolError, match="already"):
        conn.send(Greeting())


def test_one_command_at_a_time() -> None:
    conn = greeted()
    conn.receive_data(b"a NOOP\r\nb NOOP\r\n")
    conn.next_event()
    with pytest.raises(LocalProtocolError, match="answer"):
        conn.next_event()
    conn.send(Ok())
    assert conn.next_event().tag == "b"  # type: ignore[union-attr]


def test_capabilities_follow_the_state() -> None:
    conn = greeted(auth_mechanisms=("PLAIN", "XOAUTH2"), login_disabled=True, append_limit=5000)
    before = conn.capabilities()
    assert before[:2] == ("IMAP4rev1", "IMAP4rev2")
    assert {"STARTTLS", "LOGINDISABLED", "AUTH=PLAIN", "AUTH=XOAUTH2", "APPENDLIMIT=5000", "LITERAL+"} <= set(before)
    conn.receive_data(b"a LOGIN bob pw\r\n")
    conn.next_event()
    conn.send(Ok())
    after = conn.capabilities()
    assert not {c for c in after if c.startswith("AUTH=") or c in ("STARTTLS", "LOGINDISABLED")}
    secure = greeted(secure=True, login_disabled=True)
    assert "STARTTLS" not in secure.capabilities() and "LOGINDISABLED" not in secure.capabilities()
