"""Textual's lines (`Strip`) without the reference cycle two of its caches make of a line that is its own answer.

A Strip keeps small caches of what it was asked (its divisions at given cuts, its crops). Asked for a division at
its own length, or a crop-and-extend to what it already is, the answer is the strip itself, and the cache keeps
it: the strip then refers to itself, so once dropped it is not freed at once but left for the garbage collector.
The compositor divides every line it draws by the cuts of the widgets on that line, and a line of a widget that
spans its whole cut is such a line: in one run of the share benchmark (three rounds of the echo lesson, three
bursts) about 4,350 dropped lines were cycles, which with their caches and segments were about 68,000 of the
80,000 objects the collector freed, and what made its collections of the middle generation take 35 to 50 ms of
the lecturer's loop. Here such an answer is not cached (it costs nothing to give again), so a dropped line is
freed when the last widget lets go.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.style import Style
from textual.strip import Strip

_divide = Strip.divide
_crop_extend = Strip.crop_extend


def _divide_without_cycle(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    strips = _divide(self, cuts)
    if len(strips) == 1 and strips[0] is self:  # cut at its own length: Textual cached [self] under that cut
        self._divide_cache._cache.pop((self.cell_length,), None)
    return strips


def _crop_extend_without_cycle(self: Strip, start: int, end: int, style: Style | None) -> Strip:
    strip = _crop_extend(self, start, end, style)
    if strip is self:
        self._crop_extend_cache._cache.pop((start, end, style), None)
    return strip


def leave_no_cycles() -> None:
    """Make Textual's Strip give its own-answer divisions and crops without keeping them (once per process)."""
    Strip.divide = _divide_without_cycle  # type: ignore[method-assign]
    Strip.crop_extend = _crop_extend_without_cycle  # type: ignore[method-assign]
