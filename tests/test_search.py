"""mockmail/message/search.py: which messages a filter lets through."""

from __future__ import annotations

import pytest

from mockmail.message.search import MessageFilter
from mockmail.store import Envelope, Message
from mockmail.store.memory import MemoryMailbox

VERIFY = (
    b"From: =?utf-8?q?App_S=C3=BCpport?= <noreply@app.test>\r\nTo: Alice <alice@example.test>\r\n"
    b"Cc: audit@example.test\r\nSubject: verify\r\n tok-123\r\n"
    b"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nClick the link\r\nto verify your address.\r\n"
    b"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"<p>Hello <b>Al</b>ice, welcome to Stra=C3=9Fe</p>\r\n--b--\r\n"
)
OTHER = b"From: bob@example.test\r\nTo: carol@example.test\r\nSubject: Welcome, Alice!\r\n\r\nhi\r\n"


@pytest.fixture(name="messages")
def _messages() -> list[Message]:
    box = MemoryMailbox("alice", "pw")
    smtp = Envelope(
        mail_from="bounces@mailer.test",
        rcpt_to=["hidden@example.test"],
        peer="p",
        helo="h",
        tls=False,
        auth=None,
    )
    return [box.add(VERIFY), *box.add_many([(OTHER, None)], via="smtp", envelope=smtp)]


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


def test_count_without_a_filter_is_the_mailbox_count() -> None:
    box = MemoryMailbox("alice", "pw")
    box.add(OTHER)
    box.add(VERIFY)
    assert not MessageFilter.of() and MessageFilter.of().count(box) == 2
    assert MessageFilter.of(subject="verify").count(box) == 1


def test_a_malformed_recipient_field_is_read_raw() -> None:
    box = MemoryMailbox("alice", "pw")
    message = box.add(b"To: =?utf-8?q?broken <dave@example.test>\r\nSubject: x\r\n\r\nbody\r\n")
    assert MessageFilter.of(to="dave@example").matches(message)
