"""Rendering replies to bytes: the only place that adds CRLF, dot-stuffing and the final `.` line.

Rules kept here:
- RFC 2449 section 4: a first reply line is at most 512 octets including CRLF (`MAX_REPLY_LINE`).
- RFC 1939 section 3: multi-line replies end with `CRLF.CRLF`; a line that starts with `.` is byte-stuffed.
- No bare CR or LF ever leaves: reply text may not contain either (a bug, `LocalProtocolError`), and message
  content must be CRLF-normalized before it gets here (the store keeps it so).
- Octet counts and message numbers are rendered with `f"{n:d}"` after an explicit int check, so a float size
  can never reach the wire as `%!d(float64=...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ._errors import LocalProtocolError
from ._events import (
    Continue,
    DropStat,
    Err,
    Goodbye,
    Greeting,
    Listing,
    LoggedIn,
    MessageContent,
    Ok,
    Reply,
    ScanLine,
    ScanListing,
    TlsReady,
    Top,
    UidLine,
    UidListing,
)
from ._quirks import COMPLIANT, Pop3Quirks

__all__ = ["MAX_REPLY_LINE", "dot_stuff", "unstuff", "write", "write_chunks"]

MAX_REPLY_LINE = 512
"""RFC 2449 section 4: the first line of a response is at most 512 octets, CRLF included."""

_TERMINATOR = b".\r\n"


def dot_stuff(content: bytes) -> bytes:
    """Byte-stuff every line of CRLF-normalized `content` that begins with `.` (RFC 1939 section 3)."""
    stuffed = content.replace(b"\r\n.", b"\r\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


def _num(value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise LocalProtocolError(f"a POP3 number must be an int, not {type(value).__name__}: {value!r}")
    if value < 0:
        raise LocalProtocolError(f"a POP3 number cannot be negative: {value}")
    return f"{value:d}"


def _line(text: str) -> bytes:
    if "\r" in text or "\n" in text:
        raise LocalProtocolError(f"reply text contains a line break: {text!r}")
    data = text.encode("utf-8") + b"\r\n"
    if len(data) > MAX_REPLY_LINE:
        raise LocalProtocolError(f"reply line is {len(data)} octets, over the {MAX_REPLY_LINE} limit")
    return data


def _status(prefix: str, text: str) -> bytes:
    return _line(f"{prefix} {text}" if text else prefix)


def _body_lines(lines: Iterable[str]) -> bytes:
    out = []
    for text in lines:
        if "\r" in text or "\n" in text:
            raise LocalProtocolError(f"listing line contains a line break: {text!r}")
        out.append(("." + text if text.startswith(".") else text).encode("utf-8"))
    out.append(b".")
    return b"\r\n".join(out) + b"\r\n"


def _greeting(reply: Greeting) -> bytes:
    return _status("+OK", f"{reply.text} {reply.timestamp}" if reply.timestamp else reply.text)


def _ok(reply: Ok) -> bytes:
    return _status("+OK", reply.text)


def _err(reply: Err) -> bytes:
    text = f"[{reply.code}] {reply.text}" if reply.code else reply.text
    return _status("-ERR", text)


def _continue(reply: Continue) -> bytes:
    return _line(f"+ {reply.data}")


def _listing(reply: Listing) -> bytes:
    return _status("+OK", reply.text) + _body_lines(reply.lines)


def _drop_stat(reply: DropStat) -> bytes:
    return _status("+OK", f"{_num(reply.count)} {_num(reply.octets)}")


def _scan_line(reply: ScanLine) -> bytes:
    return _status("+OK", f"{_num(reply.msg)} {_num(reply.octets)}")


def _numbered_lines(entries: Sequence[tuple[int, object]], second: str) -> bytes:
    """`n value` lines for a listing, then the terminator; `second` formats the value (`d` or `s`)."""
    template = "{:d} {:" + second + "}\r\n"
    try:
        if second == "d" and any(value < 0 for _, value in entries):  # type: ignore[operator]
            raise LocalProtocolError("a POP3 number cannot be negative")
        text = "".join(template.format(msg, value) for msg, value in entries)
    except ValueError as exc:  # f"{5461.0:d}" raises: a float size is a bug, never %!d(float64=5461)
        raise LocalProtocolError(f"a POP3 number must be an int: {exc}") from None
    return text.encode("utf-8") + _TERMINATOR


def _scan_listing(reply: ScanListing) -> bytes:
    total = sum(octets for _, octets in reply.entries)
    header = f"{_num(len(reply.entries))} messages ({_num(total)} octets)"
    return _status("+OK", header) + _numbered_lines(reply.entries, "d")


def _uid_line(reply: UidLine) -> bytes:
    return _status("+OK", f"{_num(reply.msg)} {reply.uid}")


def _uid_listing(reply: UidListing) -> bytes:
    return _status("+OK", "unique-id listing follows") + _numbered_lines(reply.entries, "s")


def _message_content(reply: MessageContent) -> list[bytes]:
    # The body was stuffed when it was made (StuffedBody.stuff calls dot_stuff): it goes out as it is, as
    # its own chunk, so a large message is never copied on its way to the socket.
    return [_status("+OK", reply.text), reply.body.wire, _TERMINATOR]


WRITERS: dict[type[Reply], Callable[[Any], bytes | list[bytes]]] = {
    Greeting: _greeting,
    Ok: _ok,
    LoggedIn: _ok,
    Goodbye: _ok,
    TlsReady: _ok,
    Err: _err,
    Continue: _continue,
    Listing: _listing,
    DropStat: _drop_stat,
    ScanLine: _scan_line,
    ScanListing: _scan_listing,
    UidLine: _uid_line,
    UidListing: _uid_listing,
    MessageContent: _message_content,
}


def write_chunks(reply: Reply, quirks: Pop3Quirks = COMPLIANT, answering: type | None = None) -> list[bytes]:
    """Render `reply` to the exact bytes that go on the wire, as chunks to send in order.

    `quirks` are honoured only when given: compliant output is the same code with no quirk set.
    `answering` is the command type the reply answers (TOP and RETR differ under `dot_stuffing`).
    """
    if quirks is not COMPLIANT:
        quirky = _quirky(reply, quirks, answering)
        if quirky is not None:
            return quirky
    try:
        writer = WRITERS[type(reply)]
    except KeyError:
        raise LocalProtocolError(f"no writer for reply type {type(reply).__name__}") from None
    data = writer(reply)
    return data if isinstance(data, list) else [data]


def _go_float(octets: int) -> str:
    """What Go's fmt prints for a float64 under %d: `%!d(float64=5461)`."""
    return f"%!d(float64={_num(octets)})"


