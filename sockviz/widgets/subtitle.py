"""A border's subtitle changed by repainting only the border line it is on.

Textual's `border_subtitle` setter repaints the whole widget: a step pane's 30 lines, their border and
background (about 1 ms a pane), or the log's every line (as much again), for a few words on the bottom
border. The panes' "acts on" and the log's "next:" guide change with almost every step of a lesson, each
time in a frame of its own or added to a frame that is drawing the table and the log. Here the subtitle
is stored as the setter stores it and only the bottom border line is drawn again.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.widget import Widget

GUIDE_MARGIN = 6
"""Cells of a round bottom border that are not its subtitle's: the two corners, a line and a space each side."""


def set_subtitle(widget: Widget, text: str) -> None:
    """Set `widget.border_subtitle` to `text`, as Textual's setter does, repainting only the bottom line."""
    if widget.border_subtitle == text:
        return
    widget._border_subtitle = widget.render_str(text).expand_tabs(4).split()[0]  # what the setter stores
    if not widget.is_mounted or not widget.styles.border_bottom[0]:
        widget.refresh()  # no bottom border to draw it on (or not drawn yet): as the setter does
        return
    # Regions given to refresh() are in content coordinates: the bottom border is the line below the content.
    left = widget.content_offset.x
    widget.refresh(Region(-left, widget.content_size.height + widget.styles.padding.bottom, widget.size.width, 1))
