"""mockmail/message/search.py: which messages a filter lets through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockmail.message.search import MessageFilter
from mockmail.store import Database, Envelope, Mailbox, MemoryStore, Message, SqliteStore

VERIFY = (
    b"From: =?utf-8?q?App_S=C3=BCpport?= <noreply@app.test>\r\nTo: Alice <alice@example.test>\r\n"
    b"Cc: audit@example.test\r\nSubject: verify\r\n tok-123\r\n"
    b"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nClick the link\r\nto verify your address.\r\n"
    b"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"<p>Hello <b>Al</b>ice, welcome to Stra=C3=9Fe</p>\r\n--b--\r\n"
)
OTHER = b"From: bob@example.test\r\nTo: carol@example.test\r\nSubject: Welcome, Alice!\r\n\r\nhi\r\n"


@pytest.fixture(name="box", params=["memory", "sqlite"])
def _box(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Mailbox]:
    """An empty mailbox of each backend (a persistent store's messages read their content on use)."""
    if request.param == "memory":
        yield MemoryStore().put("alice", "pw")[0]
        return
    db = Database(tmp_path)
    yield SqliteStore(db, "acme").put("alice", "pw")[0]
    db.close()


@pytest.fixture(name="messages")
def _messages(box: Mailbox) -> list[Message]:
    smtp = Envelope(
        mail_from="bounces@mailer.test",
        rcpt_to=["hidden@example.test"],
        peer="p",
        helo="h",
        tls=False,
        auth=None,
    )
    box.add(VERIFY)
    box.add_many([(OTHER, None)], via="smtp", envelope=smtp)
    return box.listing()  # as the API reads them: from the store


def subjects(found: list[Message]) -> list[str]:
    return [m.summary.subject for m in found]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["verify tok-123", "Welcome, Alice!"]),
        ({"subject": "tok-123"}, ["verify tok-123"]),  # the whole subject is not needed
        ({"subject": "VERIFY   TOK"}, ["verify tok-123"]),  # case and white space runs do not matter
        ({"subject": "welcome"}, ["Welcome, Alice!"]),
        ({"subject": "Welcome, Alice!!"}, []),
        ({"sender": "süpport"}, ["verify tok-123"]),  # the From field decoded
        ({"sender": "BOUNCES@mailer"}, ["Welcome, Alice!"]),  # the envelope's MAIL FROM
        ({"to": "audit@"}, ["verify tok-123"]),  # Cc
        ({"to": "alice"}, ["verify tok-123"]),
        ({"to": "hidden@example.test"}, ["Welcome, Alice!"]),  # only in the envelope (a Bcc)
        ({"text": "link to verify"}, ["verify tok-123"]),  # across a line break
        ({"text": "hello alice"}, ["verify tok-123"]),  # the HTML's text, tags gone
        ({"text": "STRASSE"}, ["verify tok-123"]),  # decoded (quoted-printable, UTF-8), case folded
        ({"text": "<b>"}, []),  # markup is not text
        ({"text": "hi"}, ["Welcome, Alice!"]),
        ({"q": "alice"}, ["verify tok-123", "Welcome, Alice!"]),
        ({"q": "alice carol"}, ["Welcome, Alice!"]),  # every term, each anywhere
        ({"q": "noreply tok-123 straße"}, ["verify tok-123"]),
        ({"q": "alice nowhere"}, []),
        ({"subject": "welcome", "sender": "noreply"}, []),  # every filter
        ({"subject": "   "}, ["verify tok-123", "Welcome, Alice!"]),  # only white space: no filter
    ],
)
def test_filters(messages: list[Message], filters: dict[str, str], expected: list[str]) -> None:
    wanted = MessageFilter.of(**filters)
    assert subjects(wanted.select(messages)) == expected


def test_count_without_a_filter_is_the_mailbox_count(box: Mailbox) -> None:
    box.add(OTHER)
    box.add(VERIFY)
    assert not MessageFilter.of() and MessageFilter.of().count(box) == 2
    assert MessageFilter.of(subject="verify").count(box) == 1


def test_a_malformed_recipient_field_is_read_raw(box: Mailbox) -> None:
    message = box.add(b"To: =?utf-8?q?broken <dave@example.test>\r\nSubject: x\r\n\r\nbody\r\n")
    assert MessageFilter.of(to="dave@example").matches(message)


def test_a_verdict_is_reached_once_per_message_id(messages: list[Message]) -> None:
    wanted = MessageFilter.of(text="hi")
    judged: dict[str, bool] = {}
    assert subjects(wanted.select(messages, judged)) == ["Welcome, Alice!"]
    assert judged == {messages[0].id: False, messages[1].id: True}
    judged[messages[1].id] = False  # a verdict kept is not reached again
    assert wanted.select(messages, judged) == []
