"""SEARCH and SORT over stored messages: every key against a known mailbox, cheap keys before content keys,
a brute-force reference (Python's `email` package, its own date and set arithmetic) for random key trees,
and the sort orders of RFC 5256 / RFC 5957."""

from __future__ import annotations

import calendar
import datetime
import email
import email.header
import email.message
import email.policy
import email.utils
import itertools
import re
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockmail.imap import (
    MessageView,
    SearchKey,
    SeqRange,
    SequenceSet,
    SortKey,
    search_keys,
    sort_cc,
    sort_date,
    sort_display_from,
    sort_display_to,
    sort_from,
    sort_subject,
    sort_to,
)
from mockmail.imap._reader import Reader
from mockmail.imap._search import parse_search_keys
from mockmail.server import imap_fetch
from mockmail.server.imap_fetch import MessageCache
from mockmail.server.imap_search import Candidate, search, sort
from mockmail.store import Mailbox, MemoryStore, Message
from tests.imap.messages import ALTERNATIVE, ATTACHMENT, ENCODED, NESTED, NO_CONTENT_TYPE, PLAIN

SMALL = b"Subject: hi\r\n\r\nbody\r\n"


def utc(*fields: int) -> float:
    return float(calendar.timegm((*fields, 0, 0, 0)[:6]))


# seq: (content, flags, internal date); UID 3 is expunged, so seq 3 on has UID seq + 1.
MAILBOX = [
    (PLAIN, ("\\Seen", "\\Answered"), utc(2025, 3, 1, 10, 0, 0)),
    (ALTERNATIVE, ("\\Flagged", "$Label"), utc(2025, 3, 2, 23, 30, 0)),
    (ATTACHMENT, ("\\Seen", "\\Deleted"), utc(2025, 3, 3, 0, 0, 0)),
    (NESTED, ("\\Draft",), utc(2025, 3, 3, 23, 59, 59)),
    (ENCODED, ("\\Seen", "$label"), utc(2025, 3, 5, 12, 0, 0)),
    (NO_CONTENT_TYPE, (), utc(2025, 3, 6, 12, 0, 0)),
    (SMALL, ("\\Seen", "\\Flagged"), utc(2025, 3, 6, 12, 0, 0)),
]


def _fill(box: Mailbox, folder: str = "INBOX") -> list[Candidate]:
    for index, (content, flags, internaldate) in enumerate(MAILBOX):
        box.add_many([(content, None)], folder=folder, flags=flags, internaldate=internaldate)
        if index == 1:
            gone = box.add_many([(SMALL, None)], folder=folder)[0]
            box.expunge(folder, [gone.imap_uid])
    return [Candidate(seq, message) for seq, message in enumerate(box.folder_snapshot(folder), 1)]


@pytest.fixture(name="candidates", scope="module")
def _candidates() -> list[Candidate]:
    box = MemoryStore().put("bob", "pw")[0]
    box.create_folder("Archive")
    _fill(box)  # INBOX holds the same messages; the searches below run on Archive's
    return _fill(box, "Archive")


def keys(text: str) -> SearchKey:
    return parse_search_keys(Reader(text.encode("utf-8")), lambda raw: raw.decode("utf-8"))


def run(text: str, candidates: list[Candidate], saved: tuple[int, ...] = ()) -> list[int]:
    found = search(keys(text), candidates, MessageCache(), largest_uid=8, largest_seq=7, saved=saved)
    return [c.seq for c in found]


def test_the_mailbox_has_a_uid_gap(candidates: list[Candidate]) -> None:
    assert [c.message.imap_uid for c in candidates] == [1, 2, 4, 5, 6, 7, 8]
    assert {c.message.folder for c in candidates} == {"Archive"}


