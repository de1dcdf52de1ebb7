"""A screen whose frames paint what changed: not widgets nobody can see, nor the whole screen for a move of focus.

Textual's compositor, given a repainted widget that is not on screen (a step scrolled out of its pane, the
socket list of a pane hidden until its first socket, a part of a hidden view), cannot tell it from a widget
just mounted, so it forgets its map of every widget's place, and the next frame works the map out again
for all 70 widgets: 3 ms at 160x50, in one frame of four while a lesson played (the share benchmark, per
turn). A widget out of sight has nothing to paint; it is drawn whole when it comes into view (a scroll or a
layout draws every widget it brings in, and its repaint still stands). Here such widgets are left out of the
frame's repaints: those the map places off the screen, and those hidden (display: none, theirs or a
parent's). A new widget, which the map does not have yet, is left to Textual as before.

Textual's Screen also repaints itself, and so every widget on it, whenever the focus moves (its `focused` is a
reactive that repaints): a whole frame of 70 widgets, 10 to 20 ms at 160x50, at each restart of a lesson (the
first step takes the focus back) and each escape from a field. The widgets that look different with the focus
(`:focus`, `:focus-within`) are restyled and repaint themselves as Textual moves it; here the screen does not
repaint for it besides.

Textual's compositor draws a frame by asking widgets for their lines, and asks every widget whose container
crosses the box around all of the frame's changes, for all of its lines on the changed rows: a step repainted
in the server's pane and another in the client's make a box as wide as the screen, so the table, the log and
every step between them are asked too (a frame that repainted one step asked 30 widgets, 2.2 ms at 160x50; the
table and the log together 8 ms). Here (`DrawsWhatChanged`) a widget is asked only for the lines that a
changed span crosses, and only if one does: 1.2 ms and 4.8 ms, and the frames' CPU in the share benchmark's
rounds 14 to 33% less. What the terminal is sent is the same, span for span.
"""

from __future__ import annotations

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.reactive import Reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget


class DrawsWhatChanged(Compositor):
    """Textual's compositor, whose frames ask only the widgets under the changed cells for their lines."""

    def render_partial_update(self) -> ChopsUpdate | None:
        """As Textual's: the changed spans of the screen's lines, each cut where widgets begin and end, the
        frontmost widget's piece for each cut. But a widget is asked only for its lines that a changed span
        crosses within its visible part, and only if one does, not for all of its lines on every changed row."""
        width, height = self.size
        spans = [
            (y, max(0, x1), min(width, x2))
            for y, x1, x2 in self._regions_to_spans(self._dirty_regions)
            if 0 <= y < height and x1 < width and x2 > 0
        ]
        self._dirty_regions.clear()
        if not spans:
            return None
        on_line: dict[int, list[tuple[int, int]]] = {}
        for y, x1, x2 in spans:
            on_line.setdefault(y, []).append((x1, x2))
        first, last = spans[0][0], spans[-1][0]
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(line_cuts[:-1]) for line_cuts in cuts]
        for widget, (region, clip) in self.visible_widgets.items():  # front to back
            x, y, visible_width, visible_height = region.intersection(clip)
            if not visible_width or y > last or y + visible_height <= first:
                continue
            right = x + visible_width
            lines = [
                line
                for line in range(max(y, first), min(y + visible_height, last + 1))
                if any(x1 < right and x2 > x for x1, x2 in on_line.get(line, ()))
            ]
            if not lines:
                continue
            top = lines[0]
            strips = widget.render_lines(Region(x - region.x, top - region.y, visible_width, lines[-1] + 1 - top))
            for line in lines:
                chops_line = chops[line]
                line_cuts = [cut for cut in cuts[line] if right >= cut >= x]
                pieces = strips[line - top].divide([cut - x for cut in line_cuts[1:]])
                for cut, piece in zip(line_cuts, pieces, strict=False):  # the frontmost piece of a cut is seen
                    if chops_line.get(cut) is None:
                        chops_line[cut] = piece
        return ChopsUpdate(chops, spans, [line_cuts[1:] for line_cuts in cuts])


class PaintsWhatChanged(Screen[None]):
    """A Screen whose frames repaint only the widgets on screen (and new ones, as Textual's do), no more than
    the widgets whose looks change when the focus moves, and draw only what changed (`DrawsWhatChanged`)."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """Textual's own (the focused widget), without the repaint of the whole screen at each move."""

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name, id, classes)
        self._compositor = DrawsWhatChanged()

    def _on_timer_update(self) -> None:
        self._leave_unseen()
        super()._on_timer_update()

    def _leave_unseen(self) -> None:
        dirty = self._dirty_widgets
        compositor = self._compositor
        if not dirty or compositor._full_map_invalidated:
            return  # the map is made again anyway
        visible = compositor.visible_widgets
        placed = compositor._full_map
        unseen = {widget for widget in dirty if widget not in visible and (widget in placed or self._hidden(widget))}
        dirty.difference_update(unseen)

    def _hidden(self, widget: Widget) -> bool:
        """Whether `widget` or a parent of it, below this screen, is not displayed."""
        node: Widget | None = widget
        while isinstance(node, Widget) and node is not self:
            if not node.display:
                return True
            node = node.parent if isinstance(node.parent, Widget) else None
        return False
