"""`Pop3Quirks`: the named departures from RFC 1939 that the core can be told to make.

The core is compliant unless handed quirks explicitly (`Pop3Connection.quirks`); there is no other switch.
Each quirk reproduces a behaviour of a real server that real clients met (mockmail/faults.py says which):

- `lax_states`: a command in the wrong state, or an unknown one, is answered `-ERR <CMD> not implemented`
  (the command as typed), and PASS is accepted without a USER before it (with an empty user name).
- `case_sensitive`: only upper-case commands are known.
- `go_float_sizes`: LIST sizes are written as Go writes a float64 under `%d`: `%!d(float64=5461)`.
- `dot_stuffing`: `all` (RFC), `retr-only` (TOP bodies unstuffed) or `none`.
- `disabled`: verbs the server does not know at all (older servers without UIDL, CAPA, APOP...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["COMPLIANT", "Pop3Quirks"]


@dataclass(frozen=True, slots=True)
class Pop3Quirks:
    lax_states: bool = False
    case_sensitive: bool = False
    go_float_sizes: bool = False
    dot_stuffing: Literal["all", "retr-only", "none"] = "all"
    disabled: frozenset[str] = frozenset()
    """Verbs the server does not know (answered as unknown commands)."""


COMPLIANT = Pop3Quirks()
