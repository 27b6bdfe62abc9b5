"""The MIME tree: offsets of every part, against Python's `email` package, and on hostile input."""

from __future__ import annotations

import email
import email.policy
from email.message import Message

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockmail.imap._mime_tree import MAX_DEPTH, MAX_PARTS, MessageView, MimePart, parse_message
from mockmail.imap._section import Section
from mockmail.imap._sections import section_bytes
from mockmail.store import normalize_crlf

from . import messages

REALISTIC = {
    "plain": messages.PLAIN,
    "alternative": messages.ALTERNATIVE,
    "attachment": messages.ATTACHMENT,
    "nested": messages.NESTED,
    "encoded": messages.ENCODED,
    "no_content_type": messages.NO_CONTENT_TYPE,
}


def _leaves(part: MimePart) -> list[MimePart]:
    return [p for p in part.walk() if not p.children and p.message is None]


def _python_leaves(message: Message) -> list[Message]:
    out: list[Message] = []
    for part in message.walk():
        if not part.is_multipart():
            out.append(part)
    return out


@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_leaf_bodies_match_python_email(name: str) -> None:
    content = REALISTIC[name]
    tree = parse_message(content)
    python = email.message_from_bytes(content, policy=email.policy.compat32)
    ours = [content[p.body_start : p.end] for p in _leaves(tree)]
    theirs = []
    for part in _python_leaves(python):
        payload = part.get_payload(decode=False)
        assert isinstance(payload, str)
        theirs.append(payload.encode("utf-8", "surrogateescape"))
    assert ours == theirs


@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_types_match_python_email(name: str) -> None:
    content = REALISTIC[name]
    ours = [(p.media_type + b"/" + p.subtype).decode().lower() for p in parse_message(content).walk()]
    python = email.message_from_bytes(content, policy=email.policy.compat32)
    theirs = [part.get_content_type() for part in python.walk()]
    assert ours == theirs


def test_offsets_of_a_multipart() -> None:
    content = messages.ALTERNATIVE
    tree = parse_message(content)
    assert content[tree.start : tree.body_start].endswith(b'boundary="==alt=="\r\n\r\n')
    plain, html = tree.children
    assert content[plain.start : plain.body_start] == (
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    assert content[plain.body_start : plain.end].endswith(b"Track it online.")
    assert content[html.end : html.end + 2] == b"\r\n"  # the CRLF before the delimiter is the delimiter's
    assert content[html.end + 2 :].startswith(b"--==alt==--")


def test_nested_message_has_its_own_tree_and_envelope() -> None:
    tree = parse_message(messages.NESTED)
    forwarded = tree.children[1]
    assert forwarded.message is not None
    inner = forwarded.message
    assert inner.envelope is not None and inner.envelope.message_id == b"<inner.5@shop.test>"
    assert [c.subtype for c in inner.children] == [b"plain", b"html"]
    assert forwarded.envelope is None  # the part is no message; what it carries is
    assert inner.start == forwarded.body_start and inner.end == forwarded.end


def test_digest_parts_default_to_message_rfc822() -> None:
    content = (
        b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: one\r\n\r\nfirst\r\n"
        b"--d\r\nContent-Type: text/plain\r\n\r\nnote\r\n--d--\r\n"
    )
    tree = parse_message(content)
    first, second = tree.children
    assert (first.media_type, first.subtype) == (b"message", b"rfc822")
    assert first.message is not None and first.message.envelope is not None
    assert first.message.envelope.subject == b"one"
    assert (second.media_type, second.subtype) == (b"text", b"plain")


def test_boundary_must_be_the_whole_line() -> None:
    content = b"Content-Type: multipart/mixed; boundary=ab\r\n\r\n--ab\r\n\r\none\r\n--abc\r\ntwo\r\n--ab  \r\n\r\nthree\r\n--ab--\r\n"
    parts = parse_message(content).children
    assert [content[p.body_start : p.end] for p in parts] == [b"one\r\n--abc\r\ntwo", b"three"]


def test_outer_boundary_ends_an_unterminated_inner_multipart() -> None:
    content = (
        b"Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\n"
        b"Content-Type: multipart/alternative; boundary=in\r\n\r\n--in\r\n\r\ninner\r\n"
        b"--out\r\n\r\nsecond\r\n--out--\r\n"
    )
    tree = parse_message(content)
    inner, second = tree.children
    assert [content[p.body_start : p.end] for p in inner.children] == [b"inner"]
    assert content[second.body_start : second.end] == b"second"


def test_multipart_without_boundary_or_delimiter_reads_as_text_plain() -> None:
    for header in (b"multipart/mixed", b"multipart/mixed; boundary=zz"):
        tree = parse_message(b"Content-Type: " + header + b"\r\n\r\nno parts\r\n")
        assert (tree.media_type, tree.subtype, tree.params, tree.children) == (b"text", b"plain", (), ())


def test_nesting_is_capped() -> None:
    depth = MAX_DEPTH + 20
    content = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(depth)
    )
    content += b"\r\ndeep\r\n"
    tree = parse_message(content)
    levels, part = 0, tree
    while part.children:
        levels, part = levels + 1, part.children[0]
    assert levels == MAX_DEPTH
    assert (part.media_type, part.subtype) == (b"application", b"octet-stream")


def test_message_rfc822_nesting_is_capped() -> None:
    content = b"Content-Type: message/rfc822\r\n\r\n" * (MAX_DEPTH + 5) + b"\r\nend\r\n"
    levels, part = 0, parse_message(content)
    while part.message is not None:
        levels, part = levels + 1, part.message
    assert levels == MAX_DEPTH


def test_part_count_is_capped() -> None:
    content = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\r\n\r\nx\r\n" * (MAX_PARTS + 50)
    tree = parse_message(content)
    assert len(tree.walk()) == MAX_PARTS


def test_hostile_message_parses() -> None:
    tree = parse_message(messages.HOSTILE)
    assert [(p.media_type, p.subtype) for p in tree.children] == [
        (b"text", b"plain"),
        (b"message", b"rfc822"),
        (b"text", b"plain"),
    ]
    last = tree.children[-1]
    assert last.end == len(messages.HOSTILE)  # unterminated: the last part runs to the end
    assert last.encoding == b"x-uuencode"


def test_empty_message() -> None:
    tree = parse_message(b"")
    assert (tree.start, tree.body_start, tree.end, tree.lines) == (0, 0, 0, 0)


_octets = st.sampled_from(
    [b"--b", b"--b--", b"\r\n", b"\r\n\r\n", b"Content-Type: multipart/mixed; boundary=b", b"Content-Type: message/rfc822",
     b"Content-Type: text/plain", b": ", b" ", b"\t", b"x", b"\xff", b"\x00", b"Subject: s", b"From: <a@b>", b"--"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.lists(_octets, max_size=40).map(b"".join)))
def test_any_octets_build_a_tree_inside_the_message(raw: bytes) -> None:
    content = normalize_crlf(raw)
    view = MessageView.parse(content)
    assert section_bytes(view, Section()) == content
    for part in view.tree.walk():
        assert 0 <= part.start <= part.body_start <= part.end <= len(content)
        for child in part.children:
            assert part.body_start <= child.start and child.end <= part.end
        if part.message is not None:
            assert (part.message.start, part.message.end) == (part.body_start, part.end)
