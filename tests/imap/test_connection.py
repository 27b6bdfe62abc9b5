"""mockmail/imap/_connection.py: whole exchanges (AUTHENTICATE, IDLE, STARTTLS, ENABLE) on the pure object."""

from __future__ import annotations

import pytest

from mockmail.imap import (
    AUTHENTICATIONFAILED,
    NEED_DATA,
    Authenticate,
    AuthenticateResponse,
    Bad,
    BadCommand,
    ConnectionClosed,
    Continuation,
    EnabledResponse,
    EsearchResponse,
    ExistsResponse,
    Idle,
    IdleDone,
    ListResponse,
    LocalProtocolError,
    Login,
    Mode,
    No,
    Noop,
    Ok,
    SaslChallenge,
    Select,
    State,
    capability_code,
)

from .helpers import chunkings, greeted, logged_in, selected


def test_authenticate_exchange() -> None:
    conn = greeted()
    conn.receive_data(b"a AUTHENTICATE PLAIN\r\n")
    assert conn.next_event() == Authenticate(tag="a", mechanism="PLAIN")
    assert conn.send(SaslChallenge()) == b"+ \r\n"
    assert conn.mode is Mode.AUTHENTICATE
    # The response line is raw: it is never parsed as a command, even when it looks like one.
    conn.receive_data(b"b LOGOUT\r\n")
    assert conn.next_event() == AuthenticateResponse("b LOGOUT")
    with pytest.raises(LocalProtocolError, match="SaslChallenge"):
        conn.next_event()
    assert conn.send(SaslChallenge(b"again")) == b"+ YWdhaW4=\r\n"
    conn.receive_data(b"AGJvYgBwdw==\r\n")
    assert conn.next_event() == AuthenticateResponse("AGJvYgBwdw==")
    reply = conn.send(Ok("AUTHENTICATE completed", capability_code(["IMAP4rev1", "IMAP4rev2"])))
    assert reply == b"a OK [CAPABILITY IMAP4rev1 IMAP4rev2] AUTHENTICATE completed\r\n"
    assert (conn.state, conn.mode) == (State.AUTHENTICATED, Mode.COMMAND)


def test_authenticate_trickled() -> None:
    for chunks in chunkings(b"AGJvYgBwdw==\r\nc NOOP\r\n"):
        conn = greeted()
        conn.receive_data(b"a AUTHENTICATE PLAIN\r\n")
        conn.next_event()
        conn.send(SaslChallenge())
        got = []
        for chunk in chunks:
            conn.receive_data(chunk)
            event = conn.next_event()
            if event is not NEED_DATA:
                got.append(event)
                break
        assert got == [AuthenticateResponse("AGJvYgBwdw==")]


def test_authenticate_cancel_and_failure() -> None:
    conn = greeted()
    conn.receive_data(b"a AUTHENTICATE PLAIN\r\n*\r\n")
    conn.next_event()
    conn.send(SaslChallenge())
    event = conn.next_event()
    assert isinstance(event, AuthenticateResponse) and event.cancelled
    assert conn.send(Bad("cancelled")) == b"a BAD cancelled\r\n"
    assert conn.state is State.NOT_AUTHENTICATED
    conn.receive_data(b"b AUTHENTICATE PLAIN AGJvYgB4\r\n")
    assert conn.next_event() == Authenticate(tag="b", mechanism="PLAIN", initial_response="AGJvYgB4")
    reply = conn.send(No("invalid credentials", AUTHENTICATIONFAILED))
    assert reply == b"b NO [AUTHENTICATIONFAILED] invalid credentials\r\n"
    assert conn.state is State.NOT_AUTHENTICATED


def test_authenticate_line_too_long() -> None:
    conn = greeted()
    conn.receive_data(b"a AUTHENTICATE PLAIN\r\n" + b"A" * 13000 + b"\r\nb NOOP\r\n")
    conn.next_event()
    conn.send(SaslChallenge())
    event = conn.next_event()
    assert isinstance(event, BadCommand) and event.tag == "a" and "too long" in event.reason
    conn.send(Bad(event.reason))
    assert conn.next_event() == Noop(tag="b")


def test_sasl_challenge_answers_only_authenticate() -> None:
    conn = greeted()
    conn.receive_data(b"a NOOP\r\n")
    conn.next_event()
    with pytest.raises(LocalProtocolError, match="AUTHENTICATE"):
        conn.send(SaslChallenge())


def test_idle() -> None:
    conn = selected()
    conn.receive_data(b"i IDLE\r\n")
    assert conn.next_event() == Idle(tag="i")
    assert conn.send(Continuation("idling")) == b"+ idling\r\n"
    assert conn.mode is Mode.IDLE
    assert conn.next_event() is NEED_DATA
    assert conn.send(ExistsResponse(4)) == b"* 4 EXISTS\r\n"
    conn.receive_data(b"done\r\nn NOOP\r\n")
    assert conn.next_event() == IdleDone()
    with pytest.raises(LocalProtocolError, match="answer"):
        conn.next_event()
    assert conn.send(Ok("IDLE terminated")) == b"i OK IDLE terminated\r\n"
    assert conn.next_event() == Noop(tag="n")


