"""The session screen's keys that change what it shows, not what runs: the views, the family and transport
switches, and a loaded lesson's play, step and speed keys.

Parts of `SessionScreen` (see session_base.py); the work behind each key is a plain function in
views.py or lesson_control.py, or the widget's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on

from sockviz.core import Endpoint
from sockviz.core.model.transport import Transport
from sockviz.core.story.next_steps import welcome
from sockviz.messages import Narrated, ScenarioState
from sockviz.screens import classroom, lesson_control, step_fields, views
from sockviz.screens.layout import LESSON
from sockviz.screens.predict import ask_before_lesson_line
from sockviz.screens.session_base import ScreenBase

if TYPE_CHECKING:
    from sockviz.core.scenario.language import Line
    from sockviz.widgets.scenario_panel import ScenarioPanel


class ViewKeys(ScreenBase):
    """The session screen's part that shows and hides its views and flips its switches."""

    def action_toggle_family(self) -> None:
        if not self._follower_says_why("toggle_family"):
            self.bar.toggle_family()

    def action_toggle_transport(self) -> None:
        if not self._follower_says_why("toggle_transport"):
            self.bar.toggle_transport()

    def _follower_says_why(self, action: str) -> bool:
        """A follower's bar shows the lecturer's address: its switches stay as the lecturer's, and say why."""
        if self.following is None:
            return False
        self.notify(classroom.FOLLOWER_SWITCHES[action], title="following", markup=False)
        return True

    @property
    def transport(self) -> Transport:
        """What socket() makes now: the top bar's switch."""
        return self.bar.transport

    @transport.setter
    def transport(self, transport: Transport) -> None:
        self.bar.transport = transport

    def _transport_switched(self, transport: Transport) -> None:
        """The panes name the calls the switch's transport makes (`recvfrom()`), and what may run has changed.
        Before the first socket the log's one guide is the welcome, for the transport it was written for: the
        new transport's is said (after 0 on UDP and d, the log told a TCP session to bind and expect no listen())."""
        for pane in self.panes().values():
            pane.show_transport(transport)
        step_fields.show_refusals(self.session, self.bar, self.panes())
        if self.live is not None and not self.session.sockets:
            self.event_log.note(self.session.now(), "start", welcome(transport, self.only))

    def action_toggle_timeline(self) -> None:
        views.toggle_timeline(self.timeline_view, self.bottom, self.table)

    def action_toggle_projector(self) -> None:
        views.toggle_projector(self, self.table)

    def action_toggle_wire(self) -> None:
        live, wire = self.live, self.wire  # made at the first `w`
        if live is None:
            if classroom.toggle_lecturers_wire(wire):
                self.call_after_refresh(views.tell_size, wire)
        elif views.toggle_wire(wire, live, self.post_message):
            self.call_after_refresh(views.tell_size, wire)
        views.wire_shown(self.bottom, wire.display)

    def action_leave_field(self) -> None:
        self.table.focus()


class LessonKeys(ScreenBase):
    """The session screen's part that loads a checked scenario and plays it."""

    def load_scenario(self, title: str, lines: list[Line], endpoint: Endpoint) -> None:
        """Get a checked scenario ready to play, paused. On a session with no sockets yet (a lesson always
        loads on one), the log's welcome is written again once the panel has taken its room beside it; where
        the lesson runs comes from its worker (`ScenarioPanel.Placed`)."""
        live = self.live
        if live is None:
            return  # a follower's lesson is the lecturer's: its narration comes in the log
        panel = self.scenario_panel  # made with the first lesson
        panel.load(title, lines, live, endpoint)
        panel.predicting = lambda: self.predict_mode.on  # read in the player's thread
        if not self.session.sockets:
            self.call_after_refresh(self._welcome_to_lesson, title)

    def on_scenario_panel_placed(self, placed: ScenarioPanel.Placed) -> None:
        """The lesson runs on another port than the bar's, as the kernel holds that one: the bar shows it and the
        log says why, in the welcome if it is still to be written (or written again), else after what is there."""
        if placed.moved is None or placed.player is not self.scenario_panel.player or self._rebuilding:
            return
        self.bar.show_port(placed.endpoint.port)
        moved = (placed.moved, placed.endpoint.port)
        if self.session.sockets or self.scenario_panel.started:
            lesson_control.tell_moved(self.event_log, self.session, self._record, *moved)
        else:
            self.call_after_refresh(self._welcome_to_lesson, self.scenario_panel.lesson_title, moved)

    @on(ScenarioState)
    @on(Narrated)
    def _lesson_to_the_class(self) -> None:
        """The lesson panel as it reads now (the panel has shown the message first), to the followers at once:
        a line's place goes just before the step's events, so one frame to the class carries both."""
        if self.share is not None and not self._rebuilding:
            self.share.lesson(self.lesson_shown())

    def on_scenario_panel_before_step(self, asked: ScenarioPanel.BeforeStep) -> None:
        """Predict mode, before a lesson's step line: asked as a user's step is (the line waits for the answer)."""
        ask_before_lesson_line(self, asked)

    def _welcome_to_lesson(self, title: str, moved: tuple[str, int] | None = None) -> None:
        if not self._rebuilding:
            lesson_control.welcome_to_lesson(
                self.event_log, self.session, self.scenario_panel, title, self._record, self.bar.transport,
                self.held_over, moved,
            )  # fmt: skip

    def action_play_pause(self) -> None:
        if (panel := self.built(LESSON)) is not None:  # none: no lesson was ever loaded
            panel.toggle()

    def action_step_scenario(self) -> None:
        if (panel := self.built(LESSON)) is not None:
            panel.step()

    def action_speed(self, factor: float) -> None:
        if (panel := self.built(LESSON)) is not None:
            panel.speed(factor)
