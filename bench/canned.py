"""The ceiling of one trio process for bench/run.py: a bare trio server that answers the benchmark's POP3
session with canned bytes.

    python bench/canned.py --port 11000

It is plain `trio.serve_tcp` (trio.SocketStream, no parsing beyond splitting lines): each line received
is looked up whole in a table of fixed replies, built once from the benchmark mailbox (servers.py's
SESSION_MESSAGES) with the same texts and so the same sizes as mockmail's replies to USER, PASS, STAT,
LIST, UIDL, RETR 1 and QUIT.  Whatever this process does per session is the least any one-process trio
server must do; mockmail's full sessions/s over this server's, in the same run with the same load
generator, is the "ceiling ratio".  `record` reads the sizes of mockmail's own replies, so that run.py can
show the two agree.
"""

from __future__ import annotations

import argparse
import functools
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import PASSWORD, SESSION_MESSAGES, USER

# The commands of a full session (loadgen.py), and whether each answer is multi-line.
COMMANDS: list[tuple[bytes, bool]] = [
    (b"USER " + USER.encode(), False),
    (b"PASS " + PASSWORD.encode(), False),
    (b"STAT", False),
    (b"LIST", True),
    (b"UIDL", True),
    (b"RETR 1", True),
    (b"QUIT", False),
]
# mockmail's greeting carries an APOP challenge <pid.time.count@host>; this one has the same shape.
GREETING = b"+OK mockmail POP3 server ready <20159.7fe8dde8.10000@127.0.0.1>\r\n"
ERR = b"-ERR unknown command\r\n"


def wire(raw: bytes) -> bytes:
    """A stored message as a RETR sends it: CRLF line endings, dot-stuffed, with the terminating line."""
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    stuffed = [b"." + line if line.startswith(b".") else line for line in lines]
    return b"".join(line + b"\r\n" for line in stuffed) + b".\r\n"


def replies(messages: list[bytes] = SESSION_MESSAGES) -> dict[bytes, bytes]:
    """The fixed answer to each command line of the session, keyed by the line without its CRLF."""
    sizes = [len(raw) + raw.count(b"\n") - raw.count(b"\r\n") for raw in messages]
    count, total = len(sizes), sum(sizes)
    listing = b"".join(b"%d %d\r\n" % (i, size) for i, size in enumerate(sizes, 1))
    uids = b"".join(b"%d %016x\r\n" % (i, 0x5EED0000 + i) for i in range(1, count + 1))
    return {
        COMMANDS[0][0]: b"+OK send PASS for %s\r\n" % USER.encode(),
        COMMANDS[1][0]: b"+OK %s has %d messages (%d octets)\r\n" % (USER.encode(), count, total),
        b"STAT": b"+OK %d %d\r\n" % (count, total),
        b"LIST": b"+OK %d messages (%d octets)\r\n" % (count, total) + listing + b".\r\n",
        b"UIDL": b"+OK unique-id listing follows\r\n" + uids + b".\r\n",
        b"RETR 1": b"+OK %d octets\r\n" % sizes[0] + wire(messages[0]),
        b"QUIT": b"+OK mockmail POP3 server signing off (%d messages left)\r\n" % count,
    }


def record(port: int, host: str = "127.0.0.1") -> dict[str, int]:
    """The octets of each reply of one full session on a POP3 server (blocking; a few milliseconds)."""
    sizes: dict[str, int] = {}
    with socket.create_connection((host, port), timeout=30) as sock, sock.makefile("rb") as answers:
        sizes["greeting"] = len(answers.readline())
        for line, multi in COMMANDS:
            sock.sendall(line + b"\r\n")
            reply = answers.readline()
            while multi and reply.startswith(b"+OK") and not reply.endswith(b"\r\n.\r\n"):
                reply += answers.readline()
            sizes[line.decode()] = len(reply)
    return sizes


def canned_sizes() -> dict[str, int]:
    return {"greeting": len(GREETING)} | {line.decode(): len(reply) for line, reply in replies().items()}


def main() -> None:
    import trio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    table = replies()

    async def session(stream: trio.SocketStream) -> None:
        # serve_tcp closes the stream when this returns.
        buffered = b""
        try:
            await stream.send_all(GREETING)
            while True:
                data = await stream.receive_some(65536)
                if not data:
                    return
                *lines, buffered = (buffered + data).split(b"\r\n")
                if lines:
                    await stream.send_all(b"".join(table.get(line, ERR) for line in lines))
                    if b"QUIT" in lines:
                        return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return  # a client that went away; an exception here would stop the accept loop

    trio.run(functools.partial(trio.serve_tcp, session, args.port, host="127.0.0.1"))


if __name__ == "__main__":
    main()
