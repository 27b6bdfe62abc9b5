"""mockmail/imap/_fetch.py: FETCH items, macros, sections and partial ranges."""

from __future__ import annotations

import pytest

from mockmail.imap import BadCommand, Fetch, FetchAttribute, FetchKind, Section, SectionText
from mockmail.imap._fetch import MACROS
from mockmail.imap._parser import parse_command


def items(spec: bytes) -> tuple[FetchAttribute, ...]:
    parsed = parse_command(b"t FETCH 1 " + spec)
    assert isinstance(parsed, Fetch), parsed
    return parsed.items


F = FetchAttribute
K = FetchKind


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (b"FLAGS", (F(K.FLAGS),)),
        (b"INTERNALDATE", (F(K.INTERNALDATE),)),
        (b"RFC822.SIZE", (F(K.RFC822_SIZE),)),
        (b"RFC822", (F(K.RFC822),)),
        (b"RFC822.HEADER", (F(K.RFC822_HEADER),)),
        (b"RFC822.TEXT", (F(K.RFC822_TEXT),)),
        (b"ENVELOPE", (F(K.ENVELOPE),)),
        (b"BODY", (F(K.BODY),)),
        (b"BODYSTRUCTURE", (F(K.BODYSTRUCTURE),)),
        (b"uid", (F(K.UID),)),
        (b"BODY[]", (F(K.BODY_SECTION, Section()),)),
        (b"BODY.PEEK[]", (F(K.BODY_SECTION, Section(), peek=True),)),
        (b"BODY[HEADER]", (F(K.BODY_SECTION, Section(text=SectionText.HEADER)),)),
        (b"BODY[TEXT]", (F(K.BODY_SECTION, Section(text=SectionText.TEXT)),)),
        (b"BODY[1]", (F(K.BODY_SECTION, Section((1,))),)),
        (b"BODY[1.2.3]", (F(K.BODY_SECTION, Section((1, 2, 3))),)),
        (b"BODY[2.MIME]", (F(K.BODY_SECTION, Section((2,), SectionText.MIME)),)),
        (b"BODY[1.HEADER]", (F(K.BODY_SECTION, Section((1,), SectionText.HEADER)),)),
        (b"BODY[1.2.TEXT]", (F(K.BODY_SECTION, Section((1, 2), SectionText.TEXT)),)),
        (
            b"BODY.PEEK[HEADER.FIELDS (From Subject Message-ID)]",
            (F(K.BODY_SECTION, Section((), SectionText.HEADER_FIELDS, ("FROM", "SUBJECT", "MESSAGE-ID")), peek=True),),
        ),
        (
            b'BODY[header.fields.not ("X-Spam" Received)]',
            (F(K.BODY_SECTION, Section((), SectionText.HEADER_FIELDS_NOT, ("X-SPAM", "RECEIVED"))),),
        ),
        (b"BODY[]<0.2048>", (F(K.BODY_SECTION, Section(partial=(0, 2048))),)),
        (b"BODY.PEEK[1]<100.10>", (F(K.BODY_SECTION, Section((1,), partial=(100, 10)), peek=True),)),
        (b"BINARY[1]", (F(K.BINARY, Section((1,))),)),
        (b"BINARY.PEEK[1.2]<0.10>", (F(K.BINARY, Section((1, 2), partial=(0, 10)), peek=True),)),
        (b"BINARY[]", (F(K.BINARY, Section()),)),
        (b"BINARY.SIZE[2]", (F(K.BINARY_SIZE, Section((2,))),)),
        (b"(FLAGS UID RFC822.SIZE)", (F(K.FLAGS), F(K.UID), F(K.RFC822_SIZE))),
        (b"ALL", MACROS["ALL"]),
        (b"FAST", (F(K.FLAGS), F(K.INTERNALDATE), F(K.RFC822_SIZE))),
        (b"full", (F(K.FLAGS), F(K.INTERNALDATE), F(K.RFC822_SIZE), F(K.ENVELOPE), F(K.BODY))),
        # zammad's fetch (Ruby Net::IMAP), and the iCloud variant
        (
            b"(RFC822.SIZE FLAGS INTERNALDATE RFC822.HEADER)",
            (F(K.RFC822_SIZE), F(K.FLAGS), F(K.INTERNALDATE), F(K.RFC822_HEADER)),
        ),
    ],
)
def test_fetch_items(spec: bytes, expected: tuple[FetchAttribute, ...]) -> None:
    assert items(spec) == expected


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        (b"BODY.PEEK[HEADER.FIELDS (From Subject)]<0.100>", "BODY[HEADER.FIELDS (FROM SUBJECT)]<0>"),
        (b"BODY[1.2]<512.100>", "BODY[1.2]<512>"),
        (b"BODY[]", "BODY[]"),
        (b"BINARY.PEEK[1]", "BINARY[1]"),
        (b"BINARY.SIZE[1]", "BINARY.SIZE[1]"),
        (b"RFC822.SIZE", "RFC822.SIZE"),
        (b"BODY", "BODY"),
    ],
)
def test_response_names(spec: bytes, name: str) -> None:
    (item,) = items(spec)
    assert item.response_name == name


def test_which_items_set_seen() -> None:
    seen = {item.response_name for item in items(b"(BODY[] BODY.PEEK[1] RFC822 RFC822.TEXT RFC822.HEADER BINARY[1] BINARY.PEEK[2] FLAGS)") if item.sets_seen}
    assert seen == {"BODY[]", "RFC822", "RFC822.TEXT", "BINARY[1]"}


@pytest.mark.parametrize(
    "spec",
    [b"BODY[", b"BODY[1.]", b"BODY[1.0]", b"BODY[01]", b"BODY[HEADER.FIELDS]", b"BODY[HEADER.FIELDS ()]",
     b"BODY[]<1>", b"BODY[]<1.>", b'BODY[HEADER.FIELDS ("a:b")]', b'BODY[HEADER.FIELDS ("a b")]', b"FLAGS[]", b"()", b"(FLAGS", b"ALL FLAGS", b"BODY[TEXT.MIME]"],
)
def test_fetch_refusals(spec: bytes) -> None:
    assert isinstance(parse_command(b"t FETCH 1 " + spec), BadCommand)
