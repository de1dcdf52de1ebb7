"""A scrolling widget's scrollbars moved to a new scrollable size, each repainted only if it changed.

Textual's `_scroll_update` (what its layout does when the scrollable size changes) repaints both
scrollbars whatever changed: the table's horizontal bar was drawn again for every new row, and each
bar is half a millisecond of a frame. Their sizes are reactive, so a bar whose numbers changed still
repaints itself.

The table's and the log's bars also keep the lines they drew for each look (`KeptScrollBar`): a lesson played
again repaints them with the sizes they had (a restart takes the table and the log back to nothing, the first
rows make them what they were), and each bar is about half a millisecond to draw, the three 1 to 1.5 ms of the
restart's frame. What a burst or a longer lesson brings is new, and drawn.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from textual.geometry import Size
from textual.scrollbar import ScrollBar
from textual.widget import Widget

from sockviz.widgets.kept_lines import KeepsLines

if TYPE_CHECKING:
    _Mixin = Widget
else:
    _Mixin = object  # not a widget class itself: Textual takes a widget's CSS type from its first widget base


def follow_scrollable_size(widget: Widget, size: Size) -> None:
    """As Textual's `Widget._scroll_update(size)`, without repainting a scrollbar that did not change."""
    widget._refresh_scrollbars()
    width, height = widget.container_size
    if widget.show_vertical_scrollbar and widget.styles.scrollbar_size_vertical:
        bar = widget.vertical_scrollbar
        bar.window_virtual_size = size.height
        bar.window_size = height - widget.scrollbar_size_horizontal
    if widget.show_horizontal_scrollbar and widget.styles.scrollbar_size_horizontal:
        bar = widget.horizontal_scrollbar
        bar.window_virtual_size = size.width
        bar.window_size = width - widget.scrollbar_size_vertical
    widget.scroll_x = widget.validate_scroll_x(widget.scroll_x)
    widget.scroll_y = widget.validate_scroll_y(widget.scroll_y)


class KeptScrollBar(KeepsLines, ScrollBar):
    """Textual's scrollbar, its lines kept for each look (`KeepsLines`)."""

    KEPT_LOOKS = 16
    """A log's bar takes a look for each of its lengths as a lesson's lines come: most of a round's."""

    def look(self) -> Hashable:
        """What Textual's `ScrollBar.render` draws from: the bar's numbers and state, and its widget's colours for
        scrollbars (the widget's styles, which change without the bar's: its focus, a theme)."""
        parent = self.parent
        colours = None
        if isinstance(parent, Widget):
            styles = parent.styles
            colours = (
                styles.scrollbar_background,
                styles.scrollbar_color,
                styles.scrollbar_background_hover,
                styles.scrollbar_color_hover,
                styles.scrollbar_background_active,
                styles.scrollbar_color_active,
                parent.background_colors,
                self.screen.styles.scrollbar_color.a,
            )
        numbers = (self.window_virtual_size, self.window_size, self.position, self.thickness, self.vertical)
        return numbers, self.grabbed is not None, self.mouse_over, colours


class KeepsScrollBarLines(_Mixin):
    """A mixin, before a scrolling Textual widget class: its scrollbars are `KeptScrollBar`s (made as Textual's
    `Widget.vertical_scrollbar` and `horizontal_scrollbar` make theirs)."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        if self._vertical_scrollbar is None:
            self._vertical_scrollbar = bar = KeptScrollBar(
                vertical=True, name="vertical", thickness=self.scrollbar_size_vertical
            )
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    @property
    def horizontal_scrollbar(self) -> ScrollBar:
        if self._horizontal_scrollbar is None:
            self._horizontal_scrollbar = bar = KeptScrollBar(
                vertical=False, name="horizontal", thickness=self.scrollbar_size_horizontal
            )
            bar.display = False
            self.app._start_widget(self, bar)
        return self._horizontal_scrollbar
