"""SEARCH and SORT for the IMAP session: a search-key tree evaluated against stored messages (RFC 9051
section 6.4.4), and the RFC 5256 / RFC 5957 sort orders.

Search rules kept:
- The tree is compiled once into tests; in every AND group the cheap keys (flags, sequence numbers, UIDs,
  sizes, internal dates) run before the header keys, and those before BODY and TEXT, and each OR tries its
  cheaper side first, so a message is read and parsed only when a cheap key has not decided it already.
- Sequence numbers and UIDs: `*` is `largest_seq` (resp. `largest_uid`); a number naming no message simply
  matches nothing here (the session answers BAD for a sequence number over the message count first, if it
  wishes).  `$` (RFC 5182 SEARCHRES) is the saved result, given as UIDs in `saved`, both as a sequence set
  and as `UID $`.
- BEFORE/ON/SINCE compare the internal date's day in UTC, the server's zone; SENTBEFORE/SENTON/SENTSINCE
  the Date field's day in its own zone (a message without a readable Date matches none of them).
- Flags: system flags as the store spells them (`\\Seen`), matched without regard to case; keywords exactly,
  as the store keeps them.  No message is \\Recent in this server: RECENT matches none, OLD all, NEW none.
- FROM, TO, CC, BCC, SUBJECT, HEADER, BODY and TEXT are the message side's case-insensitive substring tests
  on decoded text (`header_contains`, `body_contains`, `text_contains`).

Sort rules kept (RFC 5256 section 3): each criterion compares one key (REVERSE turns only that one round);
messages still equal are in ascending sequence-number order.  ARRIVAL is the internal date, SIZE the
RFC822.SIZE, DATE the Date field in UTC (else the internal date), FROM/TO/CC the first address's mailbox,
SUBJECT the base subject, DISPLAYFROM/DISPLAYTO (RFC 5957) the display name or else the address.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..imap import (
    MessageView,
    SearchKey,
    SortKey,
    body_contains,
    header_contains,
    search_keys,
    sent_date,
    sort_cc,
    sort_date,
    sort_display_from,
    sort_display_to,
    sort_from,
    sort_subject,
    sort_to,
    text_contains,
)
from ..store import Message
from .imap_fetch import MessageCache

__all__ = ["Candidate", "search", "sort"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A message of the selected mailbox with its sequence number in the session."""

    seq: int
    message: Message


class _Subject:
    """The message being tested; its content and tree are read on first need only."""

    __slots__ = ("_cache", "_view", "candidate")

    def __init__(self, candidate: Candidate, cache: MessageCache) -> None:
        self.candidate = candidate
        self._cache = cache
        self._view: MessageView | None = None

    @property
    def view(self) -> MessageView:
        if self._view is None:
            self._view = self._cache.view(self.candidate.message)
        return self._view


_Test = Callable[[_Subject], bool]
_CHEAP, _HEADER, _CONTENT = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Context:
    largest_seq: int
    largest_uid: int
    saved: frozenset[int]


def _internal_day(message: Message) -> datetime.date:
    return datetime.datetime.fromtimestamp(int(message.internaldate), datetime.UTC).date()


def _flag_test(flag: str, present: bool) -> _Test:
    if flag.startswith("\\"):
        wanted = flag.lower()
        return lambda s: any(f.lower() == wanted for f in s.candidate.message.flags) is present
    return lambda s: (flag in s.candidate.message.flags) is present


