"""Predict mode on the session screen: the question before a step, and the state the screen keeps for it.

Before a step that can block or fail, `PredictQuestion` asks what its call will do, one key per answer
(or a click); the screen then runs the step and, as its events come, `Predictions` (in the core) says
whether the answer was right, beside the kernel's evidence, in the log, and keeps the score. While predict
mode is on, the steps' hints (`waits`, `2 ready`) are left off their buttons: they would give the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from sockviz.core import Event, Step
from sockviz.core.story.predicting import Guess, Predictions, Upcoming, asks, choices, question, upcoming
from sockviz.core.story.sentences import StoryLine
from sockviz.keys import ON_A_QUESTION, PREDICT_ANSWERS, answer_button, key_display
from sockviz.widgets.event_log import EventLog

if TYPE_CHECKING:
    from sockviz.core.engine.view import SessionView, SocketView
    from sockviz.core.model.step_args import StepArgs
    from sockviz.core.story.recording.format import Record
    from sockviz.screens.classroom import ClassAnswers
    from sockviz.screens.session_base import ScreenBase
    from sockviz.widgets.scenario_panel import ScenarioPanel

CLASS_SECONDS = 0.25
"""How often the question shows the class's answers anew while it is open."""

_KEY_OF = {binding.action: binding for binding in PREDICT_ANSWERS}


