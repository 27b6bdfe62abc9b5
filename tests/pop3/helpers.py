"""Helpers for the pure-core tests: a greeted connection and h11-style chunked feeding."""

from __future__ import annotations

from collections.abc import Iterator

from mockmail.pop3 import NEED_DATA, Event, Greeting, LoggedIn, Ok, Pop3Connection


def greeted(**kwargs: object) -> Pop3Connection:
    conn = Pop3Connection(**kwargs)  # type: ignore[arg-type]
    conn.send(Greeting("ready", "<1.2@test>"))
    return conn


def logged_in() -> Pop3Connection:
    conn = greeted()
    conn.receive_data(b"USER bob\r\nPASS pw\r\n")
    conn.next_event()
    conn.send(Ok())
    conn.next_event()
    conn.send(LoggedIn("in"))
    return conn


def chunkings(data: bytes) -> Iterator[list[bytes]]:
    """The same bytes whole, byte by byte, and split in the middle."""
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    half = len(data) // 2
    yield [data[:half], data[half:]]


def first_event(conn: Pop3Connection, chunks: list[bytes]) -> Event:
    """Feed chunks until an event appears; every earlier call must say NEED_DATA."""
    for chunk in chunks:
        conn.receive_data(chunk)
        event = conn.next_event()
        if event is not NEED_DATA:
            return event
    raise AssertionError("no event after all chunks")
