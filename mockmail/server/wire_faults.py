"""Wire faults: what a fault plan does to the bytes of a reply on their way out, in one place.

Latency and greeting delay wait; bandwidth and the slicer cut the bytes into timed pieces; truncation sends
a prefix of a RETR (or an IMAP FETCH) and ends; stall says nothing until the client gives up; reset ends with a TCP RST; close
after N ends with a FIN once the reply is out.  The session driver calls `send_through` with the faults that
fired for one flush; the functions here know no protocol.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Callable

import trio

from ..faults import (
    Bandwidth,
    CloseAfter,
    GreetingDelay,
    Latency,
    Reset,
    Slicer,
    Stall,
    TransportFault,
    TruncateRetr,
)

__all__ = [
    "HALF_CLOSE_DRAIN",
    "FaultEnd",
    "PeerGone",
    "drain",
    "half_close",
    "reset_connection",
    "send_through",
]

RECEIVE_SIZE = 65536
HALF_CLOSE_DRAIN = 5.0
"""Seconds a fault's close waits for the client to close its side (see `half_close`)."""
TRUNCATED = frozenset({"RETR", "FETCH"})
"""The verbs whose replies truncation cuts: POP3's RETR and IMAP's (UID) FETCH."""


class PeerGone(Exception):
    """Writing to the client failed: it is gone."""


class FaultEnd(Exception):
    """A wire fault ended the session; the message is the end reason."""


def reset_connection(stream: trio.abc.Stream) -> None:
    """Close the TCP connection with a reset (SO_LINGER 0) instead of a FIN."""
    raw = getattr(stream, "transport_stream", stream)
    sock = getattr(raw, "socket", None)
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    close = getattr(raw, "close", None)
    if close is not None:
        close()


async def drain(stream: trio.abc.Stream) -> None:
    """Read and drop what the client sends until it closes or goes away: a fault that says nothing.

    A reset is as normal an end here as a FIN (the client gave up), not an internal error.
    """
    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
        while await stream.receive_some(RECEIVE_SIZE):
            pass


async def half_close(stream: trio.abc.Stream) -> None:
    """End the session so that every client sees the same thing: end of file, never a reset.

    Closing at once would race the client's next command: if it had arrived, the kernel answers the
    close with a reset; if not, with a FIN.  Sending FIN and reading on until the client closes (for
    at most HALF_CLOSE_DRAIN seconds) removes the race.
    """
    raw = getattr(stream, "transport_stream", stream)
    send_eof = getattr(raw, "send_eof", None)
    if send_eof is None:
        return
    with (
        trio.move_on_after(HALF_CLOSE_DRAIN),
        contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
    ):
        await send_eof()
        while await raw.receive_some(RECEIVE_SIZE):
            pass


async def send_through(
    stream: trio.abc.Stream,
    data: bytes,
    hits: list[tuple[str, TransportFault]],
    *,
    uniform: Callable[[float, float], float],
    answering: str | None,
    answered: int,
) -> None:
    """Send one flush's bytes through the wire faults that fired.

    Args:
        uniform: the tenant's seeded random draw (latency jitter), so a seed replays the same delays.
        answering: the verb being answered (None for the greeting); truncation acts on `TRUNCATED` only.
        answered: commands answered so far in the session (named in the end reason of close after N).

    Raises:
        FaultEnd: the fault ended the session (the message is the end reason).
        PeerGone: the client went away while the bytes were going out.
    """
    kinds = {type(fault): fault for _, fault in hits}
    if Stall in kinds:
        await drain(stream)  # say nothing until the client gives up
        raise FaultEnd(f"fault: stalled on {answering}")
    if Reset in kinds:
        reset_connection(stream)
        raise FaultEnd(f"fault: TCP reset on {answering}")
    for fault in (kinds.get(Latency), kinds.get(GreetingDelay)):
        if isinstance(fault, Latency):
            await trio.sleep(max(0.0, fault.ms + uniform(-fault.jitter_ms, fault.jitter_ms)) / 1000)
        elif isinstance(fault, GreetingDelay):
            await trio.sleep(fault.ms / 1000)
    truncate = kinds.get(TruncateRetr)
    cut = isinstance(truncate, TruncateRetr) and answering in TRUNCATED
    if isinstance(truncate, TruncateRetr) and cut:
        data = data[: truncate.after_bytes]
    piece, pause = len(data) or 1, 0.0
    bandwidth, slicer = kinds.get(Bandwidth), kinds.get(Slicer)
    if isinstance(bandwidth, Bandwidth):
        piece = max(1, bandwidth.bytes_per_second // 20)
        pause = piece / bandwidth.bytes_per_second
    if isinstance(slicer, Slicer):
        piece, pause = min(piece, slicer.size), max(pause, slicer.delay_ms / 1000)
    try:
        for start in range(0, len(data), piece):
            if start and pause:
                await trio.sleep(pause)
            await stream.send_all(data[start : start + piece])
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        raise PeerGone from None
    if isinstance(truncate, TruncateRetr) and cut:
        raise FaultEnd(f"fault: {answering} cut after {truncate.after_bytes:d} octets")
    if CloseAfter in kinds:
        await half_close(stream)
        raise FaultEnd(f"fault: closed after {answered:d} commands")