class PredictQuestion(ModalScreen[Guess | None]):
    """Will the call wait, return at once, or fail? The answer (None: do not run the step) goes to the callback."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *PREDICT_ANSWERS,
        *ON_A_QUESTION,
        Binding(
            "h",
            "toggle_tally",
            "hide/show the class's answers",
            show=False,
            tooltip="with followers: hide the class's histogram until the step runs, or show it",
        ),
    ]

    DEFAULT_CSS = """
    PredictQuestion {
        align: center middle;
    }
    PredictQuestion > #predict-box {
        width: 64;
        height: auto;
        border: thick $accent;
        background: $surface;
        padding: 1 2;
    }
    PredictQuestion #predict-question {
        text-style: bold;
        margin: 0 0 1 0;
    }
    PredictQuestion #predict-answers {
        height: auto;
    }
    PredictQuestion #predict-answers Button {
        margin: 0 1 0 0;
    }
    PredictQuestion #predict-skip {
        color: $text-muted;
        margin: 1 0 0 0;
    }
    """

    def __init__(self, chosen: Step, the_class: ClassAnswers | None = None, call: Upcoming | None = None) -> None:
        super().__init__()
        self.chosen = chosen
        self.call = call or upcoming(chosen)
        """The call it asks about, as the log will name it (`recvfrom()` on a UDP socket)."""
        self.offered = choices(chosen, self.call)
        self.the_class = the_class
        """With followers (`--share`): the class answers the same question, and the counts show here, live."""

    def compose(self) -> ComposeResult:
        with Vertical(id="predict-box") as box:
            box.border_title = "predict, then see"
            yield Static(question(self.chosen, self.call), id="predict-question", markup=False)
            with Horizontal(id="predict-answers"):
                for guess in self.offered:
                    yield Button(answer_button(guess), id=f"predict-{guess.name.lower()}", compact=True)
            if self.the_class is not None:
                from sockviz.widgets.class_tally import ClassTally  # only with followers: not at start-up

                yield ClassTally(id="predict-class")
                yield Static("h: hide or show the class's answers until the step runs", id="predict-hide",
                             markup=False)  # fmt: skip
            skip = _KEY_OF["skip"]
            yield Static(f"{key_display(skip)}: {skip.tooltip}", id="predict-skip", markup=False)

    def on_mount(self) -> None:
        if self.the_class is not None:
            self._show_class()
            self.set_interval(CLASS_SECONDS, self._show_class)

    def _show_class(self) -> None:
        answers = self.the_class.answers() if self.the_class is not None else None
        if answers is not None:
            tally, following, hidden = answers
            from sockviz.widgets.class_tally import ClassTally

            self.query_one(ClassTally).show(tally, following, hidden=hidden)

    def action_toggle_tally(self) -> None:
        if self.the_class is not None:
            self.the_class.toggle_hidden()
            self._show_class()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the answers this call can have: bind() is never asked whether it will wait."""
        if action == "answer":
            return Guess(str(parameters[0])) in self.offered
        if action == "toggle_tally":
            return self.the_class is not None
        return True

    def action_answer(self, answer: str) -> None:
        self.dismiss(Guess(answer))

    def action_skip(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#predict-answers Button")
    def _clicked(self, event: Button.Pressed) -> None:
        event.stop()
        name = (event.button.id or "").removeprefix("predict-").upper()
        self.dismiss(Guess[name])


class PredictMode:
    """Whether predict mode is on, and the guesses and score of the user at the keys (kept across resets).

    `record`, if given, gets each question, answer and verdict as a record of the session format (for
    `--record`); the answers and verdicts are written in the log passed to each call.
    """

    def __init__(self, record: Callable[[Record], object] | None = None, on: bool = False) -> None:
        self.on = on
        self.predictions = Predictions()
        self._record = record or (lambda record: None)
        self._asked: Upcoming | None = None
        """The call the last question was about: its answer names it as the question did."""

    def title(self) -> str:
        """The log's border title while predict mode is on: the score so far."""
        return f"predict mode · {self.predictions.score}" if self.on else ""

    def asks(self, chosen: Step, refusal: str | None) -> bool:
        """Whether to ask before this step: predict mode is on, the step can block or fail, and the session
        would run it (a step it refuses, with no socket to act on, is not a call to predict)."""
        return self.on and asks(chosen) and refusal is None

    def question(
        self, chosen: Step, at: float, the_class: ClassAnswers | None = None, call: Upcoming | None = None
    ) -> PredictQuestion:
        """The question before `chosen`, about `call` (the call it makes on its socket: `upcoming`)."""
        from sockviz.core.story.recording.format import Asked  # the records, only once predict mode asks

        offered = PredictQuestion(chosen, the_class, call)
        self._asked = offered.call
        self._record(Asked(at, chosen, question(chosen, offered.call), tuple(g.value for g in offered.offered)))
        return offered

    def question_on(
        self,
        session: SessionView,
        chosen: Step,
        args: StepArgs,
        the_class: ClassAnswers | None = None,
        target: SocketView | None = None,
    ) -> PredictQuestion:
        """The question before `chosen` runs with `args` on `target` (by default the socket the session would act
        on), naming the call it makes there: `recvfrom()` on an unconnected UDP socket."""
        tracked = target or session.current(chosen.target_on(args.transport), chosen.side)
        return self.question(chosen, session.now(), the_class, upcoming(chosen, tracked, args))

    def answered(self, chosen: Step, guess: Guess, log: EventLog, at: float) -> None:
        """The answer, said in the log before the step's own line; the step's next call is the one it is about."""
        from sockviz.core.story.recording.format import Predicted

        asked = self._asked if self._asked is not None and self._asked.step is chosen else upcoming(chosen)
        self.predictions.expect(chosen, guess, asked.label)
        text = f"you predict: {chosen.side.value} {asked.label} {guess.value}"
        log.write_line(StoryLine(seq=-1, at=at, side="guess", text=text, kind="predict"))
        self._record(Predicted(at, chosen, guess.value, text))

    def hear(self, event: Event, log: EventLog) -> None:
        """Every event the screen shows: when one settles a guess, the verdict goes in the log with the score."""
        verdict = self.predictions.hear(event)
        if verdict is None:
            return
        from sockviz.core.story.recording.format import Revealed

        text = verdict.text(self.predictions.score)
        log.write_line(StoryLine(seq=-1, at=verdict.at, side="guess", text=text, kind="predict"))
        log.border_title = self.title()
        outcome = verdict.outcome.value if verdict.outcome is not None else None
        call = verdict.call.id if verdict.call is not None else None
        self._record(Revealed(verdict.at, verdict.step, verdict.guess.value, outcome, call, text, after=event.seq))

    def toggle(self, log: EventLog) -> str:
        """Predict mode on or off; the sentence that says which, and what it does."""
        self.on = not self.on
        log.border_title = self.title()
        if self.on:
            return ("predict mode on: before each step that can block or fail, say whether it will wait, return "
                    "at once or fail; the hints on the steps are hidden meanwhile")  # fmt: skip
        return f"predict mode off: {self.predictions.score}"


def ask_before_lesson_line(screen: ScreenBase, asked: ScenarioPanel.BeforeStep) -> None:
    """Predict mode, before a lesson's step line: ask as before a step the user runs (with followers, the class
    too), and let the line run once answered. Closed unanswered, the line does not run: the lesson waits before
    it, and space or n asks again. A step the session would refuse, or one predict mode never asks about, runs."""
    from sockviz.core.engine.refusals import refusal
    from sockviz.screens import classroom

    live, chosen, answer = screen.live, asked.line.step, asked.answer
    if live is None or not screen.predict_mode.on:
        answer.set_result(True)
        return
    args, target = asked.args, asked.target
    refused = refusal(chosen, args, target) if target is not None else live.refusal(chosen, args)
    if not screen.predict_mode.asks(chosen, refused):
        answer.set_result(True)
        return
    the_class = classroom.class_answers(screen.share)
    question = screen.predict_mode.question_on(live, chosen, args, the_class, target)

    def answered(guess: Guess | None) -> None:
        if answer.done():
            return
        if guess is None or screen.session is not live:  # closed unanswered, or a reset came meanwhile
            if screen.share is not None:
                screen.share.withdraw("the lecturer did not run the lesson's line")
            answer.set_result(False)
            return
        screen.predict_mode.answered(chosen, guess, screen.event_log, live.now())
        answer.set_result(True)

    screen.app.push_screen(question, answered)
