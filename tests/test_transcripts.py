"""mockmail/transcripts.py: redaction, the ring, and the live subscribers."""

from __future__ import annotations

import pytest
import trio

from mockmail import smtp
from mockmail.observe.transcripts import SECRET, TranscriptLog, describe
from mockmail.pop3 import Apop, Auth, BadCommand, List, Pass, Quit, Retr, SaslResponse, Top, User


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (User("bob"), "USER bob"),
        (Pass("hunter2"), f"PASS {SECRET}"),
        (Apop("bob", "0" * 32), f"APOP bob {SECRET}"),
        (Auth("PLAIN", "AGJvYgBwdw=="), f"AUTH PLAIN {SECRET}"),
        (Auth("LOGIN"), "AUTH LOGIN"),
        (Auth(None), "AUTH"),
        (SaslResponse("cHc="), SECRET),
        (SaslResponse("*"), "*"),
        (List(), "LIST"),
        (List(3), "LIST 3"),
        (Retr(2), "RETR 2"),
        (Top(1, 5), "TOP 1 5"),
        (Quit(), "QUIT"),
        (BadCommand("unknown command 'X'"), "(refused: unknown command 'X')"),
    ],
)
def test_describe_redacts_secrets(event: object, text: str) -> None:
    assert describe(event) == text
    assert "hunter2" not in describe(event) and "AGJvYgBwdw" not in describe(event)


def test_ring_keeps_the_newest_and_lists_live_first() -> None:
    log = TranscriptLog("t", limit=3)
    recorders = [log.start("peer", "pop3") for _ in range(5)]
    for recorder in recorders[:4]:
        recorder.finish("quit")
    assert [r.id for r in log.sessions()] == [
        recorders[4].id,
        recorders[3].id,
        recorders[2].id,
        recorders[1].id,
    ]
    assert log.get(recorders[0].id) is None  # pushed out of the ring
    assert log.get(recorders[4].id) is recorders[4]
    assert log.clear() == 3 and [r.id for r in log.sessions()] == [recorders[4].id]


def test_filter_by_user_and_limit() -> None:
    log = TranscriptLog("t")
    a, b = log.start("", "pop3"), log.start("", "pop3")
    a.user, b.user = "alice", "bob"
    assert log.sessions(user="alice") == [a]
    assert len(log.sessions(limit=1)) == 1


def test_finish_once_and_detail() -> None:
    log = TranscriptLog("t")
    recorder = log.start("127.0.0.1:1", "pop3")
    recorder.client(User("bob"))
    recorder.server(b"+OK")
    recorder.fault("quit (drop)")
    recorder.finish("fault: QUIT dropped")
    recorder.finish("quit")  # the first reason stands
    detail = recorder.detail()
    assert detail.end == "fault: QUIT dropped" and detail.commands == 1 and detail.faults == ["quit (drop)"]
    assert [(line.dir, line.text) for line in detail.lines] == [
        ("C", "USER bob"),
        ("S", "+OK"),
        ("fault", "quit (drop)"),
        ("end", "fault: QUIT dropped"),
    ]


async def test_subscribers_get_lines_and_slow_ones_are_dropped() -> None:
    log = TranscriptLog("t")
    fast = log.subscribe(buffer=10)
    slow = log.subscribe(buffer=1)
    recorder = log.start("", "pop3")
    recorder.client(User("bob"))
    recorder.server(b"+OK")
    first = fast.receive_nowait()
    assert (first.session, first.dir, first.text) == (recorder.id, "C", "USER bob")
    assert fast.receive_nowait().text == "+OK"
    assert slow.receive_nowait().text == "USER bob"
    with pytest.raises(trio.EndOfChannel):
        slow.receive_nowait()  # it fell behind at the second line and was dropped
    assert len(log.subscribers) == 1


def test_message_content_is_described_not_kept() -> None:
    """A transcript must not keep a message's bytes alive: a long SMTP session would hold every message
    it sent twice (once in the store, once in its transcript)."""
    log = TranscriptLog("t")
    recorder = log.start("127.0.0.1:1", "smtp")
    content = b"Subject: x\r\n\r\n" + b"y" * 100_000 + b"\r\n"
    recorder.client(smtp.MessageData(content, len(content)))
    recorder.client(smtp.Bdat(len(content), True, content))
    payloads = [payload for _, _, payload, _ in recorder.lines]
    assert not any(isinstance(p, smtp.MessageData | smtp.Bdat) for p in payloads)
    assert [line.text for line in recorder.detail().lines] == [
        f"(message: {len(content)} octets)",
        f"BDAT {len(content)} LAST",
    ]


def test_a_transcript_keeps_its_first_lines_and_its_end() -> None:
    from mockmail.observe.transcripts import SESSION_LINES

    log = TranscriptLog("t")
    recorder = log.start("127.0.0.1:1", "pop3")
    for _ in range(SESSION_LINES // 2 + 25):
        recorder.client(User("bob"))
        recorder.server(b"+OK")
    recorder.finish("quit")
    lines = recorder.detail().lines
    assert len(lines) == SESSION_LINES + 1
    assert (
        lines[-1].dir == "end"
        and lines[-1].text == f"quit (50 lines after the first {SESSION_LINES:,d} not kept)"
    )
    assert recorder.summary().end == "quit" and recorder.summary().commands == SESSION_LINES // 2 + 25


def test_lines_recorded_together_read_one_line_each() -> None:
    log = TranscriptLog("t")
    recorder = log.start("127.0.0.1:1", "imap")
    recorder.server_lines(b"* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (\\Seen))")
    recorder.server(b"a1 OK FETCH completed")
    assert [(line.dir, line.text) for line in recorder.detail().lines] == [
        ("S", "* 1 FETCH (FLAGS ())"),
        ("S", "* 2 FETCH (FLAGS (\\Seen))"),
        ("S", "a1 OK FETCH completed"),
    ]


def test_lines_recorded_together_count_one_each_against_the_limit() -> None:
    from mockmail.observe.transcripts import SESSION_LINES

    log = TranscriptLog("t")
    recorder = log.start("127.0.0.1:1", "imap")
    for _ in range(SESSION_LINES // 2 - 1):
        recorder.server_lines(b"* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())")
    recorder.server_lines(b"* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n* 3 FETCH (FLAGS ())")  # 2 of 3 fit
    recorder.server_lines(b"* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())")
    recorder.finish("quit")
    lines = recorder.detail().lines
    assert len(lines) == SESSION_LINES + 1
    assert lines[-2].text == "* 2 FETCH (FLAGS ())"
    assert lines[-1].text == f"quit (3 lines after the first {SESSION_LINES:,d} not kept)"


async def test_lines_recorded_together_go_out_live_one_by_one() -> None:
    log = TranscriptLog("t")
    recorder = log.start("127.0.0.1:1", "imap")
    live = log.subscribe()
    recorder.server_lines(b"* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())")
    assert [live.receive_nowait().text for _ in range(2)] == ["* 1 FETCH (FLAGS ())", "* 2 FETCH (FLAGS ())"]
    assert [line.text for line in recorder.detail().lines] == ["* 1 FETCH (FLAGS ())", "* 2 FETCH (FLAGS ())"]
