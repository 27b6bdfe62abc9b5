"""mockmail/server/connection.py: the session driver answering real POP3 over in-memory streams."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
import trio
import trio.testing

from mockmail.pop3 import State
from mockmail.server.maildrop import MaildropLocks
from mockmail.server.pop3_session import Pop3Session
from mockmail.store import MemoryMailbox as Mailbox
from mockmail.store import MemoryStore as Store
from tests.wire import WireClient

from .conftest import MESSAGES, Connect, login

BOB_TOTAL = sum(len(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")) for raw in MESSAGES)


async def test_greeting_carries_an_apop_timestamp(connect: Connect) -> None:
    _, session = await connect()
    _, other = await connect()
    assert re.fullmatch(r"<\d+\.[0-9a-f]{8}\.\d+@[^>]+>", session.timestamp)
    assert session.timestamp != other.timestamp  # RFC 1939: a different timestamp every session


async def test_user_pass_login(connect: Connect) -> None:
    client, session = await connect()
    assert await login(client) == f"+OK bob has 2 messages ({BOB_TOTAL} octets)\r\n".encode()
    assert session.conn.state is State.TRANSACTION


@pytest.mark.parametrize(("user", "password"), [("bob", "wrong"), ("nobody", "s3cret"), ("bob", "S3CRET")])
async def test_failed_login_gets_auth_code_and_stays_usable(
    connect: Connect, user: str, password: str
) -> None:
    client, session = await connect()
    assert await login(client, user, password) == b"-ERR [AUTH] invalid user name or password\r\n"
    assert session.conn.state is State.AUTHORIZATION
    assert (await login(client)).startswith(b"+OK bob has 2 messages")


async def test_apop(connect: Connect) -> None:
    client, session = await connect()
    digest = hashlib.md5((session.timestamp + "s3cret").encode()).hexdigest()
    assert await client.cmd(f"APOP bob {'0' * 32}") == b"-ERR [AUTH] invalid user name or password\r\n"
    assert (await client.cmd(f"APOP bob {digest}")).startswith(b"+OK bob has 2 messages")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_auth_plain_with_initial_response(connect: Connect) -> None:
    client, _ = await connect()
    assert (await client.cmd("AUTH PLAIN " + b64(b"\0bob\0s3cret"))).startswith(b"+OK bob has")


async def test_auth_plain_with_continuation(connect: Connect) -> None:
    client, _ = await connect()
    assert await client.cmd("AUTH PLAIN") == b"+ \r\n"
    assert (await client.cmd(b64(b"bob\0bob\0s3cret"))).startswith(b"+OK bob has")


async def test_auth_plain_wrong_password_and_foreign_authzid(connect: Connect) -> None:
    client, _ = await connect()
    assert (
        await client.cmd("AUTH PLAIN " + b64(b"\0bob\0nope"))
        == b"-ERR [AUTH] invalid user name or password\r\n"
    )
    reply = await client.cmd("AUTH PLAIN " + b64(b"eve\0bob\0s3cret"))
    assert reply.startswith(b"-ERR PLAIN authorization identity")


async def test_auth_login(connect: Connect) -> None:
    client, _ = await connect()
    assert await client.cmd("AUTH LOGIN") == f"+ {b64(b'Username:')}\r\n".encode()
    assert await client.cmd(b64(b"bob")) == f"+ {b64(b'Password:')}\r\n".encode()
    assert (await client.cmd(b64(b"s3cret"))).startswith(b"+OK bob has")


async def test_auth_login_with_initial_user(connect: Connect) -> None:
    client, _ = await connect()
    assert await client.cmd(f"AUTH LOGIN {b64(b'bob')}") == f"+ {b64(b'Password:')}\r\n".encode()
    assert (await client.cmd(b64(b"s3cret"))).startswith(b"+OK bob has")


async def test_auth_cram_md5(connect: Connect) -> None:
    client, _ = await connect()
    challenge_line = await client.cmd("AUTH CRAM-MD5")
    assert challenge_line.startswith(b"+ ")
    challenge = base64.b64decode(challenge_line[2:].strip())
    assert re.fullmatch(rb"<\d+\.[0-9a-f]+\.\d+@[^>]+>", challenge)
    digest = hmac.new(b"s3cret", challenge, hashlib.md5).hexdigest()
    assert (await client.cmd(b64(f"bob {digest}".encode()))).startswith(b"+OK bob has")


async def test_auth_cancel_and_bad_base64(connect: Connect) -> None:
    client, session = await connect()
    await client.cmd("AUTH PLAIN")
    assert await client.cmd("*") == b"-ERR AUTH cancelled by client\r\n"
    await client.cmd("AUTH LOGIN")
    assert await client.cmd("!!!not-base64") == b"-ERR invalid base64 in SASL response\r\n"
    assert session.conn.state is State.AUTHORIZATION
    assert (await login(client)).startswith(b"+OK")


async def test_auth_unknown_mechanism_and_bare_auth(connect: Connect) -> None:
    client, _ = await connect()
    assert (await client.cmd("AUTH GSSAPI")).startswith(b"-ERR unsupported SASL mechanism")
    status, lines = await client.multi("AUTH")
    assert status.startswith(b"+OK")
    assert lines == [b"PLAIN", b"LOGIN", b"CRAM-MD5"]


async def test_capa_differs_by_state(connect: Connect) -> None:
    client, _ = await connect()
    _, before = await client.multi("CAPA")
    assert b"USER" in before and b"SASL PLAIN LOGIN CRAM-MD5" in before
    assert b"STLS" not in before  # no TLS configured
    for cap in (b"TOP", b"UIDL", b"RESP-CODES", b"AUTH-RESP-CODE", b"PIPELINING"):
        assert cap in before
    assert any(line.startswith(b"IMPLEMENTATION mockmail-") for line in before)
    await login(client)
    _, after = await client.multi("CAPA")
    assert b"USER" not in after and b"TOP" in after


async def test_stls_without_tls_is_refused(connect: Connect) -> None:
    client, session = await connect()
    assert await client.cmd("STLS") == b"-ERR STLS is not available: TLS is not configured on this server\r\n"
    assert session.conn.state is State.AUTHORIZATION


async def test_stat_list_uidl(connect: Connect, bob: Mailbox) -> None:
    client, _ = await connect()
    await login(client)
    sizes = [m.size for m in bob.listing()]
    uids = [m.uid for m in bob.listing()]
    assert await client.cmd("STAT") == f"+OK 2 {sum(sizes)}\r\n".encode()
    status, lines = await client.multi("LIST")
    assert status == f"+OK 2 messages ({sum(sizes)} octets)\r\n".encode()
    assert lines == [f"1 {sizes[0]}".encode(), f"2 {sizes[1]}".encode()]
    assert await client.cmd("LIST 2") == f"+OK 2 {sizes[1]}\r\n".encode()
    assert await client.cmd("LIST 3") == b"-ERR no such message 3 (maildrop has 2)\r\n"
    assert await client.cmd("LIST 0") == b"-ERR no such message 0 (maildrop has 2)\r\n"
    _, uid_lines = await client.multi("UIDL")
    assert uid_lines == [f"1 {uids[0]}".encode(), f"2 {uids[1]}".encode()]
    assert await client.cmd("UIDL 1") == f"+OK 1 {uids[0]}\r\n".encode()


async def test_retr_sends_exactly_the_listed_octets_dot_stuffed(connect: Connect) -> None:
    client, _ = await connect()
    await login(client)
    size = int((await client.cmd("LIST 2")).split()[2])
    status = await client.cmd("RETR 2")
    assert status == f"+OK {size} octets\r\n".encode()
    body = await client.multiline_body()
    assert b"\r\n..starts with a dot\r\n" in body  # stuffed on the wire
    unstuffed = body[:-3].replace(b"\r\n..", b"\r\n.")
    assert len(unstuffed) == size
    assert unstuffed == b"Subject: two\r\n\r\nline 1\r\n.starts with a dot\r\nline 3\r\n"
    assert b"\n" not in body.replace(b"\r\n", b"")  # no bare LF
    assert b"\r" not in body.replace(b"\r\n", b"")  # no bare CR


async def test_top(connect: Connect) -> None:
    client, _ = await connect()
    await login(client)
    _, lines = await client.multi("TOP 2 0")
    assert lines == [b"Subject: two", b""]
    _, lines = await client.multi("TOP 2 2")
    assert lines == [b"Subject: two", b"", b"line 1", b".starts with a dot"]
    _, lines = await client.multi("TOP 2 100")
    assert lines[-1] == b"line 3"
    assert await client.cmd("TOP 9 1") == b"-ERR no such message 9 (maildrop has 2)\r\n"


async def test_dele_rset_and_deleted_messages(connect: Connect, bob: Mailbox) -> None:
    client, _ = await connect()
    await login(client)
    size2 = bob.snapshot()[1].size
    assert await client.cmd("DELE 1") == b"+OK message 1 deleted\r\n"
    assert await client.cmd("DELE 1") == b"-ERR message 1 already deleted\r\n"
    assert await client.cmd("RETR 1") == b"-ERR message 1 already deleted\r\n"
    assert await client.cmd("TOP 1 0") == b"-ERR message 1 already deleted\r\n"
    assert await client.cmd("LIST 1") == b"-ERR message 1 already deleted\r\n"
    assert await client.cmd("UIDL 1") == b"-ERR message 1 already deleted\r\n"
    assert await client.cmd("STAT") == f"+OK 1 {size2}\r\n".encode()
    _, lines = await client.multi("LIST")
    assert lines == [f"2 {size2}".encode()]  # message numbers do not shift
    assert await client.cmd("RSET") == f"+OK maildrop has 2 messages ({BOB_TOTAL} octets)\r\n".encode()
    assert await client.cmd("STAT") == f"+OK 2 {BOB_TOTAL}\r\n".encode()
    assert bob.count == 2


async def test_quit_commits_deletions(connect: Connect, bob: Mailbox, locks: MaildropLocks) -> None:
    client, session = await connect()
    await login(client)
    keep = bob.snapshot()[1]
    await client.cmd("DELE 1")
    assert await client.cmd("QUIT") == b"+OK mockmail POP3 server signing off (1 messages left)\r\n"
    assert list(bob.listing()) == [keep]
    assert await client.at_eof()
    assert session.end_reason == "quit"
    assert locks.holder(bob) is None and locks.sessions(bob) == 0


async def test_vanishing_client_deletes_nothing(connect: Connect, bob: Mailbox, locks: MaildropLocks) -> None:
    client, session = await connect()
    await login(client)
    await client.cmd("DELE 1")
    await client.cmd("DELE 2")
    await client.stream.aclose()
    await trio.testing.wait_all_tasks_blocked()
    assert bob.count == 2
    assert session.end_reason == "client eof"
    assert locks.holder(bob) is None


async def test_quit_in_authorization(connect: Connect) -> None:
    client, session = await connect()
    assert await client.cmd("QUIT") == b"+OK mockmail POP3 server signing off\r\n"
    assert await client.at_eof()
    assert session.end_reason == "quit"


async def test_exclusive_lock_and_its_release(connect: Connect, bob: Mailbox, locks: MaildropLocks) -> None:
    first, _ = await connect()
    await login(first)
    second, _ = await connect()
    assert await login(second) == b"-ERR [IN-USE] maildrop of bob is locked by another session\r\n"
    await first.stream.aclose()  # dropped, not QUIT: the lock must still go
    await trio.testing.wait_all_tasks_blocked()
    assert locks.holder(bob) is None
    assert (await login(second)).startswith(b"+OK bob has 2")


async def test_other_mailboxes_are_not_locked(connect: Connect) -> None:
    first, _ = await connect()
    await login(first)
    other, _ = await connect()
    assert (await login(other, "eve", "other")).startswith(b"+OK eve has 0")


async def test_shared_sessions_see_their_snapshot(
    connect: Connect, bob: Mailbox, locks: MaildropLocks
) -> None:
    first, _ = await connect(exclusive_sessions=False)
    second, _ = await connect(exclusive_sessions=False)
    await login(first)
    await login(second)
    assert locks.sessions(bob) == 2 and locks.holder(bob) is None
    await first.cmd("DELE 1")
    await first.cmd("QUIT")
    assert bob.count == 1
    assert await second.cmd("STAT") == f"+OK 2 {BOB_TOTAL}\r\n".encode()  # its own snapshot
    assert await second.cmd("RETR 1") == b"-ERR message 1 is no longer in the maildrop\r\n"
    assert (await second.cmd("RETR 2")).startswith(b"+OK")
    await second.multiline_body()
    await second.cmd("DELE 1")  # marking a vanished message is harmless
    assert (await second.cmd("QUIT")).startswith(b"+OK")
    assert bob.count == 1


async def test_pipelined_commands_are_answered_in_order_in_one_write(connect: Connect) -> None:
    client, _ = await connect()
    await client.send(b"USER bob\r\nPASS s3cret\r\nSTAT\r\nLIST 1\r\nNOOP\r\nQUIT\r\n")
    data = b""
    while not data.endswith(b"signing off (2 messages left)\r\n"):
        chunk = await client.stream.receive_some(65536)
        assert chunk
        data += chunk
    lines = data.split(b"\r\n")[:-1]
    assert [line.split()[0] for line in lines] == [b"+OK"] * 6
    assert lines[2] == f"+OK 2 {BOB_TOTAL}".encode()


async def test_bad_lines_get_err_and_the_session_goes_on(connect: Connect) -> None:
    client, session = await connect()
    assert await client.cmd("") == b"-ERR empty command line\r\n"
    assert await client.cmd("HELO there") == b"-ERR unknown command 'HELO'\r\n"
    assert await client.cmd(b"\xff\xfe") == b"-ERR command line is not valid UTF-8\r\n"
    assert await client.cmd("STAT") == b"-ERR STAT not allowed in AUTHORIZATION state\r\n"
    assert (
        await client.cmd("USER " + "x" * 400) == b"-ERR line too long (limit 255 octets including CRLF)\r\n"
    )
    assert await client.cmd("PASS early") == b"-ERR PASS must follow a successful USER\r\n"
    await login(client)
    assert await client.cmd("USER bob") == b"-ERR USER not allowed in TRANSACTION state\r\n"
    assert await client.cmd("RETR x") == b"-ERR RETR: invalid message number 'x'\r\n"
    assert await client.cmd("NOOP") == b"+OK\r\n"
    assert session.conn.state is State.TRANSACTION


async def test_commands_are_case_insensitive(connect: Connect) -> None:
    client, _ = await connect()
    assert await client.cmd("user bob") == b"+OK send PASS for bob\r\n"
    assert (await client.cmd("pass s3cret")).startswith(b"+OK")
    assert (await client.cmd("stat")).startswith(b"+OK 2")


async def test_idle_timeout_closes_silently_and_commits_nothing(
    connect: Connect, bob: Mailbox, autojump_clock: trio.testing.MockClock, locks: MaildropLocks
) -> None:
    client, session = await connect(idle_timeout=600)
    await login(client)
    await client.cmd("DELE 1")
    start = trio.current_time()
    assert await client.at_eof()  # nothing was sent before the close (RFC 1939 section 3)
    # At least the full ten minutes (RFC 1939), at most IDLE_SLACK more.
    assert 600 <= trio.current_time() - start <= 601
    assert session.end_reason == "idle timeout"
    assert bob.count == 2
    assert locks.holder(bob) is None


async def test_any_command_resets_the_idle_timer(
    connect: Connect, autojump_clock: trio.testing.MockClock
) -> None:
    client, session = await connect(idle_timeout=600)
    for _ in range(3):
        await trio.sleep(500)
        assert await client.cmd("NOOP") == b"-ERR NOOP not allowed in AUTHORIZATION state\r\n"
    assert session.end_reason == "running"


async def trickle(client: WireClient, session: Pop3Session, data: bytes, *, within: float) -> None:
    """Send `data` one byte a second until it is sent, the session ends, or `within` seconds pass."""
    with trio.move_on_after(within):
        for byte in data:
            if session.end_reason != "running":
                return
            try:
                await client.stream.send_all(bytes([byte]))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return
            await trio.sleep(1)


async def test_a_trickling_client_is_cut_at_the_line_deadline(
    connect: Connect, autojump_clock: trio.testing.MockClock
) -> None:
    """One byte a second, never a CRLF: the bytes move no deadline; the line gets `line_timeout`."""
    client, session = await connect(idle_timeout=5, line_timeout=60)
    start = trio.current_time()
    await trickle(client, session, b"N" * 100, within=100)
    assert session.end_reason == "line timeout"
    assert trio.current_time() - start <= 7  # min(line, idle) = 5 s after the first byte, not 100


async def test_a_trickling_logged_in_client_loses_the_maildrop_lock(
    connect: Connect, bob: Mailbox, autojump_clock: trio.testing.MockClock, locks: MaildropLocks
) -> None:
    client, session = await connect(idle_timeout=600, line_timeout=30)
    await login(client)
    await client.cmd("DELE 1")
    assert locks.holder(bob) is session
    start = trio.current_time()
    await trickle(client, session, b"NOOP" * 20, within=700)
    assert session.end_reason == "line timeout"
    assert 30 <= trio.current_time() - start <= 32
    assert locks.holder(bob) is None and bob.count == 2  # unlocked, nothing deleted
    other, _ = await connect()
    assert (await login(other)).startswith(b"+OK")


async def test_autologout_counts_from_the_last_command_not_the_last_byte(
    connect: Connect, autojump_clock: trio.testing.MockClock
) -> None:
    client, session = await connect(idle_timeout=600, line_timeout=1000)
    assert (await client.cmd("CAPA")).startswith(b"+OK")
    await client.multiline_body()
    start = trio.current_time()
    await trio.sleep(500)
    await client.stream.send_all(b"NO")  # a line begins 500 s after the last command and never ends
    assert await client.at_eof()
    # The line's own deadline (1000 s, capped at 600) lies past the autologout, which still counts from CAPA.
    assert 600 <= trio.current_time() - start <= 601
    assert session.end_reason == "idle timeout"


async def test_a_slow_line_that_ends_in_time_is_answered_and_resets_the_timers(
    connect: Connect, autojump_clock: trio.testing.MockClock
) -> None:
    client, session = await connect(idle_timeout=600, line_timeout=30)
    for _ in range(3):
        for byte in b"NOOP":
            await client.stream.send_all(bytes([byte]))
            await trio.sleep(5)
        assert await client.cmd(b"") == b"-ERR NOOP not allowed in AUTHORIZATION state\r\n"
    # a complete command followed by half of the next one in the same write: the half gets its own deadline
    await client.stream.send_all(b"NOOP\r\nNO")
    assert await client.line() == b"-ERR NOOP not allowed in AUTHORIZATION state\r\n"
    start = trio.current_time()
    assert await client.at_eof()
    assert 30 <= trio.current_time() - start <= 31
    assert session.end_reason == "line timeout"


async def test_cancelled_session_commits_nothing_and_unlocks(
    store: Store, bob: Mailbox, locks: MaildropLocks
) -> None:
    from mockmail.server.driver import SessionConfig
    from mockmail.server.pop3_session import Pop3Session
    from tests.wire import WireClient

    client_stream, server_stream = trio.testing.memory_stream_pair()
    session = Pop3Session(server_stream, store, SessionConfig(locks=locks))
    client = WireClient(client_stream)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(session.run)
        await client.line()
        await login(client)
        await client.cmd("DELE 1")
        await client.send("QUI")  # half a command, then the server goes away
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert session.end_reason == "server shutdown"
    assert bob.count == 2
    assert locks.holder(bob) is None and locks.sessions(bob) == 0


async def test_internal_error_answers_sys_temp(connect: Connect, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockmail.pop3 import Noop
    from mockmail.server.pop3_session import Pop3Session

    def broken(self: Pop3Session, event: Noop) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(Pop3Session._HANDLERS, Noop, broken)
    client, session = await connect()
    await login(client)
    assert await client.cmd("NOOP") == b"-ERR [SYS/TEMP] internal server error\r\n"
    assert session.end_reason == "internal error"


async def test_message_removed_over_rest_answers_err(connect: Connect, bob: Mailbox) -> None:
    client, _ = await connect()
    await login(client)
    bob.purge()
    assert await client.cmd("RETR 1") == b"-ERR message 1 is no longer in the maildrop\r\n"
    assert (await client.cmd("QUIT")).startswith(b"+OK")


async def test_a_client_sending_only_garbage_is_closed(
    connect: Connect, bob: Mailbox, locks: MaildropLocks
) -> None:
    from mockmail.server.driver import BAD_COMMAND_BUDGET

    client, session = await connect()
    await login(client)
    for _ in range(BAD_COMMAND_BUDGET - 1):
        assert (await client.cmd("BOGUS")).startswith(b"-ERR unknown command")
    assert (await client.cmd("NOOP")) == b"+OK\r\n"  # an accepted command resets the count
    for _ in range(BAD_COMMAND_BUDGET - 1):
        await client.cmd("BOGUS")
    assert (
        await client.cmd("BOGUS") == f"-ERR {BAD_COMMAND_BUDGET} bad commands in a row, closing\r\n".encode()
    )
    assert await client.at_eof()
    assert session.end_reason == "too many bad commands"
    assert locks.holder(bob) is None and bob.count == 2


def test_locks_follow_the_mailbox_not_its_name(store: Store, locks: MaildropLocks) -> None:
    old = store.get("bob")
    holder = object()
    assert locks.acquire(old, holder, exclusive=True)
    assert not locks.acquire(old, object(), exclusive=True)  # [IN-USE]: nothing changed
    assert locks.sessions(old) == 1
    store.delete("bob")
    new, created = store.put("bob", "pw")
    assert created and locks.holder(new) is None and locks.acquire(new, object(), exclusive=True)
    locks.release(old, holder)
    assert locks.holder(old) is None and locks.sessions(old) == 0 and locks.sessions(new) == 1
