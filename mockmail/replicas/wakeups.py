"""`Wakeups`: new mail stored by any replica, heard by every replica (PostgreSQL `LISTEN`/`NOTIFY`).

- The sending side is `announce`, the store's seam (`SqlDatabase.announce`): every delivery of new mail
  runs `SELECT pg_notify('mockmail_mail', '{"tenant":..,"mailbox":..,"folder":..}')` inside its own
  transaction.  PostgreSQL delivers a notification only when that transaction commits, so nobody hears of
  mail that was rolled back (fenced out, a failed bulk upload), and whoever hears can read it at once.
- The receiving side is `Wakeups.run`, one task per replica with one connection of its own, which
  `LISTEN`s and reads notifications without a thread: it waits on the connection's socket with trio and
  lets libpq parse what came (`consume_input`, `notifies`).  Each notification sets (and forgets) the
  `trio.Event` of its (tenant, mailbox), which a waiter took with `event` *before* it looked at the
  mailbox, so none falls between its look and its wait.
- A broken connection is opened again (a second later, and so on); since notifications sent meanwhile are
  lost, every waiter is woken then to look again.

Long-polls that a replica holds for a tenant of another (mockmail/replicas/router.py) are the waiters.
"""

from __future__ import annotations

import logging

import msgspec
import psycopg
import trio

from ..store.pg_database import connect

__all__ = ["CHANNEL", "MailNotice", "Wakeups", "announce"]

log = logging.getLogger("mockmail.replicas")

CHANNEL = "mockmail_mail"
RECONNECT_SECONDS = 1.0
"""How long a replica waits before opening its listening connection again."""


class MailNotice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The payload of a notification: where new mail was committed."""

    tenant: str
    mailbox: str
    folder: str


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(MailNotice)


def announce(tenant: str, mailbox: str, folder: str) -> tuple[str, tuple[object, ...]]:
    """The statement that tells every listening replica of new mail (`SqlDatabase.announce`)."""
    payload = _ENCODER.encode(MailNotice(tenant=tenant, mailbox=mailbox, folder=folder)).decode()
    return "SELECT pg_notify(?, ?)", (CHANNEL, payload)


class Wakeups:
    """The events long-polls wait on, set by the notifications of new mail.

    Args:
        conninfo: the `--store` URL (the listening connection is this object's own).
    """

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._events: dict[tuple[str, str], trio.Event] = {}
        self.heard = 0
        """Notifications received so far (for tests and logs)."""

    def event(self, tenant: str, mailbox: str) -> trio.Event:
        """The event set at the next notification of new mail in this mailbox (or when notifications may
        have been missed); take it before looking at the mailbox."""
        key = (tenant, mailbox)
        found = self._events.get(key)
        if found is None:
            found = self._events[key] = trio.Event()
        return found

    def wake(self, tenant: str, mailbox: str) -> None:
        found = self._events.pop((tenant, mailbox), None)
        if found is not None:
            found.set()

    def wake_all(self) -> None:
        events, self._events = self._events, {}
        for found in events.values():
            found.set()

    def dispatch(self, payload: str) -> None:
        """Wake the waiters of one notification's mailbox (a payload that is not ours is ignored)."""
        try:
            notice = _DECODER.decode(payload)
        except msgspec.MsgspecError:
            log.warning("replicas: ignored a notification on %s that is not a mail notice", CHANNEL)
            return
        self.heard += 1
        self.wake(notice.tenant, notice.mailbox)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen until cancelled; report readiness once the first `LISTEN` is in place.

        Raises:
            psycopg.Error: the first connection failed (later failures are logged and retried).
        """
        conn = await trio.to_thread.run_sync(self._listen)
        task_status.started()
        while True:
            try:
                await self._read(conn)
            except (psycopg.Error, OSError) as exc:
                log.warning("replicas: the connection that listens for new mail broke: %s", exc)
            finally:
                conn.close()
            self.wake_all()  # what was sent while nobody listened is lost: every waiter looks again
            while True:
                await trio.sleep(RECONNECT_SECONDS)
                try:
                    conn = await trio.to_thread.run_sync(self._listen)
                    break
                except psycopg.Error as exc:
                    log.warning("replicas: cannot listen for new mail: %s", exc)
            self.wake_all()

    def _listen(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = connect(self.conninfo)
        try:
            conn.execute(f"LISTEN {CHANNEL}")
        except BaseException:
            conn.close()
            raise
        return conn

    async def _read(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        pgconn = conn.pgconn
        while True:
            await trio.lowlevel.wait_readable(pgconn.socket)
            pgconn.consume_input()  # raises OperationalError once the server has closed the connection
            while (notice := pgconn.notifies()) is not None:
                if notice.relname.decode() == CHANNEL:
                    self.dispatch(notice.extra.decode(errors="replace"))
