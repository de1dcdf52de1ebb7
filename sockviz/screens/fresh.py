"""A fresh session shown in the widgets the screen has: each emptied as a new one starts.

A reset (and each restart of a lesson) used to make the session screen again, its 70 widgets and all:
the layout of a new screen and its first frame held the event loop 40 to 60 ms each, at every restart
of a lesson in front of a class (measured with the share benchmark's lesson). Emptied instead, only
what changes is drawn again. What a new screen had, an emptied one has: no rows, no lines, no socket to
choose, no capture, the timeline and wire views closed; the top bar and the fields keep what was typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sockviz.screens import classroom, views
from sockviz.screens.layout import LESSON, TIMELINE, WIRE

if TYPE_CHECKING:
    from sockviz.screens.session import SessionScreen


async def empty(screen: SessionScreen, *, lesson: bool) -> None:
    """Empty every widget of `screen` for its new session (`screen.session`, `screen.timeline`); `lesson`: a
    lesson loads next, so its panel stays where it is (hidden and shown again, the screen was laid out twice)."""
    screen.table.start_over()
    screen.event_log.start_over()
    if (panel := screen.built(LESSON)) is not None:  # one never opened is made with the next lesson
        panel.start_over(shown=lesson)
    for pane in screen.panes().values():
        await pane.start_over()
    if (timeline := screen.built(TIMELINE)) is not None:  # one never opened is made from the new timeline
        if timeline.display:
            views.toggle_timeline(timeline, screen.bottom, screen.table)
        timeline.start_over(screen.timeline, screen.session.now)
    screen.wire_waiting.clear()  # a follower's lines of the old session
    if (wire := screen.built(WIRE)) is not None:
        if wire.display:  # set though already hidden, it is a style of its own: a layout of the screen
            wire.display = False
            screen.bottom.set_class(False, "-wire")
        wire.start_over()
    screen.detail.show(None, None)
    if screen.following is not None:  # a follower that joined again: its bar no longer says it lost the lecturer
        screen.bar.show_sharing("")
        classroom.show_sharing(screen.bar, None, screen.following)
