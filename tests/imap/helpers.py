"""Helpers for the pure IMAP core tests: sessions in a given state and h11-style chunked feeding."""

from __future__ import annotations

from collections.abc import Iterator

from mockmail.imap import (
    NEED_DATA,
    TOOBIG,
    Bad,
    BadCommand,
    Continuation,
    ContinuationNeeded,
    Event,
    Greeting,
    ImapConnection,
    LiteralTooLarge,
    No,
    Ok,
)


def greeted(**kwargs: object) -> ImapConnection:
    conn = ImapConnection(**kwargs)  # type: ignore[arg-type]
    conn.send(Greeting("ready"))
    return conn


def logged_in(**kwargs: object) -> ImapConnection:
    conn = greeted(**kwargs)
    conn.receive_data(b"a LOGIN bob pw\r\n")
    conn.next_event()
    conn.send(Ok("LOGIN completed"))
    return conn


def selected(**kwargs: object) -> ImapConnection:
    conn = logged_in(**kwargs)
    conn.receive_data(b"b SELECT INBOX\r\n")
    conn.next_event()
    conn.send(Ok("SELECT completed"))
    return conn


def chunkings(data: bytes) -> Iterator[list[bytes]]:
    """The same bytes whole, byte by byte, and split in the middle."""
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    half = len(data) // 2
    yield [data[:half], data[half:]]


def events(conn: ImapConnection, chunks: list[bytes], *, accept_literals: bool = True) -> list[Event]:
    """Feed chunks, collecting every event; literals are accepted with `+ Ready` when asked for.

    Every other event is answered at once (BAD to a bad command, NO [TOOBIG] to a refused literal, OK
    otherwise) so that reading goes on; the answers are not what these tests look at.
    """
    out: list[Event] = []
    for chunk in chunks:
        conn.receive_data(chunk)
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                break
            assert not isinstance(event, type(NEED_DATA))
            out.append(event)
            if isinstance(event, ContinuationNeeded) and accept_literals:
                conn.send(Continuation())
            elif isinstance(event, BadCommand):
                conn.send(Bad(event.reason))
            elif isinstance(event, LiteralTooLarge):
                conn.send(No("too large", TOOBIG))
            elif conn.pending is not None:
                conn.send(Ok())
    return out
