"""Group commit under `--data-dir` (docs/scaling.md, the durability barrier): no acknowledgement goes out
before the commit that makes its change durable, and when that commit fails the client hears a temporary
failure and nothing of the change is kept.

The commit is made to fail for real: a second connection adds a table with a deferred foreign key and a
trigger that breaks it whenever a message row is written, so SQLite refuses the COMMIT (not the write).
"""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import trio

from mockmail.store.database import FILE_NAME
from tests.test_persistence import running

POISON = (
    "CREATE TABLE poison (mailbox INTEGER REFERENCES mailboxes (id) DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TRIGGER poisoned AFTER INSERT ON messages BEGIN INSERT INTO poison VALUES (-1); END",
)


def poison(data_dir: Path) -> None:
    """Make every later commit that stores a message fail (checked at COMMIT, not at the write)."""
    conn = sqlite3.connect(data_dir / FILE_NAME, timeout=10, isolation_level=None)
    try:
        for statement in POISON:
            conn.execute(statement)
    finally:
        conn.close()


def stored(data_dir: Path) -> int:
    """Message rows committed in the file, as another process would see them."""
    conn = sqlite3.connect(data_dir / FILE_NAME, timeout=10)
    try:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        conn.close()


def smtp_transaction(host: str, port: int) -> list[bytes]:
    """One message sent the way a pipelining client sends it: the replies to MAIL, RCPT, DATA and the
    message (fewer when the server closes first)."""
    with socket.create_connection((host, port), timeout=10) as sock:
        reader = sock.makefile("rb")
        reader.readline()  # the greeting
        sock.sendall(b"EHLO client.test\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        sock.sendall(
            b"MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\n"
            b"Subject: must not stay\r\n\r\nbody\r\n.\r\n"
        )
        replies = []
        while len(replies) < 4 and (line := reader.readline()):
            replies.append(line)
        return replies


async def test_an_smtp_message_whose_commit_fails_is_not_acknowledged(tmp_path: Path) -> None:
    async with running(tmp_path) as (_, rest):
        tenant = (await rest.post("/tenants", {"name": "acme", "smtp_auth": "none"})).json()
        assert (await rest.put("/tenants/acme/mailboxes/bob", {"password": "pw"})).status == 201
        await trio.to_thread.run_sync(poison, tmp_path)
        smtp = tenant["smtp"]
        replies = await trio.to_thread.run_sync(smtp_transaction, smtp["host"], smtp["port"])
        # No 250 for the message before its commit; the temporary failure in its place, then the end (what
        # came in the same read as the message was held with it, so MAIL/RCPT/DATA may get none either).
        assert replies[-1].startswith(b"421 4.3.0 "), replies
        assert [r[:4] for r in replies[:-1]] == [b"250 ", b"250 ", b"354 "][: len(replies) - 1], replies
        assert (await rest.get("/tenants/acme/mailboxes/bob/messages")).json() == []
        assert await trio.to_thread.run_sync(stored, tmp_path) == 0
        # The server goes on: REST writes that store no message still commit.
        assert (await rest.put("/tenants/acme/mailboxes/carol", {"password": "pw"})).status == 201


async def test_a_rest_write_whose_commit_fails_answers_503_and_keeps_nothing(tmp_path: Path) -> None:
    async with running(tmp_path) as (_, rest):
        await rest.post("/tenants", {"name": "acme"})
        assert (await rest.put("/tenants/acme/mailboxes/bob", {"password": "pw"})).status == 201
        await trio.to_thread.run_sync(poison, tmp_path)
        answer = await rest.post("/tenants/acme/mailboxes/bob/messages", [{"subject": "lost"}])
        assert answer.status == 503, answer.json()
        assert answer.json()["type"].endswith("store-unavailable")
        listed = await rest.get("/tenants/acme/mailboxes/bob/messages")
        assert (listed.status, listed.json()) == (200, [])
        assert await trio.to_thread.run_sync(stored, tmp_path) == 0


async def test_acknowledged_messages_are_committed_before_the_reply(tmp_path: Path) -> None:
    async with running(tmp_path) as (_, rest):
        tenant = (await rest.post("/tenants", {"name": "acme", "smtp_auth": "none"})).json()
        assert (await rest.put("/tenants/acme/mailboxes/bob", {"password": "pw"})).status == 201
        smtp = tenant["smtp"]
        replies = await trio.to_thread.run_sync(smtp_transaction, smtp["host"], smtp["port"])
        assert [r[:4] for r in replies] == [b"250 ", b"250 ", b"354 ", b"250 "], replies
        assert await trio.to_thread.run_sync(stored, tmp_path) == 1  # committed when the 250 came
