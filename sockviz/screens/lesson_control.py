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
    record: Callable[[Record], object],
    transport: Transport = Transport.TCP,
    held: HeldOver | None = None,
    moved: tuple[str, int] | None = None,
) -> None:
    """Write the log's welcome again, for the lesson's transport (the fresh session's said the switch's), and
    say how to play the lesson; `moved` is why it runs on another port, and that port. Once the lecturer has
    played a line its narration is in the log, and clearing it would lose it: then nothing is written.

    A log that says just that welcome already (each restart of a lesson: the fresh session's, with what the
    kernel holds) keeps it: cleared and written again, the same lines cost the restart a second wrap of the
    welcome and a repaint of the whole log. The log wraps its lines again itself when the panel narrows it."""
    if session.sockets or panel.started:
        return
    said = held.said() if held is not None else None  # what the kernel holds from before the reset
    first = [("start", welcome(transport), "guide")] + ([("start", said, "guide")] if said is not None else [])
    if log.says() != first:
        log.clear()
        log.note(session.now(), "start", welcome(transport))
        if held is not None:
            held_over.tell(held, log, session.now())
    if moved is not None:
        tell_moved(log, session, record, *moved)
    log.note(session.now(), "lesson", f"{title} is loaded. It pauses after each narration until you go on. "
             f"Keys: {panel.keys_line()}", kind="guide")  # fmt: skip


def lesson_loaded(find_panel: Callable[[], ScenarioPanel | None]) -> bool:
    """Whether a scenario is loaded: its keys exist only then, so space stays free otherwise."""
    try:
        panel = find_panel()
    except NoMatches:  # a reset is making the widgets again (the key panel asks meanwhile): none loaded yet
        return False
    return panel is not None and panel.loaded  # no panel: none was ever loaded (it is made with the first)


def tell_moved(log: EventLog, session: SessionView, record: Callable[[Record], object], why: str, port: int) -> None:
    """Why the lesson runs on `port`, not the bar's (the kernel holds that one where the lesson's bind() cannot
    get past it, lesson_port.py): in the log, and in the recording and the share as a `moved` record."""
    from sockviz.core.story.recording.records import Moved  # loaded with the first moved lesson

    log.note(session.now(), "lesson", why, kind="guide")
    record(Moved(session.now(), "lesson", why, "guide", port))
