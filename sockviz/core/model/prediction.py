"""What the kernel says a call will do before it runs: the hint on a step, checked against the call."""

from __future__ import annotations

from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Prediction(FrozenRecord):
    """What a call will do, in a word for the step and a sentence for the log."""

    blocks: bool
    short: str
    """At most 9 characters: `waits`, `2 ready`, `room`."""
    why: str
