"""Running steps from the session screen: a key or button, its fields into `StepArgs`, predict mode's question,
then the call in a thread worker.

A part of `SessionScreen` (see session_base.py): every path from a step's key or button to its call
is here, so a new way to run a step (or a new check before one runs) has one place to go.
"""

from __future__ import annotations

from functools import partial

from textual import on
from textual.widgets import Input, Select

from sockviz.core import InputError, Session, Step, step
from sockviz.core.engine.turns import Turn
from sockviz.core.model.step_args import StepArgs
from sockviz.core.story.predicting import Guess
from sockviz.faults import guarded
from sockviz.screens import classroom, step_fields
from sockviz.screens.session_base import ScreenBase
from sockviz.widgets.step_pane import StepPane


class StepRunning(ScreenBase):
    """The session screen's part that runs steps."""

    def action_run_step(self, step_id: str) -> None:
        self.run_step(step(step_id))

    @on(StepPane.StepPressed)
    def _step_pressed(self, event: StepPane.StepPressed) -> None:
        self.run_step(event.step)

    @guarded
    def run_step(self, chosen: Step) -> None:
        """Check the step's inputs here; run the call itself in a thread worker."""
        if (self.only is not None and chosen.side is not self.only) or self._rebuilding:
            return  # not this side's step, or a reset is starting a fresh session
        live = self.live
        if live is None:
            from sockviz.share.mirror import FOLLOWING  # a follower's screen: share/ is loaded already

            self.app.bell()
            self.event_log.note(self.session.now(), chosen.side.value, f"{chosen.label} not run: {FOLLOWING}",
                                kind="refused")  # fmt: skip
            return
        try:
            args = step_fields.args_for(chosen, self.bar, self.pane(chosen.side), live)
        except InputError as error:
            from sockviz.core.story.recording.records import Note  # loaded with the first refusal

            self.app.bell()
            note = Note(self.session.now(), chosen.side.value, f"{chosen.label} not run: {error.reason}", "refused")
            self.event_log.note(note.at, note.who, note.text, kind=note.kind)
            self._record(note)
            return
        if self.predict_mode.asks(chosen, live.refusal(chosen, args)):
            question = self.predict_mode.question_on(live, chosen, args, classroom.class_answers(self.share))
            self.app.push_screen(question, partial(self._answered, chosen, args, live))
            return
        self._run(live, chosen, args)

    @guarded
    def _answered(self, chosen: Step, args: StepArgs, asked: Session, guess: Guess | None) -> None:
        """Predict mode's answer: say it, then run the step; no answer (escape) runs nothing."""
        if guess is None or self._rebuilding or asked is not self.session:  # a reset came meanwhile
            if self.share is not None:
                self.share.withdraw("the lecturer did not run the step")
            return
        self.predict_mode.answered(chosen, guess, self.event_log, asked.now())
        self._run(asked, chosen, args)

    def _run(self, live: Session, chosen: Step, args: StepArgs) -> None:
        """The call in a thread worker of its own, in its turn: keys typed together (`s b l`) run in their
        order, each once the one before has returned or blocked (core/engine/turns.py)."""
        self.run_worker(
            partial(_perform_in_turn, live, chosen, args, live.turn(chosen)),
            name=chosen.id,
            group="steps",
            description=chosen.code,
            thread=True,
            exit_on_error=False,
        )

    @on(Input.Changed)
    @on(Select.Changed)
    @guarded
    def _field_changed(self) -> None:
        """A field a step reads changed: whether the step can run may have changed too."""
        if self.is_attached and self.live is not None:
            step_fields.show_refusals(self.session, self.bar, self.panes())


def _perform_in_turn(live: Session, chosen: Step, args: StepArgs, turn: Turn) -> None:
    """The call, in its turn; the turn is given up however the worker ends, so that a fault of sockviz's
    own (told in the log) never leaves the steps typed after it waiting."""
    try:
        live.perform(chosen, args, turn=turn)
    finally:
        turn.settle()
