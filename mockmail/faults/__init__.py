"""Fault plans: how a tenant (or one mailbox) departs from RFC-compliant POP3, on purpose and reproducibly.

A plan is a msgspec struct; every field left out means "compliant" for that part.  Rules kept here:

- **Protocol quirks** (`quit`, `size_format`, `state_machine`, ...) describe how a server behaves for a
  whole session, so their `times` counts sessions: a session takes the quirks that fire when it starts,
  again at login (when the mailbox's own plan joins in), and again at its next command after the plan
  changes, which is how a change reaches open sessions.
- **Scripted replies** count occurrences: each matching command draws once.
- `probability` is drawn from the tenant's own `random.Random(seed)`, and only for knobs whose probability
  is below 1, so one seed and one command sequence give the same faults every time.
- A mailbox plan overrides the tenant plan field by field; its quirks apply from login on.
- Presets (`PROFILES`) are plans with a source; `{"profile": NAME}` expands to one, and fields given with it
  override the preset's.

Three ideas, three modules: `_schema.py` (the structs the REST API takes), `_presets.py` (the named plans)
and `_engine.py` (drawing them for sessions and commands).
"""

from __future__ import annotations

from ._engine import COMPLIANT, FaultState, SessionFaults
from ._imap import *  # noqa: F403  (the imap part's names: see _imap.__all__)
from ._imap import __all__ as _imap_names
from ._imap_engine import IMAP_COMPLIANT, ImapEngine, ImapSessionFaults
from ._knob import Knob, LineEndingsFault
from ._presets import PROFILES, Profile, UnknownProfile, expand
from ._schema import *  # noqa: F403  (the schema's names are the package's: see _schema.__all__)
from ._schema import __all__ as _schema_names
from ._smtp import *  # noqa: F403  (the smtp part's names: see _smtp.__all__)
from ._smtp import __all__ as _smtp_names
from ._smtp_engine import SMTP_COMPLIANT, SmtpEngine, SmtpSessionFaults

__all__ = [
    "COMPLIANT",
    "PROFILES",
    "FaultState",
    "Profile",
    "SessionFaults",
    "UnknownProfile",
    "SMTP_COMPLIANT",
    "Knob",
    "SmtpEngine",
    "SmtpSessionFaults",
    "LineEndingsFault",
    "IMAP_COMPLIANT",
    "ImapEngine",
    "ImapSessionFaults",
    "expand",
    *_schema_names,
    *_smtp_names,
    *_imap_names,
]
