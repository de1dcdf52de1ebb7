"""Where a front end looks in time: the span of one picture, and the window that follows or holds still.

No drawing here and no events: a `Span` is a stretch of seconds cut into columns, and the `Window`
decides which stretch its `view()` gives (following the present, or held to look back) and at which zoom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord, Record

SCALES = (
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.15,
    0.2,
    0.3,
    0.5,
    0.75,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
    10.0,
    15.0,
    30.0,
    60.0,
)
"""Seconds per column that a view can use: from a scenario played at full speed to a long lecture."""


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Span(FrozenRecord):
    """The stretch of time a picture shows: `columns` columns of `scale` seconds, ending at `end`."""

    end: float
    scale: float
    columns: int
    now: float
    """The session's time now: calls still running are drawn up to it."""

    @property
    def start(self) -> float:
        return self.end - self.columns * self.scale

    def column(self, at: float) -> int:
        return math.floor((at - self.start) / self.scale)


@dataclass(repr=False, eq=False)
class Window(Record):
    """Where a front end looks: following the present (the default), or held still to look back.

    A held window is a still picture of the moment it was held at: what happens later is
    not drawn until the window follows again. `scale` is None to fit the whole story in
    view while it is short enough, then follow.
    """

    scale: float | None = None
    held_at: float | None = None
    """The time at the right edge while the window is held; None while it follows."""
    held_now: float | None = None
    """The session's time when the window was held: the picture shows the story up to then."""

    @property
    def following(self) -> bool:
        return self.held_at is None

    def view(self, now: float, columns: int, latest: float | None = None) -> Span:
        columns = max(columns, 1)
        if self.held_at is not None and self.held_now is not None:
            scale = self.scale or fit(self.held_now, columns)
            return Span(self.held_at, scale, columns, self.held_now)
        story = max(now, latest or 0.0)
        scale = self.scale if self.scale is not None else fit(story, columns)
        return Span(max(story, columns * scale), scale, columns, now)

    def hold(self, view: Span) -> None:
        self.held_at, self.held_now, self.scale = view.end, view.now, view.scale

    def follow(self) -> None:
        self.held_at = self.held_now = self.scale = None

    def scroll(self, view: Span, columns: int) -> None:
        """Move by whole columns (negative is back in time); moving holds the window, and
        moving up to the present follows it again."""
        if self.held_at is None:
            self.hold(view)
        assert self.held_now is not None
        end = view.end + columns * view.scale
        if columns > 0 and end >= max(self.held_now, view.columns * view.scale):
            self.follow()
        else:
            self.held_at = max(end, view.columns * view.scale)

    def zoom(self, view: Span, steps: int) -> None:
        """Change the seconds per column along SCALES (positive steps show more time)."""
        index = min(range(len(SCALES)), key=lambda i: abs(SCALES[i] - view.scale))
        self.scale = SCALES[min(max(index + steps, 0), len(SCALES) - 1)]
        if self.held_at is not None:
            self.held_at = max(self.held_at, view.columns * self.scale)


def fit(story: float, columns: int) -> float:
    """The finest scale that shows `story` seconds in `columns` columns (the coarsest, when none can)."""
    return next((scale for scale in SCALES if scale * columns >= story * 1.05), SCALES[-1])
