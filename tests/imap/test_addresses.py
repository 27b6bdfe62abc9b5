"""RFC 5322 address lists as IMAP's four-part addresses (RFC 5322 appendix A examples among them)."""

from __future__ import annotations

import pytest

from mockmail.imap._addresses import Address, parse_addresses


def _a(name: bytes | None, mailbox: bytes | None, host: bytes | None, adl: bytes | None = None) -> Address:
    return Address(name=name, adl=adl, mailbox=mailbox, host=host)


GROUP_END = _a(None, None, None)

CASES = [
    (
        b'"Joe Q. Public" <john.q.public@example.com>',
        [_a(b"Joe Q. Public", b"john.q.public", b"example.com")],
    ),
    (
        b"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
        [
            _a(b"Mary Smith", b"mary", b"x.test"),
            _a(None, b"jdoe", b"example.org"),
            _a(b"Who?", b"one", b"y.test"),
        ],
    ),
    (
        b'<boss@nil.test>, "Giant; \\"Big\\" Box" <sysservices@example.net>',
        [_a(None, b"boss", b"nil.test"), _a(b'Giant; "Big" Box', b"sysservices", b"example.net")],
    ),
    (
        b"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
        [
            _a(None, b"A Group", None),
            _a(b"Ed Jones", b"c", b"a.test"),
            _a(None, b"joe", b"where.test"),
            _a(b"John", b"jdoe", b"one.test"),
            GROUP_END,
        ],
    ),
    (b"Undisclosed recipients:;", [_a(None, b"Undisclosed recipients", None), GROUP_END]),
    (
        b"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
        [_a(b"Pete", b"pete", b"silly.test")],
    ),
    (b"jdoe@example.org (John Doe)", [_a(b"John Doe", b"jdoe", b"example.org")]),
    (
        b"<@route.test,@two.test:user@host.test>",
        [_a(None, b"user", b"host.test", adl=b"@route.test,@two.test")],
    ),
    (b"=?utf-8?q?Jos=C3=A9?= <jose@example.es>", [_a(b"=?utf-8?q?Jos=C3=A9?=", b"jose", b"example.es")]),
    (b"localonly", [_a(None, b"localonly", b"MISSING_DOMAIN")]),
    (b"Name <>", [_a(b"Name", b"MISSING_MAILBOX", b"MISSING_DOMAIN")]),
    (b"<user@[192.0.2.1]>", [_a(None, b"user", b"[192.0.2.1]")]),
    (b"", []),
    (b" , ,", []),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_parse(value: bytes, expected: list[Address]) -> None:
    assert list(parse_addresses(value)) == expected


@pytest.mark.parametrize(
    "value", [b"<<@@>>", b'"unterminated', b"a:b:c;d;;", b"(((", b"<a@b", b"@@@", b">>><<<", b"g: <x@y>, (c"]
)
def test_garbage_never_raises_and_never_gives_a_nil_host_outside_groups(value: bytes) -> None:
    depth = 0
    for address in parse_addresses(value):
        if address.host is None:
            depth += 1 if address.mailbox is not None else -1
            assert address.name is None
        else:
            assert address.mailbox
    assert depth == 0
