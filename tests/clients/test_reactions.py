"""Every knob with every real client: what poplib, Ruby Net::POP3 and curl do now must be what the table in
docs/faults.md says (exception class or exit code, and what was left in the mailbox).  The table is written
by `python docs/reactions.py`; this keeps it true."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import trio

from mockmail.main import Running

from .external import require

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import reactions
from servers import Api

DOCUMENTED = reactions.documented()


def test_the_table_covers_every_knob() -> None:
    assert list(DOCUMENTED) == list(reactions.KNOBS)


@pytest.mark.parametrize("knob", list(reactions.KNOBS))
async def test_clients_react_as_documented(server: Running, knob: str) -> None:
    require("ruby")
    require("curl")
    port = int(server.api_url.rsplit(":", 1)[1])
    index = list(reactions.KNOBS).index(knob)
    cells = await trio.to_thread.run_sync(
        reactions.observe, Api(port), f"r{index}", reactions.KNOBS[knob], reactions.SHAPES.get(knob)
    )
    assert [reactions.essence(c) for c in cells] == [reactions.essence(c) for c in DOCUMENTED[knob]]
