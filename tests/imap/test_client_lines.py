"""Command lines as real clients write them, fed through a session in the state they are sent in.

The lines follow what Thunderbird, Python's imaplib and Ruby's Net::IMAP (the helpdesk's channel,
zammad's imap.rb: SORT (DATE) US-ASCII, rev1 RFC822.* items, STORE then EXPUNGE) send; each
must parse to the command named, never to a BadCommand.
"""

from __future__ import annotations

import pytest

from mockmail.imap import (
    Append,
    Authenticate,
    BadCommand,
    Capability,
    Command,
    Continuation,
    ContinuationNeeded,
    Enable,
    Expunge,
    Fetch,
    FetchKind,
    Id,
    Idle,
    ImapConnection,
    List,
    Login,
    Logout,
    Lsub,
    Move,
    Namespace,
    Noop,
    Search,
    Select,
    Sort,
    SortKey,
    Status,
    Store,
    StoreMode,
)
from mockmail.imap.search_keys import Flag, Not, Uid

from .helpers import greeted, logged_in, selected

THUNDERBIRD_HEADERS = (
    b"BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References "
    b"Newsgroups In-Reply-To Content-Type Reply-To)]"
)

CLIENT_LINES: list[tuple[str, bytes, type[Command]]] = [
    # Thunderbird
    ("greeted", b"1 capability", Capability),
    ("greeted", b"2 authenticate PLAIN", Authenticate),
    ("logged_in", b'3 ID ("name" "Thunderbird" "version" "128.5.0")', Id),
    ("logged_in", b"4 ENABLE UTF8=ACCEPT", Enable),
    ("logged_in", b'5 list (SUBSCRIBED) "" "*" RETURN (SPECIAL-USE)', List),
    ("logged_in", b'6 select "INBOX" (CONDSTORE)', Select),
    ("selected", b"7 UID fetch 1:* (FLAGS)", Fetch),
    ("selected", b"8 UID fetch 4:5,9 (UID RFC822.SIZE FLAGS " + THUNDERBIRD_HEADERS + b")", Fetch),
    ("selected", b"9 UID fetch 5 (UID RFC822.SIZE BODY.PEEK[]<0.10240>)", Fetch),
    ("selected", b"10 uid store 5 +Flags (\\Seen)", Store),
    ("selected", b'11 UID MOVE 5 "Trash"', Move),
    ("selected", b"12 IDLE", Idle),
    ("logged_in", b'13 lsub "" "*"', Lsub),
    ("logged_in", b"14 namespace", Namespace),
    ("logged_in", b'15 STATUS "Sent" (UIDNEXT MESSAGES UNSEEN RECENT)', Status),
    ("selected", b"16 noop", Noop),
    # Python imaplib
    ("greeted", b"ABCD1 CAPABILITY", Capability),
    ("greeted", b'ABCD2 LOGIN alice "p a\\"ss"', Login),
    ("logged_in", b"ABCD3 SELECT INBOX", Select),
    ("selected", b"ABCD4 SEARCH ALL", Search),
    ("selected", b"ABCD5 FETCH 1 (RFC822)", Fetch),
    ("selected", b"ABCD6 STORE 1 +FLAGS \\Deleted", Store),
    ("selected", b"ABCD7 EXPUNGE", Expunge),
    ("selected", b"ABCD8 UID SEARCH UNSEEN", Search),
    ("selected", b"ABCD9 LOGOUT", Logout),
    # Ruby Net::IMAP (the helpdesk's IMAP channel)
    ("greeted", b"RUBY0001 CAPABILITY", Capability),
    ("greeted", b"RUBY0002 LOGIN helpdesk secret", Login),
    ("logged_in", b"RUBY0003 SELECT &AMQ-rger", Select),
    ("selected", b"RUBY0004 SORT (DATE) US-ASCII NOT SEEN", Sort),
    ("selected", b"RUBY0005 SORT (DATE) US-ASCII UNSEEN", Sort),
    ("selected", b"RUBY0006 FETCH 1 (RFC822.SIZE FLAGS INTERNALDATE RFC822.HEADER)", Fetch),
    ("selected", b"RUBY0007 FETCH 1 (RFC822)", Fetch),
    ("selected", b"RUBY0008 FETCH 1 (BODY[])", Fetch),
    ("selected", b"RUBY0009 STORE 1 +FLAGS (\\Seen)", Store),
    ("selected", b"RUBY0010 STORE 1 +FLAGS (\\Deleted)", Store),
    ("selected", b"RUBY0011 EXPUNGE", Expunge),
    # Apple Mail
    ("logged_in", b'3.1 LIST "" ""', List),
    ("selected", b"5.1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)", Fetch),
]

SESSIONS = {"greeted": greeted, "logged_in": logged_in, "selected": selected}


@pytest.mark.parametrize(("state", "line", "kind"), CLIENT_LINES, ids=[line.decode()[:40] for _, line, _ in CLIENT_LINES])
def test_client_lines_parse(state: str, line: bytes, kind: type[Command]) -> None:
    conn: ImapConnection = SESSIONS[state]()
    conn.receive_data(line + b"\r\n")
    event = conn.next_event()
    assert not isinstance(event, BadCommand), event
    assert type(event) is kind


def test_the_helpdesk_sort_and_fetch_in_detail() -> None:
    conn = selected()
    conn.receive_data(b"R1 SORT (DATE) US-ASCII NOT SEEN\r\n")
    assert conn.next_event() == Sort(
        tag="R1", criteria=((SortKey.DATE, False),), charset="US-ASCII", search=Not(Flag("\\Seen"))
    )


def test_imaplib_style_store_keeps_the_flag() -> None:
    conn = selected()
    conn.receive_data(b"A6 STORE 1 +FLAGS \\Deleted\r\n")
    event = conn.next_event()
    assert isinstance(event, Store) and (event.mode, event.flags) == (StoreMode.ADD, ("\\Deleted",))


def test_thunderbird_header_fetch_items() -> None:
    conn = selected()
    conn.receive_data(b"8 UID fetch 4:5 (UID RFC822.SIZE FLAGS " + THUNDERBIRD_HEADERS + b")\r\n")
    event = conn.next_event()
    assert isinstance(event, Fetch) and event.uid
    header = event.items[-1]
    assert header.kind is FetchKind.BODY_SECTION and header.peek
    assert header.section is not None and header.section.fields[:3] == ("FROM", "TO", "CC")


def test_append_with_a_synchronizing_literal_like_imaplib() -> None:
    message = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    conn = logged_in()
    conn.receive_data(b'A7 APPEND INBOX (\\Seen) "06-Dec-2026 12:00:00 +0000" {%d}\r\n' % len(message))
    wanted = conn.next_event()
    assert wanted == ContinuationNeeded("A7", "APPEND", len(message))
    assert conn.send(Continuation("Ready for literal data")) == b"+ Ready for literal data\r\n"
    conn.receive_data(message + b"\r\n")
    event = conn.next_event()
    assert isinstance(event, Append) and event.message == message and event.flags == ("\\Seen",)


def test_uid_search_node() -> None:
    conn = selected()
    conn.receive_data(b"S UID SEARCH UID 10:*\r\n")
    event = conn.next_event()
    assert isinstance(event, Search) and isinstance(event.criteria, Uid)
