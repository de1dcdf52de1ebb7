"""A side's steps as one widget: a line per step, clicked like a button.

Twenty-two Buttons took a quarter of start-up to mount and draw; one widget that
draws its lines as a single Text costs a few milliseconds. Each line shows the
step's key, its number in the course, its call, and the kernel's hint. Like the
buttons it replaced, it can be reached with Tab: ↑ and ↓ move along the steps and
enter runs one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Unpack

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

from sockviz.core import Step
from sockviz.core.model.prediction import Prediction
from sockviz.widgets.options import WidgetOptions

PRESSED_SECONDS = 0.2
"""How long a clicked line stays lit, so the click is seen."""


def step_label(step: Step, hint: Prediction | None = None) -> Text:
    """Key, course number, call, and the kernel's hint: `a   4 accept()  waits`. Plain Text, never markup."""
    label = Text.assemble((f"{step.key}  ", "dim"), step.title, no_wrap=True, overflow="ellipsis")
    if hint is not None:
        label.append(f"  {hint.short}", style="italic" if hint.blocks else "dim italic")
    return label


class StepList(Widget, can_focus=True):
    """The steps of one side, top to bottom in the order of the course."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"step-list--hover", "step-list--pressed", "step-list--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "previous step", show=False),
        Binding("down", "move(1)", "next step", show=False),
        Binding("enter", "choose", "run the step", show=False),
    ]

    @dataclass
    class Chosen(Message):
        """A step's line was clicked."""

        step: Step

    def __init__(self, steps: Sequence[Step], **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self.steps = steps
        self.hints: dict[str, Prediction | None] = {}
        self._hover: int | None = None
        self._pressed: int | None = None
        self.cursor = 0
        """The line that enter runs; it shows while the list has focus."""

    def render(self) -> Text:
        lines = []
        width = self.size.width
        for index, step in enumerate(self.steps):
            line = step_label(step, self.hints.get(step.id))
            if width:
                line.truncate(width, overflow="ellipsis", pad=True)  # a lit line is lit across the pane
            if index == self._pressed:
                line.stylize(self.get_component_rich_style("step-list--pressed"))
            elif index == self.cursor and self.has_focus:
                line.stylize(self.get_component_rich_style("step-list--cursor"))
            elif index == self._hover:
                line.stylize(self.get_component_rich_style("step-list--hover"))
            lines.append(line)
        return Text("\n", no_wrap=True).join(lines)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self.steps)

    def show_hints(self, hints: dict[str, Prediction | None]) -> None:
        """Redraw only when a hint changed: this runs four times a second."""
        changed = {step_id: hint for step_id, hint in hints.items() if self.hints.get(step_id) != hint}
        if changed:
            self.hints.update(changed)
            self._explain(self._hover)
            self.refresh()

    def line(self, step_id: str) -> Text:
        """A step's line as drawn now, hint and all."""
        return step_label(next(s for s in self.steps if s.id == step_id), self.hints.get(step_id))

    def step_at(self, y: int) -> Step | None:
        return self.steps[y] if 0 <= y < len(self.steps) else None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = event.y if self.step_at(event.y) else None
        if index != self._hover:
            self._hover = index
            self._explain(index)
            self.refresh()

    def on_leave(self) -> None:
        self._hover = None
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        if self.step_at(event.y) is None:
            return
        event.stop()
        self.cursor = event.y
        self._press(event.y)

    def action_move(self, by: int) -> None:
        self.cursor = (self.cursor + by) % len(self.steps)
        self.refresh()

    def action_choose(self) -> None:
        self._press(self.cursor)

    def _press(self, index: int) -> None:
        """Light the line for a moment, so the click or key is seen, and ask for its step."""
        self._pressed = index
        self.refresh()
        self.set_timer(PRESSED_SECONDS, self._release)
        self.post_message(self.Chosen(self.steps[index]))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def _release(self) -> None:
        self._pressed = None
        self.refresh()

    def _explain(self, index: int | None) -> None:
        """The hovered step's help, and why the kernel's hint says what it says."""
        step = None if index is None else self.step_at(index)
        if step is None:
            self.tooltip = None
            return
        hint = self.hints.get(step.id)
        self.tooltip = f"{step.explains}\n\nNow: {hint.why}" if hint else step.explains
