"""mockmail/compose.py and mockmail/headers.py."""

from __future__ import annotations

import email
import email.policy
import re

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockmail.message.compose import compose, default_recipient, split_mbox
from mockmail.message.headers import looks_like_message, summarize
from mockmail.tenancy.specs import MessageSpec


def test_defaults() -> None:
    raw = compose(MessageSpec(), "bob")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["To"] == "bob@mockmail.test"
    assert msg["From"] == "mockmail <sender@mockmail.test>"
    assert msg["Message-ID"].endswith("@mockmail.test>")
    assert msg["Date"]
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_recipient_with_domain() -> None:
    assert default_recipient("bob@example.com") == "bob@example.com"


def test_html_only() -> None:
    msg = email.message_from_bytes(compose(MessageSpec(html="<b>x</b>"), "bob"), policy=email.policy.default)
    assert msg.get_content_type() == "text/html"


def test_mbox_unquotes_mboxrd() -> None:
    mbox = b"From x\nS: 1\n\n>From a\n>>From b\n> From c\n\nFrom y\nS: 2\n\nz\n"
    assert split_mbox(mbox) == [b"S: 1\n\nFrom a\n>From b\n> From c\n", b"S: 2\n\nz\n"]


def test_mbox_must_start_with_a_separator() -> None:
    with pytest.raises(ValueError, match="must start"):
        split_mbox(b"Subject: x\n\n")


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        (b"Subject: x\r\n\r\n", True),
        (b"X-Y:z\n", True),
        (b"", False),
        (b"no colon here\n", False),
        (b": empty name\n", False),
        (b"Sp ace: x\n", False),
    ],
)
def test_looks_like_message(raw: bytes, ok: bool) -> None:
    assert (looks_like_message(raw) is None) == ok


def test_summary_decodes_encoded_words_and_survives_bad_headers() -> None:
    summary = summarize(b"Subject: =?utf-8?b?w6lsw6k=?=\r\nFrom: =?bad\r\nDate: not a date\r\n\r\n")
    assert summary.subject == "élé"
    assert summary.date == "not a date"


SPECS = [
    {"subject": "hi", "text": "a\nb"},
    {},
    {"text": "x\n", "headers": {"X-A": "1"}},
    {"text": "line\r\nwith\rends\n\n", "to": ["a@b.c", "d@e.f"], "cc": ["g@h.i"], "from": "Billing <b@x.y>"},
    {"text": ".starts with a dot\nFrom here\n"},
    {"subject": "s" * 60, "text": "t" * 78},
]


@pytest.mark.parametrize("fields", SPECS)
def test_plain_path_equals_the_email_package(fields: dict[str, object]) -> None:
    import datetime
    import re

    import msgspec

    from mockmail.message.compose import _compose_mime, _compose_plain

    spec = msgspec.convert(
        {**fields, "date": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)}, MessageSpec
    )
    plain = _compose_plain(spec, "bob")
    assert plain is not None
    strip = re.compile(rb"Message-ID: <[^>]+>")
    assert strip.sub(b"", plain) == strip.sub(b"", _compose_mime(spec, "bob"))


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": "héllo"},
        {"text": "naïve"},
        {"subject": "s" * 80},
        {"text": "t" * 79},
        {"html": "<b>x</b>"},
        {"from": "Zoë <z@x.y>"},
    ],
)
def test_everything_else_takes_the_email_package(fields: dict[str, object]) -> None:
    import msgspec

    from mockmail.message.compose import _compose_plain

    assert _compose_plain(msgspec.convert(fields, MessageSpec), "bob") is None
    assert compose(msgspec.convert(fields, MessageSpec), "bob")  # and compose still makes one


@settings(max_examples=300, deadline=None)
@given(
    to=st.lists(
        st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40),
        min_size=1,
        max_size=8,
    ),
    html=st.booleans(),
)
def test_any_recipient_strings_make_a_message(to: list[str], html: bool) -> None:
    """A mock server holds odd mail faithfully: whatever strings a client puts in `to`, the message is
    composed (raw, as encoded words, or unparsed encoded words), never refused."""
    spec = msgspec.convert({"to": to, "subject": "s", **({"html": "<p>h</p>"} if html else {})}, MessageSpec)
    raw = compose(spec, "alice")
    assert (raw.endswith(b"\r\n") and b"\r\nTo:" in raw) or raw.startswith(b"To:") or b"\nTo:" in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "s"


_REF_SEPARATOR = re.compile(rb"^From [^\n]*\n?", re.MULTILINE)
_REF_QUOTED = re.compile(rb"^>(>*From )", re.MULTILINE)
_REF_TRAILING = re.compile(rb"(?:\r?\n)\r?\n\Z")


def reference_split(data: bytes) -> list[bytes]:
    """The mboxrd split written with one multi-line regex per rule (the reading `split_mbox` must match)."""
    separators = list(_REF_SEPARATOR.finditer(data))
    if not separators or separators[0].start() != 0:
        raise ValueError("no separator first")
    ends = [s.start() for s in separators[1:]] + [len(data)]
    return [
        _REF_QUOTED.sub(rb"\1", _REF_TRAILING.sub(b"\n", data[here.end() : end]))
        for here, end in zip(separators, ends, strict=True)
    ]


@settings(max_examples=2000, derandomize=True)
@given(
    st.lists(
        st.sampled_from(
            [b"From ", b"From x\n", b"\n", b"\r\n", b"\r", b">From ", b">>From a", b"a", b">", b"rom "]
        ),
        max_size=14,
    )
)
def test_split_mbox_agrees_with_the_regex_reading(parts: list[bytes]) -> None:
    data = b"".join(parts)
    try:
        expected: list[bytes] | None = reference_split(data)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError, match="must start with a 'From ' separator"):
            split_mbox(data)
    else:
        assert split_mbox(data) == expected
