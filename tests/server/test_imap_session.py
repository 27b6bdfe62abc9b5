"""mockmail/server/imap_session.py and imap_selected.py: the IMAP handler over trio memory streams, against a
memory store, with the real driver; updates from other sessions and from the store itself."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from mockmail.observe.metrics import Metrics
from mockmail.server.driver import SessionConfig
from mockmail.server.imap_session import ImapSession
from mockmail.store import MemoryStore as Store
from tests.wire import WireClient

MESSAGES = [
    b"Subject: one\r\nFrom: a@example.com\r\n\r\nfirst body\r\n",
    b"Subject: two\r\nFrom: b@example.com\r\n\r\nsecond body\r\n",
    b"Subject: three\r\nFrom: c@example.com\r\n\r\nthird body\r\n",
]


class Imap(WireClient):
    """Tagged commands; returns every line up to and including the tagged completion."""

    count = 0

    async def run(self, command: str | bytes) -> list[bytes]:
        Imap.count += 1
        tag = f"t{Imap.count}".encode()
        data = command.encode() if isinstance(command, str) else command
        await self.send(tag + b" " + data)
        return await self.until(tag)

    async def until(self, tag: bytes) -> list[bytes]:
        lines = []
        while True:
            line = await self.line()
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines


@pytest.fixture(name="store")
def _store() -> Store:
    store = Store()
    box, _ = store.put("bob", "s3cret")
    for raw in MESSAGES:
        box.add(raw)
    store.put("eve", "other")
    return store


@pytest.fixture(name="connect")
def _connect(nursery: trio.Nursery, store: Store):  # type: ignore[no-untyped-def]
    async def connect(
        *, login: bool = True, limit: int = 10_000, **config: object
    ) -> tuple[Imap, ImapSession]:
        client_stream, server_stream = trio.testing.memory_stream_pair()
        requires_tls = bool(config.pop("requires_tls", False))
        session = ImapSession(
            server_stream,
            store,
            SessionConfig(**config),  # type: ignore[arg-type]
            max_message_size=limit,
            login_requires_tls=requires_tls,
        )

        async def run() -> None:
            await session.run()
            await server_stream.aclose()

        nursery.start_soon(run)
        client = Imap(client_stream)
        greeting = await client.line()
        assert greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 ")
        assert greeting.endswith(b"] mockmail IMAP4rev2 server ready\r\n")
        if login:
            assert (await client.run("LOGIN bob s3cret"))[-1].startswith(b"t")
        return client, session

    return connect


def ok(lines: list[bytes]) -> list[bytes]:
    assert lines[-1].split(b" ")[1] == b"OK", lines
    return lines[:-1]


async def test_capability_lists_what_is_implemented(connect) -> None:  # type: ignore[no-untyped-def]
    client, _ = await connect(login=False)
    caps = ok(await client.run("CAPABILITY"))[0].split()
    for cap in (b"IMAP4rev2", b"AUTH=PLAIN", b"SASL-IR", b"IDLE", b"UIDPLUS", b"MOVE", b"APPENDLIMIT=10000"):
        assert cap in caps
    assert b"STARTTLS" not in caps  # no TLS on this server
    assert ok(await client.run("NOOP")) == []
    lines = await client.run("LOGOUT")
    assert lines[0].startswith(b"* BYE") and b"OK" in lines[1]
    assert await client.at_eof()


async def test_login_failure_and_bad_input_keep_the_session(connect) -> None:  # type: ignore[no-untyped-def]
    client, _ = await connect(login=False)
    assert b"NO [AUTHENTICATIONFAILED]" in (await client.run("LOGIN bob wrong"))[-1]
    assert b"BAD" in (await client.run("FETCH 1 FLAGS"))[-1]  # not in this state
    assert b"BAD" in (await client.run("BLAH"))[-1]
    assert b"OK" in (await client.run("AUTHENTICATE PLAIN AGJvYgBzM2NyZXQ="))[-1]
    assert b"BAD" in (await client.run("SELECT"))[-1]
    assert ok(await client.run("SELECT INBOX"))


async def test_select_fetch_store_expunge(connect, store: Store) -> None:  # type: ignore[no-untyped-def]
    client, _ = await connect()
    lines = ok(await client.run("SELECT INBOX"))
    assert b"* 3 EXISTS\r\n" in lines and b"* 0 RECENT\r\n" in lines
    assert any(b"[UIDVALIDITY " in line for line in lines)
    assert any(b"[UIDNEXT 4]" in line for line in lines)
    fetched = ok(await client.run("FETCH 1 (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    assert b"UID 1" in fetched[0] and b"Subject: one" in b"".join(fetched)
    fetched = ok(await client.run("FETCH 2 BODY[TEXT]"))
    assert b"\\Seen" in b"".join(fetched)  # \Seen set, and reported
    assert "\\Seen" in store.get("bob").folder_snapshot("INBOX")[1].flags
    stored = ok(await client.run("STORE 1:2 +FLAGS (\\Deleted)"))
    assert len(stored) == 2 and all(b"\\Deleted" in line for line in stored)
    assert ok(await client.run("STORE 3 +FLAGS.SILENT (\\Flagged)")) == []
    assert ok(await client.run("EXPUNGE")) == [b"* 1 EXPUNGE\r\n", b"* 1 EXPUNGE\r\n"]
    assert [m.imap_uid for m in store.get("bob").folder_snapshot("INBOX")] == [3]
    assert ok(await client.run("UID SEARCH ALL")) == [b"* SEARCH 3\r\n"]
    assert ok(await client.run("SEARCH RETURN (COUNT MIN) ALL")) == [
        b'* ESEARCH (TAG "t%d") MIN 1 COUNT 1\r\n' % Imap.count
    ]


async def test_examine_is_read_only(connect) -> None:  # type: ignore[no-untyped-def]
    client, _ = await connect()
    assert b"[READ-ONLY]" in (await client.run("EXAMINE INBOX"))[-1]
    assert b"NO [READ-ONLY]" in (await client.run("STORE 1 +FLAGS (\\Seen)"))[-1]
    fetched = ok(await client.run("FETCH 1 BODY[]"))
    assert b"FLAGS" not in fetched[0]
    assert b"BAD" in (await client.run("FETCH 9 FLAGS"))[-1]
    assert ok(await client.run("UNSELECT")) == []


async def test_folders_list_status_append_copy_move(connect, store: Store) -> None:  # type: ignore[no-untyped-def]
    client, _ = await connect()
    assert ok(await client.run("CREATE Sent (USE (\\Sent))")) == []
    assert ok(await client.run("CREATE Archive/2024")) == []
    assert b"NO [ALREADYEXISTS]" in (await client.run("CREATE Sent"))[-1]
    listed = ok(await client.run('LIST "" "*"'))
    assert b'* LIST (\\HasNoChildren) "/" INBOX\r\n' in listed
    assert b'* LIST (\\HasNoChildren \\Sent) "/" Sent\r\n' in listed
    assert ok(await client.run('LIST "" "%"')) == [
        b'* LIST (\\HasNoChildren) "/" INBOX\r\n',
        b'* LIST (\\HasNoChildren \\Sent) "/" Sent\r\n',
    ]
    assert ok(await client.run("SUBSCRIBE Sent")) == []
    assert ok(await client.run('LSUB "" "*"'))[-1:] == [b'* LSUB (\\HasNoChildren) "/" Sent\r\n']
    assert ok(await client.run("NAMESPACE")) == [b'* NAMESPACE (("" "/")) NIL NIL\r\n']
    appended = await client.run(b"APPEND Sent (\\Seen) {20}\r\nSubject: x\r\n\r\nhello!")
    assert appended[0] == b"+ Ready for literal data\r\n"
    assert b"[APPENDUID " in appended[-1] and b" 1]" in appended[-1]
    assert b"NO [TRYCREATE]" in (await client.run(b"APPEND Nope {20+}\r\nSubject: x\r\n\r\nhello!"))[-1]
    assert b"NO [TOOBIG]" in (await client.run(b"APPEND Sent {20000}"))[-1]
    assert ok(await client.run("STATUS Sent (MESSAGES UIDNEXT UNSEEN SIZE)")) == [
        b"* STATUS Sent (MESSAGES 1 UIDNEXT 2 UNSEEN 0 SIZE 22)\r\n"
    ]
    ok(await client.run("SELECT INBOX"))
    assert b"[COPYUID " in (await client.run("COPY 1 Sent"))[-1]
    moved = ok(await client.run("UID MOVE 2 Sent"))
    assert moved[0].startswith(b"* OK [COPYUID ") and moved[1] == b"* 2 EXPUNGE\r\n"
    assert len(store.get("bob").folder_snapshot("Sent")) == 3
    assert ok(await client.run("RENAME Sent Outbox")) == []
    assert b"NO [NONEXISTENT]" in (await client.run("DELETE Sent"))[-1]
    assert ok(await client.run("DELETE Outbox")) == []


async def test_two_sessions_see_each_others_changes(connect, store: Store) -> None:  # type: ignore[no-untyped-def]
    one, _ = await connect()
    two, _ = await connect()
    ok(await one.run("SELECT INBOX"))
    ok(await two.run("SELECT INBOX"))
    ok(await two.run("STORE 1,3 +FLAGS.SILENT (\\Deleted)"))
    assert ok(await one.run("NOOP")) == [
        b"* 1 FETCH (FLAGS (\\Deleted))\r\n",
        b"* 3 FETCH (FLAGS (\\Deleted))\r\n",
    ]
    ok(await two.run("EXPUNGE"))
    # No EXPUNGE during FETCH by number; the message keeps its number until the client hears.
    fetched = ok(await one.run("FETCH 3 UID"))
    assert fetched == [b"* 3 FETCH (UID 3)\r\n"]
    assert ok(await one.run("NOOP")) == [b"* 1 EXPUNGE\r\n", b"* 2 EXPUNGE\r\n"]
    store.get("bob").add(b"Subject: four\r\n\r\nnew\r\n")
    assert ok(await one.run("UID FETCH 1:* UID")) == [b"* 1 FETCH (UID 2)\r\n", b"* 2 EXISTS\r\n"]
    assert ok(await two.run("NOOP")) == [b"* 2 EXISTS\r\n"]


async def test_idle_hears_delivery_and_other_sessions(connect, store: Store) -> None:  # type: ignore[no-untyped-def]
    watcher, _ = await connect()
    other, _ = await connect()
    ok(await watcher.run("SELECT INBOX"))
    ok(await other.run("SELECT INBOX"))
    await watcher.send("idle1 IDLE")
    assert await watcher.line() == b"+ idling\r\n"
    store.get("bob").add(b"Subject: new\r\n\r\nbody\r\n")
    assert await watcher.line() == b"* 4 EXISTS\r\n"
    ok(await other.run("STORE 2 +FLAGS (\\Flagged)"))
    assert await watcher.line() == b"* 2 FETCH (FLAGS (\\Flagged))\r\n"
    store.get("bob").remove([store.get("bob").folder_snapshot("INBOX")[0].id])  # as a POP3 QUIT does
    assert await watcher.line() == b"* 1 EXPUNGE\r\n"
    await watcher.send("DONE")
    assert (await watcher.line()).startswith(b"idle1 OK")


async def test_shutdown_says_bye(nursery: trio.Nursery, store: Store) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    session = ImapSession(server_stream, store, SessionConfig(), max_message_size=1000)
    scope = trio.CancelScope()

    async def run() -> None:
        with scope:
            await session.run()

    nursery.start_soon(run)
    client = Imap(client_stream)
    await client.line()
    assert ok(await client.run("LOGIN bob s3cret")) == []
    scope.cancel()
    assert await client.line() == b"* BYE [UNAVAILABLE] server shutting down\r\n"


async def test_views_of_one_snapshot_part_when_one_hears_a_change(connect, store: Store) -> None:  # type: ignore[no-untyped-def]
    one, first = await connect()
    two, second = await connect()
    ok(await one.run("SELECT INBOX"))
    ok(await two.run("SELECT INBOX"))
    assert first.selected is not None and second.selected is not None
    assert first.selected.uids is second.selected.uids  # one snapshot, one map (until a change)
    ok(await one.run("STORE 2 +FLAGS.SILENT (\\Deleted)"))
    ok(await one.run("EXPUNGE"))
    # The change reached both views: each now has its own map, and each numbers as its client heard.
    assert first.selected.uids is not second.selected.uids
    assert first.selected.uids == [1, 3]
    assert second.selected.uids == [1, 2, 3]  # two has not heard the EXPUNGE yet
    fetched = ok(await two.run("FETCH 1:* (FLAGS RFC822.SIZE)"))
    assert fetched[1] == b"* 2 FETCH (FLAGS (\\Deleted) RFC822.SIZE %d)\r\n" % len(MESSAGES[1])
    assert ok(await two.run("NOOP")) == [b"* 2 EXPUNGE\r\n"]
    three, third = await connect()
    assert ok(await three.run("SELECT INBOX"))[1] == b"* 2 EXISTS\r\n"
    assert third.selected is not None and third.selected.uids == [1, 3]


async def test_metrics_count_commands_not_untagged_lines(connect) -> None:  # type: ignore[no-untyped-def]
    metrics = Metrics()
    client, _ = await connect(login=False, metrics=metrics, tenant="t")
    ok(await client.run("LOGIN bob s3cret"))
    ok(await client.run("SELECT INBOX"))
    assert len(ok(await client.run("FETCH 1:* (FLAGS RFC822.SIZE)"))) == 3
    assert (await client.run("FETCH 9 FLAGS"))[-1].split(b" ")[1] == b"BAD"
    assert {key: n for key, n in metrics.commands.items() if n} == {
        ("imap", "LOGIN", "ok"): 1,
        ("imap", "SELECT", "ok"): 1,
        ("imap", "FETCH", "ok"): 1,
        ("imap", "FETCH", "error"): 1,
    }


async def test_select_answers_follow_the_folder_and_show_line_by_line(connect, store: Store) -> None:  # type: ignore[no-untyped-def]
    from mockmail.observe.transcripts import TranscriptLog

    log = TranscriptLog("t")
    one, first = await connect(transcripts=log)
    two, _ = await connect(transcripts=log)
    answer = ok(await one.run("SELECT INBOX"))
    assert ok(await two.run("SELECT INBOX")) == answer  # the same folder, the same lines
    assert answer[:3] == [
        b"* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n",
        b"* 3 EXISTS\r\n",
        b"* 0 RECENT\r\n",
    ]
    assert first.recorder is not None
    shown = [line.text for line in first.recorder.detail().lines if line.dir == "S"]
    assert shown[-len(answer) - 1 : -1] == [line[:-2].decode() for line in answer]
    store.get("bob").add(b"Subject: four\r\n\r\nbody\r\n")
    ok(await one.run("STORE 1 +FLAGS.SILENT (\\Seen $Label)"))
    three, _ = await connect()
    later = ok(await three.run("SELECT INBOX"))
    assert later[:2] == [b"* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Label)\r\n", b"* 4 EXISTS\r\n"]
    assert b"* OK [UNSEEN 2] message 2 is the first unseen\r\n" in later and b"[UIDNEXT 5]" in b"".join(later)
    assert b"* OK [READ-ONLY]" not in b"".join(later)
    examined = ok(await three.run("EXAMINE INBOX"))
    assert b"* OK [PERMANENTFLAGS ()] flags permitted\r\n" in examined
    ok(await three.run("UNSELECT"))
    ok(await three.run("ENABLE IMAP4rev2"))
    rev2 = ok(await three.run("SELECT INBOX"))
    assert b"* 0 RECENT\r\n" not in rev2 and b"[UNSEEN" not in b"".join(rev2)
    assert rev2[-1].startswith(b"* LIST (") and rev2[-1].endswith(b" INBOX\r\n")


async def test_fetch_of_every_message_follows_each_views_changes(connect, store: Store) -> None:  # type: ignore[no-untyped-def]
    one, first = await connect()
    two, _ = await connect()
    ok(await one.run("SELECT INBOX"))
    ok(await two.run("SELECT INBOX"))
    answer = ok(await one.run("FETCH 1:* (FLAGS RFC822.SIZE)"))
    assert answer == [b"* %d FETCH (FLAGS () RFC822.SIZE %d)\r\n" % (n, len(m)) for n, m in enumerate(MESSAGES, 1)]
    assert ok(await two.run("FETCH 1:* (FLAGS RFC822.SIZE)")) == answer  # the same snapshot, the same bytes
    assert ok(await two.run("UID FETCH 1:* (FLAGS RFC822.SIZE)"))[0] == b"* 1 FETCH (UID 1 FLAGS () RFC822.SIZE %d)\r\n" % len(MESSAGES[0])
    ok(await two.run("STORE 2 +FLAGS.SILENT (\\Flagged)"))
    changed = ok(await one.run("FETCH 1:* (FLAGS RFC822.SIZE)"))
    assert changed[1] == b"* 2 FETCH (FLAGS (\\Flagged) RFC822.SIZE %d)\r\n" % len(MESSAGES[1])
    assert ok(await one.run("NOOP")) == []  # heard with the FETCH: no update left for message 2
    assert ok(await one.run("FETCH 2:3 (FLAGS RFC822.SIZE)")) == changed[1:]
    store.get("bob").add(b"Subject: four\r\n\r\nbody\r\n")
    three, _ = await connect()
    ok(await three.run("SELECT INBOX"))
    assert len(ok(await three.run("FETCH 1:* (FLAGS RFC822.SIZE)"))) == 4
    assert first.recorder is None  # no transcripts asked for: nothing recorded
