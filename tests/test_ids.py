"""`random_hex`: ids drawn in bulk from the OS's random source."""

from __future__ import annotations

import re

import pytest

from mockmail.message import ids
from mockmail.message.ids import random_hex


def test_hex_of_the_asked_length_and_unique_across_pool_refills() -> None:
    drawn = [random_hex(8) for _ in range(3 * ids._POOL_SIZE // 8 + 7)]  # crosses several refills
    assert all(re.fullmatch(r"[0-9a-f]{16}", value) for value in drawn)
    assert len(set(drawn)) == len(drawn)
    assert len(random_hex(1)) == 2 and len(random_hex(ids._POOL_SIZE)) == 2 * ids._POOL_SIZE


def test_an_id_never_straddles_a_refill() -> None:
    ids._offset = ids._POOL_SIZE - 3  # fewer octets left than asked for: a fresh pool serves the id
    assert len(random_hex(6)) == 12


@pytest.mark.parametrize("nbytes", [0, -1, ids._POOL_SIZE + 1])
def test_out_of_range_sizes_are_refused(nbytes: int) -> None:
    with pytest.raises(ValueError, match="nbytes"):
        random_hex(nbytes)
