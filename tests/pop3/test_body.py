"""mockmail/pop3/_body.py: the stored wire form, its octet counts, and TOP as a prefix of it."""

from __future__ import annotations

import random

import pytest

from mockmail.pop3 import StuffedBody, dot_stuff, unstuff
from mockmail.store import normalize_crlf


def random_message(rng: random.Random) -> bytes:
    pieces = [b"Subject: t", b"", b".", b"..", b"...x", b"a.b", b"", b".\r", b"x"]
    lines = [rng.choice(pieces) for _ in range(rng.randint(0, 12))]
    return normalize_crlf(b"\r\n".join(lines))


@pytest.mark.parametrize("seed", range(300))
def test_round_trip_and_sizes(seed: int) -> None:
    content = random_message(random.Random(seed))
    body = StuffedBody.stuff(content)
    assert body.wire == dot_stuff(content)
    assert body.size == len(content)
    assert body.content() == unstuff(body.wire) == content
    assert b"\r\n.\r\n" not in b"\r\n" + body.wire  # the terminator can never appear inside
    assert StuffedBody.of_wire(body.wire).size == body.size


@pytest.mark.parametrize("seed", range(100))
def test_top_is_a_stuffed_prefix_with_the_right_size(seed: int) -> None:
    rng = random.Random(seed)
    content = b"Subject: t\r\n.X: dotted header\r\n\r\n" + random_message(rng)
    body = StuffedBody.stuff(content)
    lines = rng.randint(0, 8)
    top = body.top(lines)
    assert body.wire.startswith(top.wire)
    assert top.size == len(top.content())
    head, _, rest = content.partition(b"\r\n\r\n")
    expected_body = b"".join(line + b"\r\n" for line in rest.split(b"\r\n")[:-1][:lines])
    assert top.content() == head + b"\r\n\r\n" + expected_body


def test_leading_dot_of_the_first_line() -> None:
    body = StuffedBody.stuff(b".first\r\n")
    assert body.wire == b"..first\r\n" and body.size == 8 and body.content() == b".first\r\n"


def test_equality_and_repr() -> None:
    assert StuffedBody.stuff(b"a\r\n") == StuffedBody.stuff(b"a\r\n")
    assert StuffedBody.stuff(b"a\r\n") != b"a\r\n"
    assert repr(StuffedBody.stuff(b"a\r\n")) == "StuffedBody(size=3)"
