"""Widgets that keep the lines they drew for each look they take, and give them again when it comes back.

Textual draws a widget's lines again at every repaint, whatever it looked like before. A step's button takes
0.15 to 0.25 ms of a frame to draw, and a lesson's restart repaints every step of both panes (none can run
yet), a refresh that makes a pane's steps runnable most of them; the key bar's one line takes 0.5 to 2 ms,
and it is drawn again at every restart (the focus comes back to the first step). Together that was a third
of the restart's frame, 5 to 7 ms of its 16 at 160x50 (the share benchmark, per widget). Yet each of them
takes a few looks, over and over: a step runnable or not, under the cursor or not, with one of its hints.

Here the lines of each look are kept, a few looks a widget, by everything they depend on: what the widget
says and how (`look()`), the part of it asked for and its size, its pseudo-classes (focus, hover, disabled)
and classes, the colours behind it (its parents' backgrounds), the theme, and the link under the mouse. A
restyle of the widget forgets them all: its rules, or what the theme's variables mean, may have changed.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, ClassVar

from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip

if TYPE_CHECKING:
    from textual.widget import Widget

    _Mixin = Widget
else:
    _Mixin = object  # not a widget class itself: Textual takes a widget's CSS type from its first widget base


class KeepsLines(_Mixin):
    """A mixin, before a Textual widget class: its lines drawn once for each look, while its styles stand."""

    KEPT_LOOKS: ClassVar[int] = 8
    """How many looks' lines a widget keeps (a step has about six: runnable or not, focused or not, hints)."""
    _kept_lines: LRUCache[Hashable, list[Strip]] | None = None

    def look(self) -> Hashable:
        """What the widget's own lines say and how, besides its styles and size: equal looks draw equal lines."""
        raise NotImplementedError

    def render_lines(self, crop: Region) -> list[Strip]:
        kept = self._kept_lines
        if kept is None:
            kept = self._kept_lines = LRUCache(self.KEPT_LOOKS)
        key = (
            self.look(),
            crop,
            self.size,
            self.get_pseudo_class_state(),
            self.classes,
            self.background_colors,
            self.app.theme,
            self.hover_style,
        )
        lines = kept.get(key)
        if lines is None:
            self._draw_afresh()
            lines = kept[key] = super().render_lines(crop)
        return list(lines)

    def _draw_afresh(self) -> None:
        """Textual's own caches forgotten, so its next lines are drawn now: a look can change with no repaint asked
        (the key bar's keys when the focus moves, before its repaint comes), and Textual would give the lines it
        drew for the look before, which would then be kept as the new one's."""
        self._styles_cache.clear()
        self._dirty_regions.add(self.outer_size.region)

    def forget_lines(self) -> None:
        """Draw every look again from now on (a test's full repaint, which must not be given kept lines)."""
        if self._kept_lines is not None:
            self._kept_lines.clear()

    def notify_style_update(self) -> None:
        self.forget_lines()
        super().notify_style_update()
