"""A follower's side of the class's question: the lecturer's predict key asks the class what a step will do.

The question comes over the share; a follower answers with one key (the keys of predict mode's own
question), or later (escape closes it, and the predict key opens it again while it is open). When the
lecturer's step runs, the share tells each follower the kernel's answer and theirs, and the log says
whether they were right.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from sockviz.keys import ON_A_QUESTION, PREDICT_ANSWERS, SCREEN_BINDINGS, answer_button
from sockviz.widgets.class_tally import ClassTally

ANSWER_KEYS = {
    str(binding.action).removeprefix("answer('").removesuffix("')"): binding.key
    for binding in PREDICT_ANSWERS
    if str(binding.action).startswith("answer(")
}
"""One key per answer (`waits`: w), the keys of predict mode's own question."""
KEYED = frozenset(ANSWER_KEYS.values())

PREDICT_KEY = next(binding.key for binding in SCREEN_BINDINGS if binding.action == "toggle_predict")
"""Predict mode's key: on a follower's screen it opens the class's question again."""


class ClassQuestion(ModalScreen[str | None]):
    """The lecturer's question to the class; dismissed with the follower's answer, or None for later."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(b.key, b.action, b.description, tooltip=b.tooltip) for b in PREDICT_ANSWERS if b.key in KEYED),
        Binding("escape", "later", "answer later"),
        *ON_A_QUESTION,
    ]
    DEFAULT_CSS = """
    ClassQuestion {
        align: center middle;
    }
    ClassQuestion > #class-box {
        width: 64;
        height: auto;
        border: thick $accent;
        background: $surface;
        padding: 1 2;
    }
    ClassQuestion #class-question {
        text-style: bold;
        margin: 0 0 1 0;
    }
    ClassQuestion #class-answers {
        height: auto;
    }
    ClassQuestion #class-answers Button {
        margin: 0 1 0 0;
    }
    ClassQuestion #class-later {
        color: $text-muted;
        margin: 1 0 0 0;
    }
    """

    def __init__(self, question: dict[str, Any]) -> None:
        super().__init__()
        self.number = int(question["question"])
        self.text = str(question.get("text", ""))
        self.choices = tuple(str(choice) for choice in question.get("choices", ()) if choice in ANSWER_KEYS)
        self._tally = question.get("tally")

    def compose(self) -> ComposeResult:
        with Vertical(id="class-box") as box:
            box.border_title = "the lecturer asks the class"
            yield Static(self.text, id="class-question", markup=False)
            with Horizontal(id="class-answers"):
                for choice in self.choices:
                    yield Button(answer_button(choice), id=f"class-{ANSWER_KEYS[choice]}", compact=True)
            yield ClassTally(id="class-tally")
            yield Static(f"escape: answer later ({PREDICT_KEY} opens the question again)", id="class-later",
                         markup=False)  # fmt: skip

    def on_mount(self) -> None:
        self.show_tally(self._tally)

    def show_tally(self, tally: object) -> None:
        """The class's answers, when the lecturer shows them (None: hidden until the reveal)."""
        widget = self.query_one(ClassTally)
        widget.display = isinstance(tally, dict)
        if isinstance(tally, dict):
            counts = {str(choice): int(count) for choice, count in tally.items()}
            widget.show(counts, None, hidden=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "answer" or parameters[0] in self.choices

    def action_answer(self, choice: str) -> None:
        self.dismiss(choice)

    def action_later(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#class-answers Button")
    def _clicked(self, event: Button.Pressed) -> None:
        event.stop()
        key = (event.button.id or "").removeprefix("class-")
        self.dismiss(next(choice for choice, shown in ANSWER_KEYS.items() if shown == key))


def reveal_text(reveal: dict[str, Any], question: dict[str, Any] | None) -> str:
    """The log's line for the reveal: the kernel's answer beside this follower's."""
    asked = str(question.get("text", "")) if question else "The class question"
    answer, yours = reveal.get("answer"), reveal.get("yours")
    evidence = f" ({reveal['evidence']})" if reveal.get("evidence") else ""
    tally = reveal.get("tally") or {}
    counts = ", ".join(f"{count} {choice}" for choice, count in tally.items())
    mark = "right" if yours == answer else "wrong"
    verdict = "you did not answer" if yours is None else f"you said {yours}: {mark}"
    return f"{asked} It {answer}{evidence}; {verdict}. The class: {counts or 'no answers'}."