def test_idle_ended_by_something_else() -> None:
    conn = logged_in()
    conn.receive_data(b"i IDLE\r\n")
    conn.next_event()
    conn.send(Continuation("idling"))
    conn.receive_data(b"x NOOP\r\n")
    event = conn.next_event()
    assert event == BadCommand("i", "expected DONE to end IDLE (RFC 2177)", "IDLE")
    assert conn.send(Bad(event.reason)) == b"i BAD expected DONE to end IDLE (RFC 2177)\r\n"
    assert conn.mode is Mode.COMMAND


def test_continuation_needs_a_reason() -> None:
    conn = logged_in()
    conn.receive_data(b"a NOOP\r\n")
    conn.next_event()
    with pytest.raises(LocalProtocolError, match="continuation cannot answer"):
        conn.send(Continuation())


def test_starttls_discards_pipelined_plaintext() -> None:
    conn = greeted()
    conn.receive_data(b"a STARTTLS\r\nb LOGIN bob pw\r\n")
    conn.next_event()
    assert conn.send(Ok("Begin TLS negotiation now")) == b"a OK Begin TLS negotiation now\r\n"
    assert conn.secure
    assert conn.trailing_data == b"b LOGIN bob pw\r\n"
    assert conn.next_event() is NEED_DATA
    assert "STARTTLS" not in conn.capabilities()
    conn.receive_data(b"c STARTTLS\r\n")
    event = conn.next_event()
    assert isinstance(event, BadCommand) and "already secure" in event.reason


def test_starttls_refused_keeps_the_buffer() -> None:
    conn = greeted()
    conn.receive_data(b"a STARTTLS\r\nb LOGIN bob pw\r\n")
    conn.next_event()
    conn.send(No("TLS unavailable"))
    assert not conn.secure and conn.trailing_data == b""
    assert conn.next_event() == Login(tag="b", user="bob", password="pw")


def test_enable_utf8_switches_mailbox_names() -> None:
    conn = logged_in()
    listing = ListResponse((), "/", "Entwürfe")
    assert conn.send(listing) == b'* LIST () "/" Entw&APw-rfe\r\n'
    conn.receive_data(b"e ENABLE UTF8=ACCEPT\r\n")
    conn.next_event()
    assert conn.send(EnabledResponse(("UTF8=ACCEPT",))) == b"* ENABLED UTF8=ACCEPT\r\n"
    conn.send(Ok())
    assert conn.utf8 and not conn.rev2
    assert conn.send(listing) == b'* LIST () "/" {9}\r\nEntw\xc3\xbcrfe\r\n'
    conn.receive_data('s SELECT "Entwürfe"\r\n'.encode())
    assert conn.next_event() == Select(tag="s", mailbox="Entwürfe")


def test_enable_rev2() -> None:
    conn = logged_in()
    conn.receive_data(b"e ENABLE IMAP4rev2\r\n")
    conn.next_event()
    conn.send(EnabledResponse(("IMAP4rev2",)))
    conn.send(Ok())
    assert conn.rev2 and conn.utf8 and conn.enabled == {"IMAP4REV2"}


def test_esearch_correlates_with_the_waiting_command() -> None:
    conn = selected()
    conn.receive_data(b"s1 SEARCH RETURN (COUNT) ALL\r\n")
    conn.next_event()
    assert conn.send(EsearchResponse(count=3)) == b'* ESEARCH (TAG "s1") COUNT 3\r\n'


def test_end_of_file() -> None:
    conn = greeted()
    conn.receive_data(b"a NO")
    assert conn.next_event() is NEED_DATA
    assert conn.mid_command
    conn.receive_data(b"")
    assert conn.next_event() == ConnectionClosed()


def test_send_failed_ends_the_session() -> None:
    conn = greeted()
    conn.send_failed()
    assert conn.closed
    with pytest.raises(LocalProtocolError):
        conn.next_event()


def test_bad_command_with_unreadable_tag_is_answered_untagged() -> None:
    conn = greeted()
    conn.receive_data(b"(bogus\r\n")
    event = conn.next_event()
    assert isinstance(event, BadCommand) and event.tag == "*"
    assert conn.send(Bad("missing tag")) == b"* BAD missing tag\r\n"
    conn.receive_data(b"a NOOP\r\n")
    assert conn.next_event() == Noop(tag="a")


def test_large_literal_goes_out_as_its_own_chunk() -> None:
    from mockmail.imap import FetchResponse

    conn = selected()
    body = b"x" * 10_000
    chunks = conn.send_chunks(FetchResponse(1, (("BODY[]", body),)))
    assert body in chunks
    assert b"".join(chunks) == b"* 1 FETCH (BODY[] {10000}\r\n" + body + b")\r\n"
