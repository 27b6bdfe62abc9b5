"""Every SMTP knob with every real client: what smtplib, Ruby Net::SMTP, curl and swaks do now must be what
the SMTP table in docs/faults.md says (exception class or exit code, and what was stored).  The table is
written by `python docs/smtp_reactions.py`; this keeps it true."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import trio

from mockmail.main import Running

from .external import require

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import smtp_reactions
from servers import Api

PLANS = smtp_reactions.plans()
DOCUMENTED = smtp_reactions.documented()


def test_the_table_covers_every_knob() -> None:
    assert list(DOCUMENTED) == list(PLANS)


@pytest.mark.parametrize("knob", list(PLANS))
async def test_clients_react_as_documented(server: Running, knob: str) -> None:
    for program in ("ruby", "curl", "swaks"):
        require(program)
    port = int(server.api_url.rsplit(":", 1)[1])
    index = list(PLANS).index(knob)
    cells = await trio.to_thread.run_sync(
        smtp_reactions.observe, Api(port), f"sr{index}", PLANS[knob], smtp_reactions.login_of(knob)
    )
    assert [smtp_reactions.essence(c) for c in cells] == [smtp_reactions.essence(c) for c in DOCUMENTED[knob]]
