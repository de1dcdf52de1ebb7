"""A scrolling widget's scrollbars moved to a new scrollable size, each repainted only if it changed.

Textual's `_scroll_update` (what its layout does when the scrollable size changes) repaints both
scrollbars whatever changed: the table's horizontal bar was drawn again for every new row, and each
bar is half a millisecond of a frame. Their sizes are reactive, so a bar whose numbers changed still
repaints itself.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget


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