@pytest.mark.parametrize(
    ("text", "seqs"),
    [
        ("ALL", [1, 2, 3, 4, 5, 6, 7]),
        ("SEEN", [1, 3, 5, 7]),
        ("UNSEEN", [2, 4, 6]),
        ("ANSWERED", [1]),
        ("UNANSWERED", [2, 3, 4, 5, 6, 7]),
        ("FLAGGED", [2, 7]),
        ("UNFLAGGED", [1, 3, 4, 5, 6]),
        ("DELETED", [3]),
        ("UNDELETED", [1, 2, 4, 5, 6, 7]),
        ("DRAFT", [4]),
        ("UNDRAFT", [1, 2, 3, 5, 6, 7]),
        ("KEYWORD $Label", [2]),
        ("KEYWORD $label", [5]),
        ("UNKEYWORD $Label", [1, 3, 4, 5, 6, 7]),
        ("RECENT", []),
        ("NEW", []),
        ("OLD", [1, 2, 3, 4, 5, 6, 7]),
        ("BEFORE 3-Mar-2025", [1, 2]),
        ("ON 3-Mar-2025", [3, 4]),
        ("SINCE 3-Mar-2025", [3, 4, 5, 6, 7]),
        ("ON 6-Mar-2025", [6, 7]),
        ("SENTON 3-Feb-2025", [2]),
        ("SENTSINCE 4-Mar-2025", [3, 4, 5]),
        ("SENTBEFORE 1-Jan-2000", [1, 6]),
        ("SENTON 1-Jan-1999", [6]),
        ("FROM alice", [1]),
        ('FROM "José"', [5]),
        ('SUBJECT "café y"', [5]),
        ("SUBJECT shipped", [2, 4]),
        ("TO carol", [2]),
        ("CC EVE", [2]),
        ('BCC ""', []),
        ("HEADER Message-ID plain.1", [1]),
        ('HEADER Content-Type ""', [1, 2, 3, 4, 5]),
        ('HEADER X-Missing ""', []),
        ("BODY shipped", [2, 4]),
        ('BODY "café"', [5]),
        ("BODY Grace", []),
        ("TEXT Grace", [3]),
        ("TEXT lunch", [1]),
        ("SMALLER 22", [7]),
        ("LARGER 21", [1, 2, 3, 4, 5, 6]),
        ("LARGER 20", [1, 2, 3, 4, 5, 6, 7]),
        ("2:4", [2, 3, 4]),
        ("*", [7]),
        ("5:*", [5, 6, 7]),
        ("1,3,9", [1, 3]),
        ("UID 3", []),
        ("UID 2:4", [2, 3]),
        ("UID *", [7]),
        ("UID 9:*", [7]),
        ("OR SEEN FLAGGED", [1, 2, 3, 5, 7]),
        ("NOT SEEN", [2, 4, 6]),
        ("SEEN FLAGGED", [7]),
        ("SEEN (OR DELETED DRAFT)", [3]),
        ("(SEEN (NOT (SUBJECT hi))) UNDELETED", [1, 5]),
    ],
)
def test_keys(text: str, seqs: list[int], candidates: list[Candidate]) -> None:
    assert run(text, candidates) == seqs


def test_saved_result_is_uids(candidates: list[Candidate]) -> None:
    assert run("$", candidates, saved=(4, 6)) == [3, 5]
    assert run("UID $", candidates, saved=(4, 6)) == [3, 5]
    assert run("NOT $", candidates, saved=(4, 6)) == [1, 2, 4, 6, 7]
    assert run("$", candidates) == []


def test_cheap_keys_decide_before_any_parse(candidates: list[Candidate]) -> None:
    cache = MessageCache()
    search(keys("BODY shipped SEEN"), candidates, cache, largest_uid=8, largest_seq=7)
    assert cache.parses == 4  # only the seen ones were read
    cache = MessageCache()
    search(keys("OR BODY shipped SEEN"), candidates, cache, largest_uid=8, largest_seq=7)
    assert cache.parses == 3  # only the unseen ones
    cache = MessageCache()
    search(keys("NOT (TEXT x 1:2)"), candidates, cache, largest_uid=8, largest_seq=7)
    assert cache.parses == 2


def test_a_flag_search_over_ten_thousand_messages_parses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(content: bytes) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(imap_fetch, "parse_message", refuse)
    box = MemoryStore().put("bob", "pw")[0]
    messages = box.add_many([(SMALL, None)] * 10_000, flags=("\\Seen",))
    box.set_flags("INBOX", [messages[4].imap_uid], ["$Junk"])
    candidates = [Candidate(seq, m) for seq, m in enumerate(box.folder_snapshot("INBOX"), 1)]
    found = search(keys("UNSEEN UNDELETED LARGER 5 UID 1:*"), candidates, MessageCache(), largest_uid=10_000, largest_seq=10_000)
    assert [c.seq for c in found] == [5]


# --- a brute-force reference -----------------------------------------------------------------------


def _parsed(message: Message) -> email.message.Message:
    return email.message_from_bytes(message.content, policy=email.policy.compat32)


def _decoded_header(raw: str) -> str:
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", raw).strip()
    return str(email.header.make_header(email.header.decode_header(unfolded)))


