"""`EmbeddedServer`: a whole mockmail server in this process, on its own trio loop in a thread.

For test suites that are not themselves trio programs (the pytest plugin's `mockmail_server`): the
server binds port 0 everywhere on 127.0.0.1, and `start()` returns once it accepts connections.

    with EmbeddedServer() as server:
        client = Client(server.url)
"""

from __future__ import annotations

import contextlib
import queue
import threading
from types import TracebackType
from typing import Any

import msgspec
import trio

from .config.settings import Settings
from .main import Running, serve

__all__ = ["EmbeddedServer"]

START_TIMEOUT = 30.0


class EmbeddedServer:
    """A server on a daemon thread; `settings` are `Settings` fields (`tls="auto"`, `data_dir=...`)."""

    def __init__(self, **settings: Any) -> None:
        fields = {"api_port": 0, "host": "127.0.0.1", "log_level": "warning", **settings}
        self.settings = msgspec.convert(fields, Settings, strict=False)
        self._thread: threading.Thread | None = None
        self._running: Running | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        """The API's base URL, e.g. `http://127.0.0.1:40123`."""
        if self._running is None:
            raise RuntimeError("the embedded server is not running")
        return self._running.api_url

    def start(self) -> EmbeddedServer:
        """Start the server and return once it serves; raises what stopped it from starting."""
        if self._thread is not None:
            raise RuntimeError("the embedded server was started already")
        started: queue.Queue[Running | BaseException] = queue.Queue()
        self._thread = threading.Thread(target=self._run, args=(started,), name="mockmail", daemon=True)
        self._thread.start()
        try:
            outcome = started.get(timeout=START_TIMEOUT)
        except queue.Empty:
            raise RuntimeError(f"the embedded server did not start in {START_TIMEOUT:g} s") from None
        if isinstance(outcome, BaseException):
            self._thread.join()
            raise outcome
        self._running = outcome
        return self

    def _run(self, started: queue.Queue[Running | BaseException]) -> None:
        async def main() -> None:
            self._token = trio.lowlevel.current_trio_token()
            async with trio.open_nursery() as nursery:
                running: Running = await nursery.start(serve, self.settings)
                started.put(running)

        try:
            trio.run(main)
        except BaseException as exc:  # reported to start(), or kept for stop() once running
            if self._running is None:
                started.put(exc)
            self._failure = exc

    def stop(self) -> None:
        """Stop the server (its tenants end as in a shutdown) and wait for the thread."""
        if self._thread is None:
            return
        running, token = self._running, self._token
        if running is not None and token is not None and self._thread.is_alive():
            with contextlib.suppress(trio.RunFinishedError):  # it ended on its own
                trio.from_thread.run_sync(running.stop.set, trio_token=token)
        self._thread.join()
        self._thread = None
        self._running = None
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
