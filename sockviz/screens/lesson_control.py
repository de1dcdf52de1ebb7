"""A scenario on the session screen: its welcome in the log, and which keys exist while one is loaded.

The panel (`ScenarioPanel`) plays the scenario; this module only says what the screen around it does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.css.query import NoMatches

from sockviz.core.model.transport import Transport
from sockviz.core.story.next_steps import welcome
from sockviz.screens import held_over

if TYPE_CHECKING:
    from collections.abc import Callable

    from sockviz.core.engine.view import SessionView
    from sockviz.core.story.recording.records import Record
    from sockviz.screens.held_over import HeldOver
    from sockviz.widgets.event_log import EventLog
    from sockviz.widgets.scenario_panel import ScenarioPanel


def welcome_to_lesson(
    log: EventLog,
    session: SessionView,
    panel: ScenarioPanel,
    title: str,
    transport: Transport = Transport.TCP,
    held: HeldOver | None = None,
    moved: str | None = None,
    record: Callable[[Record], object] | None = None,
    port: int | None = None,
) -> None:
    """Write the log's welcome again, now that the panel has taken its room beside the log (a log line
    keeps the width it was written at), and say how to play the lesson. Once the lecturer has played a
    line its narration is in the log, and clearing it would lose it: then nothing is written."""
    if session.sockets or panel.started:
        return
    log.clear()
    log.note(session.now(), "start", welcome(transport))
    if held is not None:  # what the kernel holds from before the reset that made room for the lesson
        held_over.tell(held, log, session.now())
    if moved is not None:  # the bar's port is held where the lesson's bind() cannot get past (lesson_port.py)
        log.note(session.now(), "lesson", moved, kind="guide")
        if record is not None and port is not None:
            from sockviz.core.story.recording.records import Moved

            record(Moved(session.now(), "lesson", moved, "guide", port))
    log.note(session.now(), "lesson", f"{title} is loaded. It pauses after each narration until you go on. "
             f"Keys: {panel.keys_line()}", kind="guide")  # fmt: skip


def lesson_loaded(find_panel: Callable[[], ScenarioPanel]) -> bool:
    """Whether a scenario is loaded: its keys exist only then, so space stays free otherwise."""
    try:
        return find_panel().loaded
    except NoMatches:  # a reset is making the widgets again (the key panel asks meanwhile): none loaded yet
        return False
