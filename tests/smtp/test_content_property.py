"""DATA content against a line-by-line reference, for any content and any way it is cut into reads.

The core finds the terminator and the stuffed dots in one scan of `CRLF.` hits, and counts line ends
instead of walking lines; this checks that shortcut against the plain reading of RFC 5321 section 4.5.2
(a line starting with a dot loses that dot; only a line that is a lone dot ends the content).
"""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mockmail.smtp import NEED_DATA, MessageData, Reply, SmtpConnection

OK = Reply.of(250, "2.0.0", "OK")
GO = Reply.of(354, None, "go ahead")

# Lines made of the octets that matter here: dots, CR and LF (bare or paired), and plain text.
_line = st.lists(st.sampled_from([b".", b"..", b"\r", b"\n", b"a", b"bc", b"\r\n."]), max_size=6).map(
    b"".join
)
_content = st.lists(_line, max_size=12).map(lambda lines: b"".join(line + b"\r\n" for line in lines))


def stuffed(content: bytes) -> bytes:
    """What a client sends for `content` (RFC 5321 section 4.5.2): a dot before every line's leading dot."""
    return re.sub(rb"(^|\r\n)\.", rb"\1..", content)


def reference(content_as_sent: bytes) -> tuple[bytes, bool]:
    """Unstuff CRLF lines one by one, and whether any CR or LF is not part of a CRLF."""
    lines = content_as_sent.split(b"\r\n")
    assert lines[-1] == b""
    text = b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n" for line in lines[:-1])
    bare = re.search(rb"\r(?!\n)|(?<!\r)\n", content_as_sent) is not None
    return text, bare


def open_data() -> SmtpConnection:
    conn = SmtpConnection()
    conn.send(Reply.of(220, None, "mock"))
    conn.receive_data(b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n")
    for reply in (OK, OK, OK, GO):
        conn.next_event()
        conn.send(reply)
    return conn


@settings(max_examples=300, deadline=None)
@given(content=_content, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_content_matches_the_line_by_line_reading(content: bytes, cuts: list[int]) -> None:
    wire = stuffed(content)
    if b"\r\n.\r\n" in b"\r\n" + wire:
        return  # a lone-dot line inside the text is the end by definition: not content a client can send
    data = wire + b".\r\nNOOP\r\n"
    conn = open_data()
    points = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
    event: object = NEED_DATA
    fed = 0
    for start, stop in itertools.pairwise(points):
        conn.receive_data(data[start:stop])
        fed = stop
        event = conn.next_event()
        if event is not NEED_DATA:
            break
    assert isinstance(event, MessageData) and event.problem is None
    text, bare = reference(wire)
    assert bytes(event.content) == text
    assert event.bare_line_ends is bare
    assert event.size == len(wire)
    conn.send(OK)
    conn.receive_data(data[fed:])
    assert conn.next_event().verb == "NOOP"  # what followed the final dot is the next command
