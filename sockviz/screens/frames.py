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
"""

from __future__ import annotations

from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget


class PaintsWhatChanged(Screen[None]):
    """A Screen whose frames repaint only the widgets on screen (and new ones, as Textual's do), and no more than
    the widgets whose looks change when the focus moves."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """Textual's own (the focused widget), without the repaint of the whole screen at each move."""

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
