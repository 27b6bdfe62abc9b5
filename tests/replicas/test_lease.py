"""`LeaseBook` (mockmail/replicas/lease.py): deadlines counted from when a request was sent, and a lease
that never outlives what the database granted, whatever the order of grants, renewals and clock readings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockmail.replicas.lease import LeaseBook, margin_for


def test_a_grant_holds_until_sent_plus_seconds_minus_the_margin() -> None:
    book = LeaseBook(10.0, margin=1.0)
    book.granted("acme", 3, sent=100.0)
    assert book.generation("acme") == 3
    assert book.holds("acme", 100.0) and book.holds("acme", 108.99)
    assert not book.holds("acme", 109.0)  # sent + 10 - 1
    assert not book.holds("other", 100.0) and book.generation("other") is None


def test_a_reply_that_comes_late_counts_from_when_the_request_was_sent() -> None:
    book = LeaseBook(2.0, margin=0.0)
    book.granted("acme", 1, sent=50.0)
    # The reply arrives at 51.9 (the database granted until its now() + 2 at some moment after 50): the
    # book still ends at 52, never at 53.9.
    assert book.holds("acme", 51.9) and not book.holds("acme", 52.0)


def test_a_renewal_extends_what_came_back_and_loses_the_rest() -> None:
    book = LeaseBook(10.0, margin=1.0)
    book.granted("a", 1, sent=0.0)
    book.granted("b", 1, sent=0.0)
    lost = book.renewed(["a"], sent=5.0)
    assert lost == ["b"]
    assert book.holds("a", 13.5) and not book.holds("a", 14.0)
    assert "b" not in book and not book.holds("b", 1.0)


def test_a_tenant_granted_during_a_renewal_is_not_lost_by_it() -> None:
    book = LeaseBook(10.0, margin=1.0)
    book.granted("a", 1, sent=0.0)
    asked = list(book.generations())
    book.granted("new", 1, sent=1.0)  # claimed while the renewal was on the wire
    assert book.renewed(["a"], sent=0.5, asked=asked) == []
    assert book.holds("new", 9.9)


def test_a_renewal_sent_before_a_regrant_does_not_shorten_it() -> None:
    book = LeaseBook(10.0, margin=0.0)
    book.granted("a", 1, sent=0.0)
    asked = list(book.generations())
    book.granted("a", 2, sent=4.0)
    book.renewed(["a"], sent=1.0, asked=asked)
    assert book.holds("a", 13.9) and book.generation("a") == 2


def test_expired_takes_what_ran_out_out_of_the_book() -> None:
    book = LeaseBook(3.0, margin=0.5)
    book.granted("early", 1, sent=0.0)
    book.granted("late", 1, sent=1.0)
    assert book.next_deadline() == 2.5
    assert book.expired(2.4) == []
    assert book.expired(2.5) == ["early"]
    assert book.tenants() == ["late"] and book.next_deadline() == 3.5
    assert book.expired(100.0) == ["late"] and book.next_deadline() is None and len(book) == 0


def test_drop_forgets_a_lease() -> None:
    book = LeaseBook(3.0)
    book.granted("a", 7, sent=0.0)
    book.drop("a")
    book.drop("a")
    assert book.generation("a") is None and book.generations() == {}


def test_bad_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="more than 0 seconds"):
        LeaseBook(0)
    with pytest.raises(ValueError, match=r"the margin 5\.0 must be at least 0 and below 2\.0"):
        LeaseBook(2.0, margin=5.0)
    assert margin_for(10.0) == 1.0 and margin_for(0.5) == 0.1


Step = st.one_of(
    st.tuples(st.just("grant"), st.sampled_from("abc"), st.floats(0, 5)),
    st.tuples(st.just("renew"), st.sets(st.sampled_from("abc")), st.floats(0, 5)),
    st.tuples(st.just("wait"), st.just(""), st.floats(0, 5)),
)


@given(seconds=st.floats(0.5, 30), steps=st.lists(Step, max_size=30))
def test_the_book_never_holds_past_the_latest_grant_or_renewal_it_saw(
    seconds: float, steps: list[tuple[str, object, float]]
) -> None:
    """Model check: the book holds a tenant at `now` only if some grant or renewal that came back for it
    was sent after `now - seconds` (so the database's lease, which began later, still runs), and a
    renewal that did not come back ends the hold at once."""
    book = LeaseBook(seconds)
    now = 0.0
    last_sent: dict[str, float] = {}
    for kind, what, amount in steps:
        if kind == "wait":
            now += amount
            book.expired(now)
            continue
        sent = now
        now += amount  # the reply takes this long
        if kind == "grant":
            assert isinstance(what, str)
            book.granted(what, 1, sent)
            last_sent[what] = sent
        else:
            assert isinstance(what, set)
            asked = book.tenants()
            lost = book.renewed(what, sent, asked)
            assert set(lost) == set(asked) - what
            for name in asked:
                if name in what:
                    last_sent[name] = max(last_sent[name], sent)
                else:
                    del last_sent[name]
        for name in "abc":
            if book.holds(name, now):
                assert now < last_sent[name] + seconds - book.margin
