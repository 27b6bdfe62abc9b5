"""Sequence sets (RFC 9051 section 9 `sequence-set`, RFC 5182 `$`): parse, resolve, render.

A set is a tuple of ranges; `*` is kept as `None` until the set is resolved against a mailbox, where it is
the largest message number (or the largest UID).  Rules kept here:
- Numbers are `nz-number`: 1 to 4,294,967,295 (RFC 9051 `nz-number`, 32 bits); 0 and garbage are refused.
- `n:m` means the same as `m:n` (RFC 9051 section 9, `seq-range`).
- Against sequence numbers, a number past the message count is an error, and so is `*` in an empty
  mailbox (RFC 9051 section 6.4.8 / RFC 3501 section 7.4.1: answer BAD).
- Against UIDs, numbers that name no message are simply not there; `*` is the largest UID, so `5:*` with a
  largest UID of 3 is `3:5` and contains 3 (RFC 9051 section 6.4.9).
- `$` (RFC 5182 SEARCHRES) is the saved search result; the session resolves it, not this module.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["MAX_NUMBER", "SeqRange", "SequenceError", "SequenceSet", "parse_sequence_set"]

MAX_NUMBER = 4_294_967_295
"""RFC 9051 `nz-number` / `number`: unsigned 32-bit."""


class SequenceError(ValueError):
    """A sequence set that is malformed, or names a message that does not exist."""


@dataclass(frozen=True, slots=True)
class SeqRange:
    """`start:end`, or a single number when both are equal; `None` stands for `*`."""

    start: int | None
    end: int | None

    def __str__(self) -> str:
        first = "*" if self.start is None else f"{self.start:d}"
        if self.start == self.end:
            return first
        return first + ":" + ("*" if self.end is None else f"{self.end:d}")

    def bounds(self, largest: int) -> tuple[int, int]:
        """The range with `*` replaced by `largest`, lower bound first."""
        low = largest if self.start is None else self.start
        high = largest if self.end is None else self.end
        return (low, high) if low <= high else (high, low)


@dataclass(frozen=True, slots=True)
class SequenceSet:
    """A parsed sequence set; `saved` is the `$` of RFC 5182 (the last saved SEARCH result)."""

    ranges: tuple[SeqRange, ...] = ()
    saved: bool = False

    def __str__(self) -> str:
        if self.saved:
            return "$"
        return ",".join(str(r) for r in self.ranges)

    @classmethod
    def from_numbers(cls, numbers: Iterable[int]) -> SequenceSet:
        """The shortest set of ranges covering exactly `numbers` (for COPYUID, ESEARCH ALL).

        Raises:
            SequenceError: a number is not between 1 and MAX_NUMBER.
        """
        ranges: list[SeqRange] = []
        start = previous = None
        for n in sorted(set(numbers)):
            if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_NUMBER:
                raise SequenceError(f"not a message number: {n!r}")
            if previous is not None and n == previous + 1:
                previous = n
                continue
            if start is not None:
                ranges.append(SeqRange(start, previous))
            start = previous = n
        if start is not None:
            ranges.append(SeqRange(start, previous))
        return cls(tuple(ranges))

    def resolve_sequence(self, count: int) -> tuple[int, ...]:
        """The message sequence numbers the set names in a mailbox of `count` messages, ascending.

        Raises:
            SequenceError: a number is over `count` (or `*` with no messages), or the set is `$`.
        """
        if self.saved:
            raise SequenceError("'$' is resolved by the session (the saved search result)")
        picked: set[int] = set()
        for r in self.ranges:
            if count == 0:
                raise SequenceError("no messages: every sequence number is invalid")
            low, high = r.bounds(count)
            if high > count:
                raise SequenceError(f"sequence number {high:d} is over the message count {count:d}")
            picked.update(range(low, high + 1))
        return tuple(sorted(picked))

    def resolve_uids(self, uids: Sequence[int]) -> tuple[int, ...]:
        """The UIDs of `uids` (ascending, as a mailbox keeps them) the set names, ascending.

        Raises:
            SequenceError: the set is `$`.
        """
        if self.saved:
            raise SequenceError("'$' is resolved by the session (the saved search result)")
        if not uids:
            return ()
        largest = uids[-1]
        picked: set[int] = set()
        for r in self.ranges:
            low, high = r.bounds(largest)
            picked.update(uids[bisect.bisect_left(uids, low) : bisect.bisect_right(uids, high)])
        return tuple(sorted(picked))

    def contains(self, number: int, largest: int) -> bool:
        """Whether `number` is in the set when `*` stands for `largest` (a search key's test)."""
        for r in self.ranges:
            low, high = r.bounds(largest)
            if low <= number <= high:
                return True
        return False


def _number(text: str) -> int | None:
    if text == "*":
        return None
    if not text or not text.isascii() or not text.isdigit():
        raise SequenceError(f"'{text[:20]}' is not a number or '*'")
    if text[0] == "0":
        raise SequenceError(f"'{text[:20]}' is not a nz-number (0 is no message)")
    value = int(text)
    if value > MAX_NUMBER:
        raise SequenceError(f"{text[:20]} is over the 32-bit limit")
    return value


def parse_sequence_set(text: str) -> SequenceSet:
    """Parse `1:*,5,7:9` (or `$`).

    Raises:
        SequenceError: the text is not a sequence set (the message says why).
    """
    if text == "$":
        return SequenceSet(saved=True)
    if not text:
        raise SequenceError("empty sequence set")
    ranges: list[SeqRange] = []
    for item in text.split(","):
        first, colon, second = item.partition(":")
        start = _number(first)
        end = _number(second) if colon else start
        ranges.append(SeqRange(start, end))
    return SequenceSet(tuple(ranges))
