"""`Knob`: the switch every fault shares (at most `times` firings, each with `probability`), and the
knobs both protocols' plans use."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = ["Knob", "LineEndingsFault", "Probability", "Times"]

Probability = Annotated[
    float, Meta(ge=0.0, le=1.0, description="Chance that the knob fires each time it is drawn.")
]
Times = Annotated[int, Meta(ge=1, le=1_000_000, description="Fire at most this many times; null: no limit.")]


class Knob(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A switch with the common limits: at most `times` firings, each with `probability`."""

    times: Times | None = None
    probability: Probability = 1.0


class LineEndingsFault(Knob, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`lf`: every line the server sends ends in a bare LF instead of CRLF."""

    mode: Literal["crlf", "lf"] = "lf"
