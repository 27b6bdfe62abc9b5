"""`SmtpConnection`: the server side of an SMTP session as a pure state machine (no sockets, no clock).

The shape is h11's: `receive_data(bytes)` only buffers (`b""` means end of file), `next_event()` returns the
next client event or `NEED_DATA`, and `send(reply)` returns the reply's bytes and moves the state
(`_state.next_state`).  The handler decides every outcome; the core keeps the rules that make SMTP safe:

- **Only `CRLF.CRLF` ends DATA** (RFC 5321 section 4.1.1.4).  A bare LF, a bare CR, or a `.` between bare
  line ends is content, never an end: the published SMTP smuggling sequences (CVE-2023-51764) cannot start
  a second transaction.  Content is dot-unstuffed (section 4.5.2) and handed over whole in `MessageData`.
- **Bounded buffering.** A command line is at most 512 octets (section 4.5.3.1.4; longer ones are dropped
  and refused with `500 5.5.2`), an AUTH line 12,288 (RFC 4954).  DATA content or BDAT chunks past the size
  limit are read and dropped, not kept, and the message is refused once it has ended (`problem`).
- **Pipelining** (RFC 2920): commands are read one at a time, each answered before the next is parsed,
  so the state a command is parsed in is the state its predecessors' replies left.
- **STARTTLS** (RFC 3207 section 4.2): once the 220 is sent, whatever the client had pipelined after the
  command is moved to `trailing_data` and never parsed; the session starts again from the greeting state.
- **BDAT** (RFC 3030): a chunk is read whole even when the command is refused (503), so its octets are
  never taken as commands.
"""

from __future__ import annotations

from ..linebuffer import TOO_LONG, LineBuffer
from ._errors import LocalProtocolError
from ._events import (
    NEED_DATA,
    AuthResponse,
    BadCommand,
    Bdat,
    ConnectionClosed,
    Event,
    MessageData,
    NeedData,
    Reply,
    StartTls,
)
from ._parser import MAX_COMMAND_LINE, MAX_SASL_LINE, MAX_TEXT_LINE, parse_command
from ._state import ALLOWED, State, next_state, refusal
from ._writer import write

__all__ = ["DEFAULT_MAX_MESSAGE", "SmtpConnection", "lines_fit"]

DEFAULT_MAX_MESSAGE = 10 * 1024 * 1024
_END_OF_DATA = b"\r\n.\r\n"
_GREETING_CODES = frozenset({220, 421, 554})
"""RFC 5321 section 3.1: a server greets with 220, or refuses with 554 (or 421, and closes)."""


def lines_fit(data: bytes | bytearray, end: int) -> bool:
    """Whether every line of `data[:end]` is at most MAX_TEXT_LINE octets with its line end.

    Consecutive LFs may be at most MAX_TEXT_LINE apart.  Looking for the last LF in each window of that
    size jumps a whole window per step: about a thousand steps a MiB, no list of lines.
    """
    pos = 0
    while end - pos > MAX_TEXT_LINE:
        last = data.rfind(b"\n", pos, pos + MAX_TEXT_LINE)
        if last < 0:
            return False
        pos = last + 1
    return True


