"""mockmail/pop3/_connection.py: events, replies and transitions of one session."""

from __future__ import annotations

import pytest

from mockmail.pop3 import (
    NEED_DATA,
    Auth,
    BadCommand,
    Capa,
    ConnectionClosed,
    Continue,
    DropStat,
    Err,
    Goodbye,
    Greeting,
    List,
    Listing,
    LocalProtocolError,
    LoggedIn,
    MessageContent,
    Noop,
    Ok,
    Pass,
    Pop3Connection,
    Quit,
    SaslResponse,
    ScanLine,
    Stat,
    State,
    Stls,
    StuffedBody,
    TlsReady,
    User,
)

from .helpers import chunkings, first_event, greeted, logged_in


def test_greeting_first_and_only_once() -> None:
    conn = Pop3Connection()
    with pytest.raises(LocalProtocolError, match="greeting before any other reply"):
        conn.send(Ok())
    assert conn.send(Greeting("ready", "<1.2@h>")) == b"+OK ready <1.2@h>\r\n"
    with pytest.raises(LocalProtocolError, match="already sent"):
        conn.send(Greeting("again"))


@pytest.mark.parametrize("chunks", list(chunkings(b"USER alice\r\n")))
def test_events_arrive_whole_byte_by_byte_or_split(chunks: list[bytes]) -> None:
    conn = greeted()
    assert first_event(conn, chunks) == User("alice")


def test_user_pass_login_moves_to_transaction() -> None:
    conn = greeted()
    conn.receive_data(b"USER bob\r\n")
    assert conn.next_event() == User("bob")
    assert conn.send(Ok("send PASS")) == b"+OK send PASS\r\n"
    assert conn.user == "bob"
    conn.receive_data(b"PASS pw\r\n")
    assert conn.next_event() == Pass("pw")
    assert conn.send(LoggedIn("welcome")) == b"+OK welcome\r\n"
    assert conn.state is State.TRANSACTION
    assert conn.user is None


def test_pass_without_user_is_refused_and_state_stays() -> None:
    conn = greeted()
    conn.receive_data(b"PASS pw\r\n")
    event = conn.next_event()
    assert event == BadCommand("PASS must follow a successful USER", "PASS")
    assert conn.send(Err(event.reason)) == b"-ERR PASS must follow a successful USER\r\n"
    assert conn.state is State.AUTHORIZATION


def test_failed_pass_forgets_the_user() -> None:
    conn = greeted()
    conn.receive_data(b"USER bob\r\nPASS bad\r\nPASS again\r\n")
    conn.next_event()
    conn.send(Ok())
    conn.next_event()
    assert conn.send(Err("invalid", "AUTH")) == b"-ERR [AUTH] invalid\r\n"
    assert conn.state is State.AUTHORIZATION
    assert isinstance(conn.next_event(), BadCommand)


def test_failed_user_leaves_no_user() -> None:
    conn = greeted()
    conn.receive_data(b"USER bob\r\n")
    conn.next_event()
    conn.send(Err("no"))
    assert conn.user is None


def test_must_answer_before_next_event() -> None:
    conn = greeted()
    conn.receive_data(b"CAPA\r\nCAPA\r\n")
    assert conn.next_event() == Capa()
    with pytest.raises(LocalProtocolError, match="answer"):
        conn.next_event()


def test_pipelined_commands_come_one_at_a_time_in_order() -> None:
    conn = logged_in()
    conn.receive_data(b"STAT\r\nLIST 1\r\nNOOP\r\n")
    replies = []
    for reply in (DropStat(1, 10), ScanLine(1, 10), Ok()):
        conn.next_event()
        replies.append(conn.send(reply))
    assert replies == [b"+OK 1 10\r\n", b"+OK 1 10\r\n", b"+OK\r\n"]
    assert conn.next_event() is NEED_DATA


def test_illegal_reply_raises_and_changes_nothing() -> None:
    conn = logged_in()
    conn.receive_data(b"STAT\r\n")
    assert conn.next_event() == Stat()
    with pytest.raises(LocalProtocolError, match="ScanLine cannot answer"):
        conn.send(ScanLine(1, 1))
    assert conn.pending == Stat()
    assert conn.send(DropStat(0, 0)) == b"+OK 0 0\r\n"


def test_bad_command_can_only_be_answered_with_err() -> None:
    conn = greeted()
    conn.receive_data(b"BOGUS\r\n")
    assert isinstance(conn.next_event(), BadCommand)
    with pytest.raises(LocalProtocolError):
        conn.send(Ok())
    assert conn.send(Err("unknown")) == b"-ERR unknown\r\n"


