"""mockmail/observe/transcripts.py: redaction, the ring, the live subscribers, and finished transcripts kept
in the SQL store (a real SQLite database in memory)."""

from __future__ import annotations

import msgspec
import pytest
import trio

from mockmail import smtp
from mockmail.observe.transcripts import SECRET, Recorder, TranscriptLog, describe
from mockmail.pop3 import Apop, Auth, BadCommand, List, Pass, Quit, Retr, SaslResponse, Top, User
from mockmail.store import Database, SqlCatalog
from mockmail.tenancy.registry import CatalogKeeper


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
    recorder.server_lines(
        b"* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n* 3 FETCH (FLAGS ())"
    )  # 2 of 3 fit
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


def _finished(log: TranscriptLog, user: str, reason: str = "quit") -> Recorder:
    recorder = log.start("127.0.0.1:1", "pop3")
    recorder.user = user
    recorder.client(User(user))
    recorder.server(b"+OK")
    recorder.client(Retr(1))
    recorder.server(b"+OK message follows", (120, 4))
    recorder.finish(reason)
    return recorder


def test_finished_transcripts_are_kept_trimmed_and_come_back_as_they_were() -> None:
    catalog = SqlCatalog(Database(":memory:"))
    log = TranscriptLog("t", limit=2)
    log.keeper = CatalogKeeper(catalog, "t")
    recorders = [_finished(log, user) for user in ("ann", "bob", "cid")]
    assert [number for number, _ in catalog.kept_transcripts("t")] == [2, 3]  # the ring's size, oldest out
    assert catalog.kept_transcripts("other") == []

    again = TranscriptLog("t", limit=2)  # a restart, or the replica that claims the tenant
    again.load(catalog.kept_transcripts("t"))
    assert [s.detail() for s in again.sessions()] == [r.detail() for r in reversed(recorders[1:])]
    assert [s.summary() for s in again.sessions(user="bob")] == [recorders[1].summary()]
    shown = again.get(recorders[2].id)
    assert shown is not None and shown.detail().lines[-1].text == "quit"

    again.keeper = CatalogKeeper(catalog, "t")
    newer = _finished(again, "dan")
    assert newer.id not in {r.id for r in recorders}
    assert [number for number, _ in catalog.kept_transcripts("t")] == [3, 4]  # numbered on from the kept
    assert [s.id for s in again.sessions()] == [newer.id, recorders[2].id]
    assert again.clear() == 2 and catalog.kept_transcripts("t") == []


def test_kept_session_ids_are_not_handed_out_again() -> None:
    catalog = SqlCatalog(Database(":memory:"))
    log = TranscriptLog("t")
    log.keeper = CatalogKeeper(catalog, "t")
    kept = _finished(log, "ann")
    far = msgspec.json.encode(msgspec.structs.replace(kept.detail(), id="t-987654321"))
    again = TranscriptLog("t")
    again.load([(1, far)])
    fresh = again.start("", "pop3")
    assert int(fresh.id.rpartition("-")[2]) > 987654321


def test_a_failed_write_is_logged_and_the_session_never_hears_of_it(caplog: pytest.LogCaptureFixture) -> None:
    db = Database(":memory:")
    log = TranscriptLog("t")
    log.keeper = CatalogKeeper(SqlCatalog(db), "t")
    db.fence = lambda tenant: ("SELECT 1 WHERE 0", ())  # the tenant moved to another replica
    fenced = _finished(log, "ann")
    db.close()
    gone = _finished(log, "bob", "client eof")
    assert [s.id for s in log.sessions()] == [gone.id, fenced.id]  # listed from memory all the same
    kept_not = [r.getMessage() for r in caplog.records if "was not kept" in r.getMessage()]
    assert len(kept_not) == 2 and "fenced out" in kept_not[0] and gone.id in kept_not[1]


def test_an_unreadable_kept_transcript_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    source = TranscriptLog("t")
    good = _finished(source, "ann")
    log = TranscriptLog("t")
    log.load([(1, b"{not json"), (2, msgspec.json.encode(good.detail()))])
    assert [s.detail() for s in log.sessions()] == [good.detail()]
    assert log.number == 2 and "kept transcript 1 cannot be read" in caplog.text