class SmtpConnection:
    """Server side of one SMTP session.

    Args:
        max_command_line: longest command line accepted, CRLF included.
        max_message_size: octets of content (as received) a message may have; past it, content is dropped.
        secure: the stream is already TLS (the implicit-TLS port).
    """

    __slots__ = (
        "_bdat_total",
        "_buffer",
        "_chunk",
        "_chunk_left",
        "_chunk_parts",
        "_data",
        "_data_dropped",
        "_data_scan",
        "_data_size",
        "_data_stuffed",
        "_eof",
        "_greeted",
        "_pending",
        "max_command_line",
        "max_message_size",
        "secure",
        "state",
        "trailing_data",
    )

    def __init__(
        self,
        *,
        max_command_line: int = MAX_COMMAND_LINE,
        max_message_size: int = DEFAULT_MAX_MESSAGE,
        secure: bool = False,
    ) -> None:
        self.state = State.GREETED
        self.secure = secure
        self.trailing_data = b""
        """Bytes that were buffered when STARTTLS was accepted; they are discarded, never parsed."""
        self.max_command_line = max_command_line
        self.max_message_size = max_message_size
        self._buffer = LineBuffer()
        self._pending: Event | None = None
        self._greeted = False
        self._eof = False
        self._data = bytearray()
        self._data_scan = 0
        self._data_size = 0
        self._data_dropped = False
        self._data_stuffed = False
        self._chunk: Bdat | BadCommand | None = None
        self._chunk_left = 0
        self._chunk_parts: list[bytes] | None = None
        self._bdat_total = 0

    # --- reading ----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """The session is over: 221 or 421 sent, or a write failed."""
        return self.state is State.CLOSED

    @property
    def mid_line(self) -> bool:
        """Part of a command line is buffered without its end.

        Message content and BDAT chunks are not lines: they run under the session's idle deadline (RFC
        5321 section 4.5.3.2 gives DATA minutes, not the seconds a command line gets).
        """
        if self.state is State.DATA or self._chunk is not None:
            return False
        return self._buffer.mid_line

    def receive_data(self, data: bytes | bytearray) -> None:
        """Add bytes from the peer; `b""` means the peer closed its side."""
        if not data:
            self._eof = True
        elif self.state is State.DATA:
            self._take_content(data)
        else:
            self._buffer.feed(data)

    def next_event(self) -> Event | NeedData:
        """The next client event, or `NEED_DATA` when none is complete.

        Raises:
            LocalProtocolError: the previous event has not been answered, or the session is closed.
        """
        if self.state is State.CLOSED:
            raise LocalProtocolError("the session is closed")
        if self._pending is not None:
            raise LocalProtocolError(f"answer {self._pending!r} before reading the next command")
        event = self._next()
        if not isinstance(event, NeedData | ConnectionClosed):
            self._pending = event
        return event

    def _next(self) -> Event | NeedData:
        if self.state is State.DATA:
            return self._end_of_content()
        if self._chunk is not None:
            return self._read_chunk()
        in_auth = self.state is State.AUTH
        line = self._buffer.next_line(MAX_SASL_LINE if in_auth else self.max_command_line)
        if line is None:
            return ConnectionClosed() if self._eof else NEED_DATA
        if line is TOO_LONG:
            if in_auth:
                self.state = State.READY  # RFC 4954 section 4: the exchange fails
                return BadCommand("authentication line too long", 500, "5.5.6", "AUTH")
            return BadCommand(f"line too long (over {self.max_command_line:d} octets)", 500, "5.5.2")
        assert isinstance(line, bytes)
        if in_auth:
            text = line.decode("ascii", "replace").strip()
            return AuthResponse(text, cancelled=text == "*")
        event = parse_command(line)
        if type(event) is Bdat:
            # The chunk follows the line whatever we answer: read it before anything else.
            allowed = type(event) in ALLOWED[self.state]
            self._chunk = event if allowed else BadCommand(refusal(self.state, Bdat), 503, "5.5.1", "BDAT")
            self._chunk_left = event.size
            self._chunk_parts = [] if allowed else None
            return self._read_chunk()
        if isinstance(event, BadCommand) or type(event) in ALLOWED[self.state]:
            return event
        return BadCommand(refusal(self.state, type(event)), 503, "5.5.1", event.verb)

    def _read_chunk(self) -> Event | NeedData:
        while self._chunk_left:
            piece = self._buffer.take(self._chunk_left)
            if not piece:
                return ConnectionClosed() if self._eof else NEED_DATA
            self._chunk_left -= len(piece)
            parts = self._chunk_parts
            if parts is not None:
                if self._bdat_total + len(piece) <= self.max_message_size:
                    parts.append(piece)
                    self._bdat_total += len(piece)
                else:
                    self._chunk_parts = None  # over the limit: read the rest, keep nothing
                    self._bdat_total = self.max_message_size + 1
        chunk, self._chunk = self._chunk, None
        assert chunk is not None
        if isinstance(chunk, BadCommand):
            return chunk
        parts, self._chunk_parts = self._chunk_parts, None
        if parts is None:
            return Bdat(chunk.size, chunk.last, b"", dropped=True)
        return Bdat(chunk.size, chunk.last, b"".join(parts))

    # --- DATA content -------------------------------------------------------------------------------

    def _start_content(self) -> None:
        # The CRLF that ended the DATA line belongs to the terminator search: content that is only
        # ".\r\n" is the empty message, and a first line ".x" is stuffed like any other.
        self._data = bytearray(b"\r\n")
        self._data_scan = 0
        self._data_size = 0
        self._data_dropped = False
        self._data_stuffed = False
        leftover = self._buffer.take_all()
        if leftover:
            self._take_content(leftover)

    def _take_content(self, data: bytes | bytearray) -> None:
        self._data += data
        self._data_size += len(data)
        if self._data_size > self.max_message_size + len(_END_OF_DATA):
            # Over the limit: from the next search on, keep only what may begin the terminator.
            self._data_dropped = True

    def _end_of_content(self) -> Event | NeedData:
        # One scan finds both the terminator and the lines to unstuff: every `CRLF.` is one or the
        # other (the CRLF that ended the DATA line is the buffer's first two octets, so a dot on the
        # first line is found the same way).  A hit whose next two octets have not arrived waits.
        data = self._data
        scan = self._data_scan
        while True:
            hit = data.find(b"\r\n.", scan)
            if hit < 0 or hit + len(_END_OF_DATA) > len(data):
                resume = hit if hit >= 0 else max(scan, len(data) - 2)
                if self._data_dropped and resume:
                    del data[:resume]  # over the limit: keep only what may begin the terminator
                    resume = 0
                self._data_scan = resume
                return ConnectionClosed() if self._eof else NEED_DATA
            if data[hit + 3 : hit + 5] == b"\r\n":
                end = hit
                break
            self._data_stuffed = True
            scan = hit + 3
        rest = bytes(data[end + len(_END_OF_DATA) :])
        # Octets of the content as sent: what follows the DATA line, up to (not with) the final ".CRLF".
        size = self._data_size - len(rest) - 3
        self._data = bytearray()
        if rest:
            self._buffer.feed(rest)
        if self._data_dropped or size > self.max_message_size:
            return MessageData(b"", size, "too-large")
        if not lines_fit(data, end + 2):
            return MessageData(b"", size, "line-too-long")
        stop = end + 2  # the content is data[2:stop]: up to and with the CRLF before the final dot
        lf = data.count(b"\n", 2, stop)
        bare = not (lf == data.count(b"\r", 2, stop) == data.count(b"\r\n", 2, stop))
        if self._data_stuffed:
            return MessageData(bytes(data[:stop]).replace(b"\r\n.", b"\r\n")[2:], size, None, bare)
        # No copy here: the handler copies the view once, into the message it stores.
        return MessageData(memoryview(data)[2:stop], size, None, bare)

    # --- writing ------------------------------------------------------------------------------------

    def send(self, reply: Reply) -> bytes:
        """The reply's bytes; sending it moves the state.

        Raises:
            LocalProtocolError: no command waits for a reply, or the reply is malformed.
        """
        data = write(reply)
        if not self._greeted:
            if reply.code not in _GREETING_CODES:
                raise LocalProtocolError(f"a greeting is 220, 421 or 554, not {reply.code:d}")
            self._greeted = True
            if reply.code == 421:
                self.state = State.CLOSED
            return data
        event = self._pending
        if event is None:
            raise LocalProtocolError("no command is waiting for a reply")
        self._pending = None
        code = reply.code
        if isinstance(event, BadCommand):
            if code == 421:
                self.state = State.CLOSED
            return data
        before = self.state
        self.state = next_state(before, event, code)
        if type(event) is StartTls and code == 220:
            self.trailing_data = self._buffer.take_all()
            self.secure = True
        if self.state is State.DATA and before is not State.DATA:
            self._start_content()
        elif self.state is State.READY:
            self._bdat_total = 0
        return data

    def send_chunks(self, reply: Reply) -> list[bytes]:
        """`send`, as a list of chunks (the driver's interface)."""
        return [self.send(reply)]

    def send_failed(self) -> None:
        """Record that writing to the peer failed: the session is over."""
        self.state = State.CLOSED
