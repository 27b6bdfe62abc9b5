"""mockmail/smtp/_connection.py: the pure SMTP state machine, fed whole, byte by byte and pipelined."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockmail.smtp import (
    NEED_DATA,
    BadCommand,
    Bdat,
    ConnectionClosed,
    Data,
    Ehlo,
    LocalProtocolError,
    Mail,
    MessageData,
    Quit,
    Rcpt,
    Reply,
    SmtpConnection,
    StartTls,
    State,
    TlsReady,
)

OK = Reply.of(250, "2.0.0", "OK")
GO = Reply.of(354, None, "go ahead")


def greeted(**kwargs: int) -> SmtpConnection:
    conn = SmtpConnection(**kwargs)  # type: ignore[arg-type]
    conn.send(Reply.of(220, None, "mock ESMTP"))
    return conn


def events(conn: SmtpConnection, data: bytes, replies: Iterator[Reply] | None = None) -> list[object]:
    """Feed `data` at once, answer every event (OK unless `replies` says otherwise), return the events."""
    conn.receive_data(data)
    seen: list[object] = []
    while True:
        event = conn.next_event()
        if event is NEED_DATA or isinstance(event, ConnectionClosed):
            return seen
        seen.append(event)
        reply = next(replies) if replies is not None else OK
        conn.send(reply)
        if conn.closed:
            return seen


def in_transaction(**kwargs: int) -> SmtpConnection:
    conn = greeted(**kwargs)
    events(
        conn,
        b"EHLO client\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\n",
        iter([OK, OK, OK, GO]),
    )
    assert conn.state is State.DATA
    return conn


def content_of(conn: SmtpConnection, data: bytes, *, byte_by_byte: bool = False) -> MessageData | None:
    chunks = [data[i : i + 1] for i in range(len(data))] if byte_by_byte else [data]
    for chunk in chunks:
        conn.receive_data(chunk)
        event = conn.next_event()
        if isinstance(event, MessageData):
            return event
        assert event is NEED_DATA
    return None


def test_a_whole_transaction_moves_through_every_state() -> None:
    conn = greeted()
    assert conn.state is State.GREETED
    conn.receive_data(b"EHLO client.test\r\n")
    assert conn.next_event() == Ehlo("client.test")
    conn.send(Reply(250, ["mock", "PIPELINING"], None))
    assert conn.state is State.READY
    seen = events(
        conn, b"MAIL FROM:<a@x.test> SIZE=20\r\nRCPT TO:<bob@x.test>\r\nDATA\r\n", iter([OK, OK, GO])
    )
    assert seen == [Mail("a@x.test", {"SIZE": "20"}), Rcpt("bob@x.test"), Data()]
    message = content_of(conn, b"Subject: t\r\n\r\nbody\r\n.\r\n")
    assert message == MessageData(b"Subject: t\r\n\r\nbody\r\n", 20)
    conn.send(OK)
    assert conn.state is State.READY
    assert events(conn, b"QUIT\r\n", iter([Reply.of(221, "2.0.0", "bye")])) == [Quit()]
    assert conn.closed


@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_content_is_dot_unstuffed_and_ends_only_at_crlf_dot_crlf(byte_by_byte: bool) -> None:
    conn = in_transaction()
    message = content_of(conn, b"..leading\r\n.x\r\nmid.dot\r\n...\r\n.\r\n", byte_by_byte=byte_by_byte)
    assert message is not None
    assert message.content == b".leading\r\nx\r\nmid.dot\r\n..\r\n"


def test_the_empty_message_is_a_lone_dot() -> None:
    conn = in_transaction()
    assert content_of(conn, b".\r\n") == MessageData(b"", 0)


@pytest.mark.parametrize(
    "fake_end",
    [b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r", b"\n\n.\r\n", b"\r\n.\r", b"\r.\r\n"],
    ids=["LF.LF", "CRLF.LF", "LF.CRLF", "CR.CR", "LFLF.CRLF", "CRLF.CR", "CR.CRLF"],
)
def test_smuggling_sequences_never_end_data(fake_end: bytes) -> None:
    """CVE-2023-51764: a second transaction hidden behind a fake end of data stays message text."""
    conn = in_transaction()
    smuggled = b"MAIL FROM:<evil@x.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n"
    data = b"Subject: real\r\n\r\nreal" + fake_end + smuggled + b".\r\n"
    message = content_of(conn, data)
    assert message is not None and message.problem is None
    assert b"MAIL FROM:<evil@x.test>" in bytes(message.content)  # text, not a command
    conn.send(OK)
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)  # nothing else was parsed as a command


def test_pipelined_commands_after_the_final_dot_are_read_next() -> None:
    conn = in_transaction()
    message = content_of(conn, b"hi\r\n.\r\nMAIL FROM:<b@x.test>\r\n")
    assert message is not None and message.content == b"hi\r\n"
    conn.send(OK)
    assert conn.next_event() == Mail("b@x.test")


def test_content_over_the_limit_is_read_to_its_end_and_refused_unkept() -> None:
    conn = in_transaction(max_message_size=100)
    for _ in range(50):
        conn.receive_data(b"x" * 60 + b"\r\n")
        assert conn.next_event() is NEED_DATA
    assert len(conn._data) <= 5  # what was over the limit was dropped as it came
    message = content_of(conn, b".\r\nNOOP\r\n")
    assert message is not None and message.problem == "too-large" and message.content == b""
    assert message.size == 50 * 62
    conn.send(Reply.of(552, "5.3.4", "too big"))
    assert conn.state is State.READY
    assert type(conn.next_event()).__name__ == "Noop"


def test_a_text_line_over_1000_octets_refuses_the_message() -> None:
    conn = in_transaction()
    message = content_of(conn, b"Subject: x\r\n\r\n" + b"y" * 999 + b"\r\n.\r\n")
    assert message is not None and message.problem == "line-too-long"
    conn = in_transaction()
    message = content_of(conn, b"Subject: x\r\n\r\n" + b"y" * 998 + b"\r\n.\r\n")
    assert message is not None and message.problem is None  # 1,000 octets with its CRLF: allowed


def test_a_client_gone_mid_data_yields_only_the_close() -> None:
    conn = in_transaction()
    conn.receive_data(b"Subject: half\r\n\r\nno end")
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)


def test_an_over_long_command_line_is_dropped_and_refused() -> None:
    conn = greeted()
    conn.receive_data(b"EHLO " + b"x" * 600)
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"x\r\nNOOP\r\n")
    bad = conn.next_event()
    assert isinstance(bad, BadCommand) and (bad.code, bad.enhanced) == (500, "5.5.2")
    conn.send(Reply.of(500, "5.5.2", bad.reason))
    assert type(conn.next_event()).__name__ == "Noop"


def test_a_command_line_of_exactly_512_octets_is_accepted() -> None:
    conn = greeted()
    line = b"NOOP " + b"x" * (512 - 7) + b"\r\n"
    assert len(line) == 512
    conn.receive_data(line)
    assert type(conn.next_event()).__name__ == "Noop"


@pytest.mark.parametrize(
    ("command", "state_after"),
    [
        (b"MAIL FROM:<a@x.test>", State.GREETED),
        (b"DATA", State.GREETED),
        (b"RCPT TO:<b@x.test>", State.GREETED),
    ],
)
def test_out_of_sequence_commands_get_503_and_change_nothing(command: bytes, state_after: State) -> None:
    conn = greeted()
    conn.receive_data(command + b"\r\n")
    bad = conn.next_event()
    assert isinstance(bad, BadCommand) and (bad.code, bad.enhanced) == (503, "5.5.1")
    assert "EHLO" in bad.reason
    conn.send(Reply.of(503, "5.5.1", bad.reason))
    assert conn.state is state_after


def test_nested_mail_and_data_before_rcpt_are_refused() -> None:
    conn = greeted()
    seen = events(conn, b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nMAIL FROM:<b@x.test>\r\nDATA\r\n")
    assert isinstance(seen[2], BadCommand) and "nested MAIL" in seen[2].reason
    assert isinstance(seen[3], BadCommand) and "need RCPT" in seen[3].reason
    assert conn.state is State.MAIL


def test_starttls_discards_what_was_pipelined_behind_it() -> None:
    """CVE-2011-0411: a command in the same packet as STARTTLS must never run inside TLS."""
    conn = greeted()
    events(conn, b"EHLO c\r\n")
    conn.receive_data(b"STARTTLS\r\nMAIL FROM:<injected@x.test>\r\n")
    assert conn.next_event() == StartTls()
    conn.send(TlsReady())
    assert conn.trailing_data == b"MAIL FROM:<injected@x.test>\r\n"
    assert conn.secure and conn.state is State.GREETED  # EHLO again, as RFC 3207 section 4.2 says
    assert conn.next_event() is NEED_DATA


def test_bdat_chunks_are_read_whole_even_when_refused() -> None:
    conn = greeted()
    events(conn, b"EHLO c\r\n")
    conn.receive_data(b"BDAT 6\r\nQUIT\r\nQUIT\r\n")  # the chunk (6 octets) looks like a command
    bad = conn.next_event()
    assert isinstance(bad, BadCommand) and bad.code == 503  # no transaction: refused, but read
    conn.send(Reply.of(503, "5.5.1", bad.reason))
    assert conn.next_event() == Quit()


@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_bdat_delivers_chunks_with_their_octets(byte_by_byte: bool) -> None:
    conn = greeted()
    events(conn, b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\n")
    data = b"BDAT 5\r\nab\r\nxBDAT 3 LAST\r\n.\r\n"
    got: list[object] = []
    for chunk in [data[i : i + 1] for i in range(len(data))] if byte_by_byte else [data]:
        conn.receive_data(chunk)
        while (event := conn.next_event()) is not NEED_DATA:
            got.append(event)
            conn.send(OK)
    assert got == [Bdat(5, False, b"ab\r\nx"), Bdat(3, True, b".\r\n")]
    assert conn.state is State.READY


def test_bdat_over_the_limit_is_dropped_and_ends_the_transaction() -> None:
    conn = greeted(max_message_size=8)
    events(conn, b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\n")
    conn.receive_data(b"BDAT 10 LAST\r\n0123456789")
    event = conn.next_event()
    assert event == Bdat(10, True, b"", dropped=True)
    conn.send(Reply.of(552, "5.3.4", "too big"))
    assert conn.state is State.READY


def test_auth_exchange_lines_are_responses_and_star_cancels() -> None:
    conn = greeted()
    events(conn, b"EHLO c\r\n")
    conn.receive_data(b"AUTH LOGIN\r\n")
    conn.next_event()
    conn.send(Reply.of(334, None, "VXNlcm5hbWU6"))
    assert conn.state is State.AUTH
    conn.receive_data(b"*\r\n")
    response = conn.next_event()
    assert getattr(response, "cancelled", False)
    conn.send(Reply.of(501, "5.0.0", "cancelled"))
    assert conn.state is State.READY  # the exchange ended where it began


def test_replies_need_a_command_and_a_proper_greeting() -> None:
    conn = SmtpConnection()
    with pytest.raises(LocalProtocolError, match="greeting is 220"):
        conn.send(OK)
    conn.send(Reply.of(220, None, "hi"))
    with pytest.raises(LocalProtocolError, match="no command"):
        conn.send(OK)


def test_421_closes_the_session() -> None:
    conn = greeted()
    conn.receive_data(b"NOOP\r\n")
    conn.next_event()
    conn.send(Reply.of(421, "4.7.0", "closing"))
    assert conn.closed
    with pytest.raises(LocalProtocolError, match="closed"):
        conn.next_event()
