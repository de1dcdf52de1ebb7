"""The views a key shows or hides: the timeline, the wire, the projector layout, and the narrow layout.

Each toggle is a plain function of the widgets it touches, so the screen's actions stay one line each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events

from sockviz.widgets.step_pane import StepPane

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.containers import Horizontal
    from textual.message import Message
    from textual.screen import Screen
    from textual.widget import Widget
    from textual.widgets import RichLog

    from sockviz.core import Session
    from sockviz.widgets.timeline_view import TimelineView
    from sockviz.widgets.wire_pane import WirePane

NARROW = 110
"""Below this many columns for the log and the timeline (what the lesson panel beside them leaves), the log makes
room for the timeline: side by side, both would be too narrow to read."""


CRAMPED = 80
"""Below this many columns for the log and the wire (what a lesson's panel leaves: 40 at 80 columns), the wire takes
the log's place while it shows: side by side each got 20, and the log showed its times and nothing of its lines."""


def fit_width(bottom: Horizontal, width: int) -> None:
    """Only the bottom row changes: a class on the screen would restyle every widget, a cost start-up pays.
    A lesson's panel takes its own width first (130 columns less its 40 left the log 28 beside the timeline,
    each line half cut)."""
    panel = bottom.query("#narration")
    taken = 0
    if panel and panel.first().display:
        width_style = panel.first().styles.width
        taken = int(width_style.value) if width_style is not None else 0
    bottom.set_class(width - taken < NARROW, "-narrow")
    bottom.set_class(width - taken < CRAMPED, "-cramped")


def wire_shown(bottom: Horizontal, shown: bool) -> None:
    """The wire view shows or hides: beside a lesson's panel at 80 columns it takes the log's place (`CRAMPED`)."""
    fit_width(bottom, bottom.size.width or bottom.screen.size.width)  # a lesson may have come since the last
    bottom.set_class(shown, "-wire")


def toggle_timeline(view: TimelineView, bottom: Horizontal, table: Widget) -> None:
    """Show the timeline and give it the arrow keys; hide it and give them back."""
    view.display = not view.display
    fit_width(bottom, bottom.size.width or bottom.screen.size.width)  # a lesson may have come since the last
    bottom.set_class(view.display, "-timeline")
    (view if view.display else table).focus()


def toggle_projector(screen: Screen[None], table: Widget) -> None:
    """For the back row: the panes give their room to the table and the log; the step keys still work."""
    projector = not screen.has_class("-projector")
    screen.set_class(projector, "-projector")
    focused = screen.focused
    if projector and focused is not None and any(isinstance(node, StepPane) for node in focused.ancestors):
        table.focus()  # the focus was in a pane that is hidden now


def toggle_wire(wire: WirePane, session: Session, post: Callable[[Message], object]) -> bool:
    """Show the wire (its capture starts the first time and runs until it unmounts), or hide it.
    Whether it shows now: then `tell_size` it once the layout settles."""
    wire.display = not wire.display
    if wire.display:
        wire.start(session, post)
    return wire.display


def tell_size(log: RichLog) -> None:
    """Tell a log its size once a change of layout settles. A RichLog holds every line until its first
    Resize, and Textual 8 can lay out a widget that a refresh shows or narrows without sending it one
    (seen here about two times in three): the wire, or the log beside a lesson, stayed empty."""
    if log.display and log.size.width:
        log.post_message(events.Resize(log.size, log.virtual_size, log.container_size))