def test_no_reply_without_a_command() -> None:
    conn = greeted()
    with pytest.raises(LocalProtocolError, match="no command is waiting"):
        conn.send(Ok())


def test_quit_in_transaction_enters_update_then_closes() -> None:
    conn = logged_in()
    conn.receive_data(b"QUIT\r\n")
    assert conn.next_event() == Quit()
    assert conn.state is State.UPDATE
    assert conn.send(Goodbye("bye")) == b"+OK bye\r\n"
    assert conn.state is State.CLOSED
    with pytest.raises(LocalProtocolError, match="closed"):
        conn.next_event()


def test_quit_in_authorization_closes_without_update() -> None:
    conn = greeted()
    conn.receive_data(b"QUIT\r\n")
    conn.next_event()
    assert conn.state is State.AUTHORIZATION
    conn.send(Goodbye("bye"))
    assert conn.state is State.CLOSED


def test_err_to_quit_in_update_still_closes() -> None:
    conn = logged_in()
    conn.receive_data(b"QUIT\r\n")
    conn.next_event()
    conn.send(Err("some deleted messages not removed"))
    assert conn.state is State.CLOSED


def test_end_of_file() -> None:
    conn = greeted()
    conn.receive_data(b"NOO")
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)


def test_over_long_command_gets_one_bad_command_and_the_session_goes_on() -> None:
    conn = greeted()
    conn.receive_data(b"USER " + b"x" * 300 + b"\r\nCAPA\r\n")
    event = conn.next_event()
    assert isinstance(event, BadCommand)
    assert "line too long (limit 255 octets" in event.reason
    conn.send(Err(event.reason))
    assert conn.next_event() == Capa()


def test_configurable_line_limit() -> None:
    conn = greeted(max_command_line=20)
    conn.receive_data(b"USER " + b"x" * 20 + b"\r\n")
    assert isinstance(conn.next_event(), BadCommand)


def test_sasl_exchange_turns_lines_into_responses() -> None:
    conn = greeted()
    conn.receive_data(b"AUTH PLAIN\r\n")
    assert conn.next_event() == Auth("PLAIN")
    assert conn.send(Continue("")) == b"+ \r\n"
    assert conn.in_sasl_exchange
    conn.receive_data(b"AGJvYgBwdw==\r\n")
    assert conn.next_event() == SaslResponse("AGJvYgBwdw==")
    assert conn.send(LoggedIn("in")) == b"+OK in\r\n"
    assert conn.state is State.TRANSACTION
    assert not conn.in_sasl_exchange


def test_sasl_cancel_is_a_response_the_adapter_refuses() -> None:
    conn = greeted()
    conn.receive_data(b"AUTH LOGIN\r\n*\r\nCAPA\r\n")
    conn.next_event()
    conn.send(Continue("VXNlcm5hbWU6"))
    event = conn.next_event()
    assert isinstance(event, SaslResponse) and event.cancelled
    conn.send(Err("AUTH cancelled"))
    assert conn.state is State.AUTHORIZATION
    assert conn.next_event() == Capa()


def test_sasl_lines_may_exceed_the_command_limit() -> None:
    conn = greeted()
    token = b"A" * 1000
    conn.receive_data(b"AUTH PLAIN\r\n" + token + b"\r\n")
    conn.next_event()
    conn.send(Continue(""))
    assert conn.next_event() == SaslResponse(token.decode())


def test_stls_discards_pipelined_plaintext() -> None:
    conn = greeted()
    conn.receive_data(b"STLS\r\nUSER injected\r\n")
    assert conn.next_event() == Stls()
    assert conn.send(TlsReady("go")) == b"+OK go\r\n"
    assert conn.secure
    assert conn.trailing_data == b"USER injected\r\n"
    assert conn.next_event() is NEED_DATA


def test_listing_and_message_content_render() -> None:
    conn = logged_in()
    conn.receive_data(b"CAPA\r\nRETR 1\r\n")
    conn.next_event()
    assert conn.send(Listing("caps", ["TOP", "UIDL"])) == b"+OK caps\r\nTOP\r\nUIDL\r\n.\r\n"
    conn.next_event()
    assert conn.send(MessageContent("3 octets", StuffedBody.stuff(b"a\r\n"))) == b"+OK 3 octets\r\na\r\n.\r\n"


def test_send_failed_closes() -> None:
    conn = logged_in()
    conn.send_failed()
    assert conn.state is State.CLOSED


def test_noop_and_list_are_transaction_commands() -> None:
    conn = logged_in()
    conn.receive_data(b"NOOP\r\nLIST\r\n")
    assert conn.next_event() == Noop()
    conn.send(Ok())
    assert conn.next_event() == List()
