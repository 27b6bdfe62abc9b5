"""mockmail/smtp/_state.py: every (state, command) pair `ALLOWED` leaves out is a 503 that changes nothing."""

from __future__ import annotations

import pytest

from mockmail.smtp import ALLOWED, BadCommand, Reply, SmtpConnection, State
from mockmail.smtp._state import next_state

LINES = {
    "Ehlo": b"EHLO c",
    "Helo": b"HELO c",
    "Mail": b"MAIL FROM:<a@x.test>",
    "Rcpt": b"RCPT TO:<b@x.test>",
    "Data": b"DATA",
    "Rset": b"RSET",
    "Noop": b"NOOP",
    "Quit": b"QUIT",
    "Vrfy": b"VRFY b",
    "Help": b"HELP",
    "StartTls": b"STARTTLS",
    "Auth": b"AUTH PLAIN",
}
SETUP = {
    State.GREETED: [],
    State.READY: [b"EHLO c"],
    State.MAIL: [b"EHLO c", b"MAIL FROM:<a@x.test>"],
    State.RCPT: [b"EHLO c", b"MAIL FROM:<a@x.test>", b"RCPT TO:<b@x.test>"],
}


def reach(state: State) -> SmtpConnection:
    conn = SmtpConnection()
    conn.send(Reply.of(220, None, "hi"))
    for line in SETUP[state]:
        conn.receive_data(line + b"\r\n")
        conn.next_event()
        conn.send(Reply.of(250, "2.0.0", "OK"))
    assert conn.state is state
    return conn


PAIRS = [
    (state, name) for state in SETUP for name in LINES if name not in {cls.__name__ for cls in ALLOWED[state]}
]


@pytest.mark.parametrize(("state", "name"), PAIRS, ids=[f"{s.name}-{n}" for s, n in PAIRS])
def test_illegal_pairs_are_refused_with_503_and_the_state_stays(state: State, name: str) -> None:
    conn = reach(state)
    conn.receive_data(LINES[name] + b"\r\n")
    bad = conn.next_event()
    assert isinstance(bad, BadCommand) and (bad.code, bad.enhanced) == (503, "5.5.1"), bad
    conn.send(Reply.of(503, "5.5.1", bad.reason))
    assert conn.state is state


def test_there_are_illegal_pairs_to_check() -> None:
    assert len(PAIRS) >= 10  # the generator found the table's gaps


@pytest.mark.parametrize(("code", "expected"), [(250, State.MAIL), (550, State.READY), (451, State.READY)])
def test_mail_moves_only_on_success(code: int, expected: State) -> None:
    from mockmail.smtp import Mail

    assert next_state(State.READY, Mail("a@x.test"), code) is expected


def test_ehlo_ends_an_open_transaction() -> None:
    conn = reach(State.RCPT)
    conn.receive_data(b"EHLO again\r\n")
    conn.next_event()
    conn.send(Reply(250, ["hi"], None))
    assert conn.state is State.READY
