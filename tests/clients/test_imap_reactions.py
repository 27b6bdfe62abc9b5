"""Every IMAP knob with every real client: what imaplib, Ruby Net::IMAP (the helpdesk's sequence) and curl
do now must be what the IMAP table in docs/faults.md says (exception class or exit code, and what was
left).  The table is written by `python docs/imap_reactions.py`; this keeps it true."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import trio

from mockmail.faults import PROFILES, ImapFaultPlan
from mockmail.main import Running

from .external import require

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import imap_reactions
from servers import Api

PLANS = imap_reactions.plans()
DOCUMENTED = imap_reactions.documented()


def test_the_table_covers_every_knob_and_preset() -> None:
    assert list(DOCUMENTED) == list(PLANS)
    knobs = {field for imap in imap_reactions.KNOBS.values() for field in imap}
    assert knobs == set(ImapFaultPlan.__struct_fields__)
    imap_presets = {name for name, preset in PROFILES.items() if preset.plan.imap is not None}
    assert set(imap_reactions.PROFILES) == imap_presets


@pytest.mark.parametrize("knob", list(PLANS))
async def test_clients_react_as_documented(server: Running, knob: str) -> None:
    for program in ("ruby", "curl"):
        require(program)
    port = int(server.api_url.rsplit(":", 1)[1])
    index = list(PLANS).index(knob)
    cells = await trio.to_thread.run_sync(
        imap_reactions.observe, Api(port), f"ir{index}", PLANS[knob], knob.endswith(imap_reactions.EMPTY)
    )
    expected = [imap_reactions.essence(c) for c in DOCUMENTED[knob]]
    assert [imap_reactions.essence(c) for c in cells] == expected, cells