def _texts(parsed: email.message.Message) -> Iterator[str]:
    for part in parsed.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        yield payload.decode(part.get_content_charset() or "utf-8", "replace")


def reference(key: SearchKey, c: Candidate, saved: frozenset[int]) -> bool:
    message = c.message
    match key:
        case search_keys.All():
            return True
        case search_keys.Flag(flag, present):
            if flag.startswith("\\"):
                return (flag.lower() in {f.lower() for f in message.flags}) == present
            return (flag in message.flags) == present
        case search_keys.Recent(present):
            return not present
        case search_keys.Larger(octets):
            return len(message.content) > octets
        case search_keys.Smaller(octets):
            return len(message.content) < octets
        case search_keys.Sequence(numbers):
            return message.imap_uid in saved if numbers.saved else c.seq in _expand(numbers, 7)
        case search_keys.Uid(uids):
            return message.imap_uid in saved if uids.saved else message.imap_uid in _expand(uids, 8)
        case search_keys.InternalDate(op, date):
            day = datetime.date(*time.gmtime(message.internaldate)[:3])
            return {"BEFORE": day < date, "ON": day == date, "SINCE": day >= date}[op.value]
        case search_keys.SentDate(op, date):
            raw = _parsed(message)["Date"]
            if raw is None:
                return False
            sent = email.utils.parsedate_to_datetime(raw).date()
            return {"BEFORE": sent < date, "ON": sent == date, "SINCE": sent >= date}[op.value]
        case search_keys.Header(field, value):
            values = _parsed(message).get_all(field) or []
            return any(value.casefold() in _decoded_header(v).casefold() for v in values)
        case search_keys.Body(value):
            return any(value.casefold() in text.casefold() for text in _texts(_parsed(message)))
        case search_keys.Text(value):
            parsed = _parsed(message)
            header = [f"{name}: {_decoded_header(v)}" for name, v in parsed.items()]
            return any(value.casefold() in text.casefold() for text in [*header, *_texts(parsed)])
        case search_keys.Not(inner):
            return not reference(inner, c, saved)
        case search_keys.Or(left, right):
            return reference(left, c, saved) or reference(right, c, saved)
        case search_keys.And(inner):
            return all(reference(k, c, saved) for k in inner)
    raise AssertionError(key)


def _expand(numbers: SequenceSet, largest: int) -> set[int]:
    out: set[int] = set()
    for r in numbers.ranges:
        ends = [largest if n is None else n for n in (r.start, r.end)]
        out.update(range(min(ends), max(ends) + 1))
    return out


WORDS = ["", "shipped", "ALICE", "order", "café", "Report", "lunch", "example", "fwd", "zzz", "Shipped.", "leche"]
FIELDS = ["FROM", "TO", "CC", "BCC", "SUBJECT", "MESSAGE-ID", "X-NONE", "CONTENT-TYPE", "REPLY-TO"]
FLAGS = ["\\Seen", "\\seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "$Label", "$label", "work"]
NEAR = [datetime.date(2025, 3, d) for d in range(1, 8)] + [
    datetime.date(2025, 2, 3),
    datetime.date(1997, 11, 21),
    datetime.date(1999, 1, 1),
]
DATES = st.one_of(st.sampled_from(NEAR), st.dates(datetime.date(1997, 11, 20), datetime.date(2025, 3, 8)))
NUMBER = st.one_of(st.none(), st.integers(1, 10))
SETS = st.one_of(
    st.lists(st.builds(SeqRange, NUMBER, NUMBER), min_size=1, max_size=3).map(lambda r: SequenceSet(tuple(r))),
    st.just(SequenceSet(saved=True)),
)
OPS = st.sampled_from(list(search_keys.DateOp))
LEAVES: st.SearchStrategy[SearchKey] = st.one_of(
    st.just(search_keys.All()),
    st.builds(search_keys.Flag, st.sampled_from(FLAGS), st.booleans()),
    st.builds(search_keys.Recent, st.booleans()),
    st.builds(search_keys.Larger, st.integers(0, 3000)),
    st.builds(search_keys.Smaller, st.integers(0, 3000)),
    st.builds(search_keys.Sequence, SETS),
    st.builds(search_keys.Uid, SETS),
    st.builds(search_keys.InternalDate, OPS, DATES),
    st.builds(search_keys.SentDate, OPS, DATES),
    st.builds(search_keys.Header, st.sampled_from(FIELDS), st.sampled_from(WORDS)),
    st.builds(search_keys.Body, st.sampled_from(WORDS)),
    st.builds(search_keys.Text, st.sampled_from(WORDS)),
)
TREES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(search_keys.Not, inner),
        st.builds(search_keys.Or, inner, inner),
        st.lists(inner, min_size=1, max_size=3).map(lambda k: search_keys.And(tuple(k))),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=TREES, saved=st.frozensets(st.integers(1, 9), max_size=3))