def _compile(key: SearchKey, ctx: _Context) -> tuple[int, _Test]:
    """The test for `key` and its cost class (what it reads of a message)."""
    match key:
        case search_keys.All():
            return _CHEAP, lambda s: True
        case search_keys.Flag(flag, present):
            return _CHEAP, _flag_test(flag, present)
        case search_keys.Recent(present):
            return _CHEAP, (lambda s: False) if present else (lambda s: True)
        case search_keys.Larger(octets):
            return _CHEAP, lambda s: s.candidate.message.size > octets
        case search_keys.Smaller(octets):
            return _CHEAP, lambda s: s.candidate.message.size < octets
        case search_keys.Sequence(numbers) if numbers.saved:
            return _CHEAP, lambda s: s.candidate.message.imap_uid in ctx.saved
        case search_keys.Sequence(numbers):
            return _CHEAP, lambda s: numbers.contains(s.candidate.seq, ctx.largest_seq)
        case search_keys.Uid(uids) if uids.saved:
            return _CHEAP, lambda s: s.candidate.message.imap_uid in ctx.saved
        case search_keys.Uid(uids):
            return _CHEAP, lambda s: uids.contains(s.candidate.message.imap_uid, ctx.largest_uid)
        case search_keys.InternalDate(op, date):
            return _CHEAP, lambda s: op.test(_internal_day(s.candidate.message), date)
        case search_keys.SentDate(op, date):

            def sent(s: _Subject) -> bool:
                day = sent_date(s.view)
                return day is not None and op.test(day, date)

            return _HEADER, sent
        case search_keys.Header(field, value):
            return _HEADER, lambda s: header_contains(s.view, field, value)
        case search_keys.Body(value):
            return _CONTENT, lambda s: body_contains(s.view, value)
        case search_keys.Text(value):
            return _CONTENT, lambda s: text_contains(s.view, value)
        case search_keys.Not(inner):
            cost, test = _compile(inner, ctx)
            return cost, lambda s: not test(s)
        case search_keys.Or(left, right):
            (_, a), (cost_b, b) = sorted((_compile(left, ctx), _compile(right, ctx)), key=lambda p: p[0])
            return cost_b, lambda s: a(s) or b(s)
        case search_keys.And(keys):
            parts = sorted((_compile(k, ctx) for k in keys), key=lambda p: p[0])  # stable: cheap first
            tests = tuple(test for _, test in parts)
            return max((cost for cost, _ in parts), default=_CHEAP), lambda s: all(t(s) for t in tests)
    raise TypeError(f"no search for {type(key).__name__}")


def search(
    key: SearchKey,
    candidates: Sequence[Candidate],
    cache: MessageCache,
    *,
    largest_uid: int,
    largest_seq: int,
    saved: Sequence[int] = (),
) -> list[Candidate]:
    """The candidates `key` matches, in the order given.

    Args:
        largest_uid: what `*` means in `UID set` (the mailbox's largest UID).
        largest_seq: what `*` means in a sequence set (the message count).
        saved: the saved search result (RFC 5182 `$`) as UIDs.
    """
    _, test = _compile(key, _Context(largest_seq, largest_uid, frozenset(saved)))
    return [candidate for candidate in candidates if test(_Subject(candidate, cache))]


_SortValue = float | int | bytes
_VIEW_KEYS: dict[SortKey, Callable[[MessageView, Message], _SortValue]] = {
    SortKey.CC: lambda view, _: sort_cc(view),
    SortKey.DATE: lambda view, message: sort_date(view, message.internaldate),
    SortKey.FROM: lambda view, _: sort_from(view),
    SortKey.SUBJECT: lambda view, _: sort_subject(view),
    SortKey.TO: lambda view, _: sort_to(view),
    SortKey.DISPLAYFROM: lambda view, _: sort_display_from(view),
    SortKey.DISPLAYTO: lambda view, _: sort_display_to(view),
}


def sort(
    criteria: Sequence[tuple[SortKey, bool] | SortKey],
    candidates: Sequence[Candidate],
    cache: MessageCache,
) -> list[Candidate]:
    """`candidates` in the order of `criteria`, ties in ascending sequence-number order.

    Each criterion is `(key, reverse)`, as `Sort.criteria` holds them, or a bare key (not reversed).
    """
    pairs = [(c, False) if isinstance(c, SortKey) else c for c in criteria]
    subjects = [_Subject(candidate, cache) for candidate in candidates]
    ordered = sorted(subjects, key=lambda s: s.candidate.seq)
    for key, reverse in reversed(pairs):  # stable sorts, the least significant key first
        ordered.sort(key=_sort_value(key), reverse=reverse)
    return [s.candidate for s in ordered]


def _sort_value(key: SortKey) -> Callable[[_Subject], _SortValue]:
    if key is SortKey.ARRIVAL:
        return lambda s: s.candidate.message.internaldate
    if key is SortKey.SIZE:
        return lambda s: s.candidate.message.size
    read = _VIEW_KEYS[key]
    return lambda s: read(s.view, s.candidate.message)
