"""`Placement`: fewest tenants first, reservations that answer a second creation, reports that replace."""

from __future__ import annotations

from mockmail.workers.placement import Placement


def test_a_new_tenant_goes_to_the_up_worker_with_the_fewest() -> None:
    placement = Placement(3)
    assert [placement.reserve(name, [0, 1, 2]) for name in "abc"] == [0, 1, 2]
    for name in "abc":
        placement.settle(name, created=True)
    assert placement.reserve("d", [1, 2]) == 1  # 0 is down: a tie between 1 and 2 goes to the lower id
    placement.settle("d", created=True)
    assert placement.reserve("e", [0, 1, 2]) == 0
    assert placement.counts() == [2, 2, 1]
    assert placement.reserve("f", []) is None and placement.owner("f") is None


def test_a_reserved_name_goes_to_its_worker_and_is_freed_when_creation_fails() -> None:
    placement = Placement(2)
    assert placement.reserve("a", [0, 1]) == 0
    assert not placement.placed("a") and placement.total() == 0
    assert placement.reserve("a", [1]) == 0  # the second creation meets the first one's worker
    placement.settle("a", created=False)
    assert placement.owner("a") is None and placement.counts() == [0, 0]
    assert placement.reserve("a", [1]) == 1
    placement.settle("a", created=True)
    assert placement.placed("a") and placement.total() == 1
    placement.forget("a")
    assert placement.owner("a") is None


def test_what_a_worker_reports_replaces_what_was_known_of_it() -> None:
    placement = Placement(2)
    placement.load(0, ["a", "b"])
    placement.load(1, ["c"])
    assert placement.reserve("d", [0, 1]) == 1  # pending: kept across a report
    placement.load(1, ["c", "e"])
    assert placement.load(0, ["b"]) is None
    assert {name: placement.owner(name) for name in "abcde"} == {"a": None, "b": 0, "c": 1, "d": 1, "e": 1}
    assert list(placement.order()) == ["b", "c", "d", "e"]