def test_search_equals_the_reference(key: SearchKey, saved: frozenset[int], candidates: list[Candidate]) -> None:
    found = search(key, candidates, MessageCache(), largest_uid=8, largest_seq=7, saved=sorted(saved))
    assert found == [c for c in candidates if reference(key, c, saved)]


# --- SORT ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "seqs"),
    [
        ([SortKey.ARRIVAL], [1, 2, 3, 4, 5, 6, 7]),
        ([(SortKey.ARRIVAL, True)], [6, 7, 5, 4, 3, 2, 1]),
        ([SortKey.SUBJECT], [5, 7, 1, 6, 3, 2, 4]),
        ([(SortKey.SUBJECT, True)], [2, 4, 3, 6, 1, 7, 5]),
        ([SortKey.FROM], [7, 1, 3, 4, 5, 2, 6]),
        ([SortKey.DATE], [1, 6, 2, 3, 4, 5, 7]),
        ([SortKey.DISPLAYFROM], [7, 1, 3, 4, 5, 6, 2]),
        ([SortKey.TO], [5, 6, 7, 1, 2, 3, 4]),
        ([SortKey.DISPLAYTO], [5, 6, 7, 1, 2, 3, 4]),
        ([SortKey.CC], [1, 3, 4, 5, 6, 7, 2]),
        ([(SortKey.CC, True), (SortKey.SIZE, False)], [2, 7, 6, 1, 5, 4, 3]),
        ([(SortKey.TO, False), (SortKey.ARRIVAL, True)], [6, 7, 5, 1, 2, 3, 4]),
        ([], [1, 2, 3, 4, 5, 6, 7]),
    ],
)
def test_sort(criteria: list[tuple[SortKey, bool] | SortKey], seqs: list[int], candidates: list[Candidate]) -> None:
    assert [c.seq for c in sort(criteria, candidates, MessageCache())] == seqs


def test_sort_sizes_are_as_stored(candidates: list[Candidate]) -> None:
    sizes = {c.seq: len(MAILBOX[c.seq - 1][0]) for c in candidates}
    expected = sorted(sizes, key=lambda seq: (sizes[seq], seq))
    assert [c.seq for c in sort([SortKey.SIZE], candidates, MessageCache())] == expected
    assert sizes[7] == 21 and expected[0] == 7


_KEY: dict[SortKey, Callable[[MessageView, Message], object]] = {
    SortKey.ARRIVAL: lambda view, m: m.internaldate,
    SortKey.SIZE: lambda view, m: m.size,
    SortKey.CC: lambda view, m: sort_cc(view),
    SortKey.DATE: lambda view, m: sort_date(view, m.internaldate),
    SortKey.FROM: lambda view, m: sort_from(view),
    SortKey.SUBJECT: lambda view, m: sort_subject(view),
    SortKey.TO: lambda view, m: sort_to(view),
    SortKey.DISPLAYFROM: lambda view, m: sort_display_from(view),
    SortKey.DISPLAYTO: lambda view, m: sort_display_to(view),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    criteria=st.lists(st.tuples(st.sampled_from(list(SortKey)), st.booleans()), max_size=4),
    picked=st.lists(st.integers(0, 6), unique=True),
)
def test_sort_is_an_ordered_permutation(
    criteria: list[tuple[SortKey, bool]], picked: list[int], candidates: list[Candidate]
) -> None:
    subset = [candidates[i] for i in picked]
    ordered = sort(criteria, subset, MessageCache())
    assert sorted(c.seq for c in ordered) == sorted(c.seq for c in subset)
    views = {c.seq: MessageView.parse(c.message.content) for c in subset}

    def values(c: Candidate) -> list[object]:
        return [_KEY[key](views[c.seq], c.message) for key, _ in criteria]

    for a, b in itertools.pairwise(ordered):
        va, vb = values(a), values(b)
        for (_, reverse), x, y in zip(criteria, va, vb, strict=True):
            if x != y:
                assert (x > y) if reverse else (x < y), (criteria, a.seq, b.seq)  # type: ignore[operator]
                break
        else:
            assert a.seq < b.seq
