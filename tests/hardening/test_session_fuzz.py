"""Property-based fuzzing of whole POP3 and SMTP sessions: any byte stream, cut into any reads, with the
client vanishing at any point, never raises out of a session, and the store's invariants hold afterwards.

Inputs mix protocol words (so sessions get deep: logins, transactions, DATA, BDAT, AUTH) with arbitrary
octets, bare CR and LF, and over-long lines.  Sessions run over trio memory streams on a fake clock, so a
session waiting for more input times out in virtual time, never in wall time.
"""

from __future__ import annotations

import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockmail.observe.transcripts import TranscriptLog
from mockmail.server.driver import SessionConfig
from mockmail.server.pop3_session import Pop3Session
from mockmail.server.smtp_session import SmtpPolicy, SmtpSession
from mockmail.store import MemoryStore

POP3_WORDS = [
    b"USER bob\r\n",
    b"PASS s3cret\r\n",
    b"PASS x\r\n",
    b"APOP bob 0123\r\n",
    b"AUTH PLAIN\r\n",
    b"AUTH PLAIN AGJvYgBzM2NyZXQ=\r\n",
    b"*\r\n",
    b"STAT\r\n",
    b"LIST\r\n",
    b"LIST 1\r\n",
    b"UIDL\r\n",
    b"RETR 1\r\n",
    b"RETR 9\r\n",
    b"TOP 1 0\r\n",
    b"DELE 1\r\n",
    b"DELE 2\r\n",
    b"RSET\r\n",
    b"NOOP\r\n",
    b"CAPA\r\n",
    b"STLS\r\n",
    b"QUIT\r\n",
    b"UTF8\r\n",
]
SMTP_WORDS = [
    b"EHLO c\r\n",
    b"HELO c\r\n",
    b"MAIL FROM:<a@x.test>\r\n",
    b"MAIL FROM:<a@x.test> SIZE=10 BODY=8BITMIME\r\n",
    b"RCPT TO:<bob@x.test>\r\n",
    b"RCPT TO:<nobody@x.test>\r\n",
    b"DATA\r\n",
    b"Subject: s\r\n\r\nbody\r\n",
    b"..dot\r\n",
    b".\r\n",
    b"\n.\n",
    b"\r\n.\r\n",
    b"BDAT 5\r\n",
    b"BDAT 3 LAST\r\n",
    b"abcde",
    b"RSET\r\n",
    b"NOOP\r\n",
    b"VRFY bob\r\n",
    b"HELP\r\n",
    b"AUTH PLAIN AGJvYgBzM2NyZXQ=\r\n",
    b"AUTH LOGIN\r\n",
    b"Ym9i\r\n",
    b"STARTTLS\r\n",
    b"QUIT\r\n",
]
POP3_WORDS += [b"USER bob\r\nPASS s3cret\r\n", b"DELE 1\r\nQUIT\r\n"]  # deep states often
SMTP_WORDS += [  # whole transactions, so that messages get stored (and cut) often
    b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\n",
    b"MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\nSubject: s\r\n\r\nb\r\n.\r\n",
    b"MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@x.test>\r\nBDAT 14 LAST\r\nSubject: b\r\n\r\n",
    b"MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\nSubject: s\r\n\r\nbare\nLF, bare\rCR\r\n",
]
_noise = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\r", b"\n", b"\r\n", b"\x00", b"\xff", b".", b"x" * 600, b"y" * 1200 + b"\r\n"]),
)


def _stream(words: list[bytes], openers: list[bytes]) -> st.SearchStrategy[list[bytes]]:
    """Chunks to send: often a well-formed opening (a greeting's answer, a login), then anything."""
    body = st.lists(st.one_of(st.sampled_from(words), _noise), max_size=30)
    return st.tuples(st.sampled_from([b"", *openers]), body).map(lambda pair: [pair[0], *pair[1]])


def _store() -> MemoryStore:
    store = MemoryStore()
    box, _ = store.put("bob", "s3cret")
    for i in range(3):
        box.add(b"Subject: m%d\r\n\r\nline\r\n.dot line\r\n" % i)
    return store


def _check_store(store: MemoryStore) -> None:
    for box in store:
        messages = box.listing()
        assert box.count == len(messages)
        assert box.octets == sum(m.size for m in messages)
        uids = [m.uid for m in messages]
        assert len(set(uids)) == len(uids)
        for message in messages:
            content = message.content
            assert content == b"" or content.endswith(b"\r\n")
            assert content.count(b"\n") == content.count(b"\r\n") == content.count(b"\r")  # CRLF only


async def _drive(
    session: Pop3Session | SmtpSession, client: trio.StapledStream, data: list[bytes], vanish: bool
) -> bytes:
    replies = bytearray()

    async def read() -> None:
        while True:
            try:
                chunk = await client.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return
            if not chunk:
                return
            replies.extend(chunk)

    async def serve() -> None:
        await session.run()
        await session.stream.aclose()  # as the listener does once a session ends

    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        nursery.start_soon(read)
        for chunk in data:
            try:
                await client.send_all(chunk)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                break
            await trio.sleep(0)
        if vanish:
            await client.aclose()  # gone mid-whatever: no QUIT, no end of DATA
        else:
            await client.send_eof()
    return bytes(replies)


def _run(make: object, data: list[bytes], vanish: bool) -> tuple[str, bytes, MemoryStore]:
    store = _store()
    result: dict[str, object] = {}

    async def main() -> None:
        client, server = trio.testing.memory_stream_pair()
        session = make(server, store)  # type: ignore[operator]
        result["replies"] = await _drive(session, client, data, vanish)
        result["end"] = session.end_reason

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    return str(result["end"]), bytes(result["replies"]), store  # type: ignore[arg-type]


FUZZ = settings(
    max_examples=1000, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@FUZZ
@given(data=_stream(POP3_WORDS, [b"USER bob\r\nPASS s3cret\r\n"]), vanish=st.booleans())
def test_pop3_sessions_survive_any_input(data: list[bytes], vanish: bool) -> None:
    def make(stream: trio.abc.Stream, store: MemoryStore) -> Pop3Session:
        return Pop3Session(stream, store, SessionConfig(transcripts=TranscriptLog("t")))

    end, replies, store = _run(make, data, vanish)
    assert end != "internal error", (end, replies[-300:])
    _check_store(store)
    if b"QUIT" not in b"".join(data):
        assert store.get("bob").count == 3  # nothing deleted without a QUIT


@FUZZ
@given(data=_stream(SMTP_WORDS, [b"EHLO c\r\n", b"HELO c\r\n"]), vanish=st.booleans())
def test_smtp_sessions_survive_any_input(data: list[bytes], vanish: bool) -> None:
    def make(stream: trio.abc.Stream, store: MemoryStore) -> SmtpSession:
        return SmtpSession(
            stream, store, SessionConfig(transcripts=TranscriptLog("t")), SmtpPolicy(max_message_size=4096)
        )

    end, replies, store = _run(make, data, vanish)
    assert end != "internal error", (end, replies[-300:])
    _check_store(store)
    accepted = replies.count(b" queued as ")
    stored = store.get("bob").count - 3
    sent = b"".join(data)
    assert stored <= sent.count(b".\r\n") + sent.count(b" LAST")  # never a message the client did not end
    if vanish:
        # A client that closes right after the final dot may miss its 250: the message is stored all
        # the same (the server cannot know), which is the duplicate ambiguity SMTP clients live with.
        assert accepted <= stored
    else:
        assert stored == accepted  # stored exactly when a 250 said so
