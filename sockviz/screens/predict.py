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
from sockviz.core.story.predicting import Guess, Predictions, asks, choices, question
from sockviz.core.story.sentences import StoryLine
from sockviz.keys import PREDICT_ANSWERS, key_display
from sockviz.widgets.event_log import EventLog

if TYPE_CHECKING:
    from sockviz.core.story.recording.format import Record
    from sockviz.screens.classroom import ClassAnswers

CLASS_SECONDS = 0.25
"""How often the question shows the class's answers anew while it is open."""

_KEY_OF = {binding.action: binding for binding in PREDICT_ANSWERS}


class PredictQuestion(ModalScreen[Guess | None]):
    """Will the call wait, return at once, or fail? The answer (None: do not run the step) goes to the callback."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *PREDICT_ANSWERS,
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

    def __init__(self, chosen: Step, the_class: ClassAnswers | None = None) -> None:
        super().__init__()
        self.chosen = chosen
        self.offered = choices(chosen)
        self.the_class = the_class
        """With followers (`--share`): the class answers the same question, and the counts show here, live."""

    def compose(self) -> ComposeResult:
        with Vertical(id="predict-box") as box:
            box.border_title = "predict, then see"
            yield Static(question(self.chosen), id="predict-question", markup=False)
            with Horizontal(id="predict-answers"):
                for guess in self.offered:
                    binding = _KEY_OF[f"answer('{guess.value}')"]
                    yield Button(f"{key_display(binding)}  {binding.description}", id=f"predict-{guess.name.lower()}",
                                 compact=True)  # fmt: skip
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

    def title(self) -> str:
        """The log's border title while predict mode is on: the score so far."""
        return f"predict mode · {self.predictions.score}" if self.on else ""

    def asks(self, chosen: Step, refusal: str | None) -> bool:
        """Whether to ask before this step: predict mode is on, the step can block or fail, and the session
        would run it (a step it refuses, with no socket to act on, is not a call to predict)."""
        return self.on and asks(chosen) and refusal is None

    def question(self, chosen: Step, at: float, the_class: ClassAnswers | None = None) -> PredictQuestion:
        from sockviz.core.story.recording.format import Asked  # the records, only once predict mode asks

        offered = PredictQuestion(chosen, the_class)
        self._record(Asked(at, chosen, question(chosen), tuple(g.value for g in offered.offered)))
        return offered

    def answered(self, chosen: Step, guess: Guess, log: EventLog, at: float) -> None:
        """The answer, said in the log before the step's own line; the step's next call is the one it is about."""
        from sockviz.core.story.recording.format import Predicted

        self.predictions.expect(chosen, guess)
        text = f"you predict: {chosen.side.value} {chosen.action.call}() {guess.value}"
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
