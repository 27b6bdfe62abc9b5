"""Minimal reproduction, without mockmail, of a keep-alive connection that hypercorn never answers again.

Versions seen: hypercorn 0.18.0, quart-trio 0.12.0, quart 0.22.0, trio 0.35, h11 0.16 (Python 3.11).

Steps: a client sends a request head with `Content-Length: 10`, the app answers at once (here a 405, as
any route decided from the method, path or headers can), the client reads the answer and then sends the
10 body octets and a second request on the same connection.

Expected: the second request is answered (or the server closes the connection).
Seen: no answer and no close; the socket stays in CLOSE-WAIT after the client gives up, and a graceful
shutdown waits for it.

Why: the response ends while h11 still expects the body, so `H11Protocol._maybe_recycle` sends `Closed`,
and `TCPServer._close` runs inside the app's final `send`.  `_close_stream` has just queued
`http.disconnect`; quart-trio's `handle_messages` receives it and cancels the request nursery, which
cancels `_close` at the checkpoint in `send_eof()` before `aclose()`.  The read loop then gets the body and
the next request, h11 answers PAUSED (both sides DONE, no new cycle started), and the protocol waits on
`can_read` forever.

Run: `python docs/upstream/hypercorn_early_answer.py` (mockmail's fix: api/keepalive.py).
"""

import socket
from functools import partial

import hypercorn.config
import hypercorn.trio
import trio
from quart_trio import QuartTrio

app = QuartTrio("bare")


@app.get("/only-get")
async def only_get() -> str:
    return "ok"


def read_status_line(sock: socket.socket) -> bytes | None:
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return None
        buf += data
    return buf.split(b"\r\n", 1)[0]


def client(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(3)
    sock.sendall(b"POST /only-get HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
    print("first answer:", read_status_line(sock))
    sock.sendall(b"0123456789" + b"GET /only-get HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        print("second answer:", read_status_line(sock) or "the server closed the connection")
    except TimeoutError:
        print("second answer: none in 3 s, and the connection is still open (the bug)")


async def main() -> None:
    config = hypercorn.config.Config()
    config.bind = ["127.0.0.1:0"]
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(hypercorn.trio.serve, app, config))
        await trio.to_thread.run_sync(client, int(binds[0].rsplit(":", 1)[1]))
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