def _quirky(reply: Reply, quirks: Pop3Quirks, answering: type | None) -> list[bytes] | None:
    if quirks.go_float_sizes and isinstance(reply, ScanListing):
        # Only the lines: the legacy server cast the header's total to an integer.
        total = sum(octets for _, octets in reply.entries)
        header = _status("+OK", f"{_num(len(reply.entries))} messages ({_num(total)} octets)")
        lines = "".join(f"{_num(msg)} {_go_float(octets)}\r\n" for msg, octets in reply.entries)
        return [header + lines.encode() + _TERMINATOR]
    if quirks.go_float_sizes and isinstance(reply, ScanLine):
        return [_status("+OK", f"{_num(reply.msg)} {_go_float(reply.octets)}")]
    unstuffed = quirks.dot_stuffing == "none" or (quirks.dot_stuffing == "retr-only" and answering is Top)
    if isinstance(reply, MessageContent) and unstuffed:
        return [_status("+OK", reply.text), unstuff(reply.body.wire), _TERMINATOR]
    return None


def write(reply: Reply, quirks: Pop3Quirks = COMPLIANT, answering: type | None = None) -> bytes:
    """Render `reply` to the exact bytes that go on the wire."""
    return b"".join(write_chunks(reply, quirks, answering))


def unstuff(wire: bytes) -> bytes:
    """Undo dot-stuffing: the text a client sees after un-stuffing (and what the no-stuffing quirk sends)."""
    text = wire[1:] if wire.startswith(b"..") else wire
    return text.replace(b"\r\n..", b"\r\n.")
