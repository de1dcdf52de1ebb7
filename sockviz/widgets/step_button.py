"""One step as a real Button: its key, its number in the course, its call and the kernel's hint.

A compact Button keeps each step to one line. Enter and a click press it (Textual's own
Button does that); ↑ and ↓ move along the steps of its pane. A step that cannot run now
(no socket to act on, a refused field) stays pressable, looks so, and its tooltip says
why; pressed anyway, the session refuses it and the log says why in the same words.

"Cannot run" is drawn as the button renders, not by a rule on a class: a change of class restyles the
button (matches it against every rule, ~0.4 ms), and a lesson's restart turns all 26 steps to "cannot
run" in one turn of the event loop, 10 ms of it. The class `-cannot-run` is still set, for scripts, with
no restyle; the colours are component classes, so a theme (high contrast) decides them. They are the
list's (`StepList`), not each button's: Textual styles every component class of a widget again each time
it styles the widget, and 26 buttons' two classes were 52 more nodes to style at start-up (3% of its
instructions). The list's rules give them the buttons' backgrounds, so the colour blends as it did. A step's lines
are kept for each of its looks (`KeepsLines`): the restart's steps that cannot run are drawn again from them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.style import Style
from textual.widgets import Button

from sockviz.core import Step
from sockviz.core.model.prediction import Prediction
from sockviz.core.model.transport import Transport
from sockviz.widgets.inks import ink
from sockviz.widgets.kept_lines import KeepsLines
from sockviz.widgets.styled_once import StyledOnceShown


def step_label(step: Step, hint: Prediction | None = None, transport: Transport = Transport.TCP) -> Content:
    """Key, course number, call, and the kernel's hint: `a  4 accept() waits`, 20 cells at most, so it fits
    the narrowest pane (80 columns). Never parsed as markup. On UDP the call is UDP's: `r  9 recvfrom()`."""
    parts: list[str | tuple[str, str]] = [(f"{step.key} ", "bold $text-accent"), step.title_on(transport)]
    if hint is not None:
        parts.append((f" {hint.short}", "italic $text-warning" if hint.blocks else "italic $text-muted"))
    return Content.assemble(*parts)


class StepList(Vertical):
    """A pane's steps, one StepButton each: it holds how a step that cannot run looks, for all of them."""

    DEFAULT_CSS = """
    StepList > .step-list--cannot-run {
        color: $text-disabled;
        background: $boost;
    }
    StepList > .step-list--cannot-run-focused {
        color: $block-cursor-blurred-foreground;
        background: $block-cursor-background;
        text-style: bold;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"step-list--cannot-run", "step-list--cannot-run-focused"}


class StepButton(KeepsLines, StyledOnceShown, Button):
    """A step of one side; its id is the step's id (`server-accept`). Restyled only once its screen is shown
    (`StyledOnceShown`): a Button's own changes of class as it is made and mounted cost start-up. Its lines are
    kept for each look it takes (`KeepsLines`)."""

    DEFAULT_CSS = """
    StepButton {
        width: 100%;
        min-width: 0;
        height: 1;
        padding: 0;
        text-align: left;
        content-align: left middle;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        &.-style-default {
            text-style: none;
            color: $foreground;
            background: $boost;
            &:hover {
                background: $block-hover-background;
            }
            &:focus {
                text-style: bold;
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                background-tint: transparent;
            }
            &.-active {
                background: $primary;
                color: $text;
                tint: transparent;
            }
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "previous step", show=False),
        Binding("down", "move(1)", "next step", show=False),
    ]

    hint: reactive[Prediction | None] = reactive(None, init=False, repaint=False)
    """What the kernel says the call would do now (`waits`, `2 ready`), for a step that may block. Its label
    repaints the button when the words on it change; a new reason behind the same words (the tooltip's) does not."""
    refusal: reactive[str | None] = reactive(None, init=False, repaint=False)
    """Why the step cannot run now, or None when it can: the button repaints when that changes, not for another
    reason (the tooltip's), which changes at almost every refresh of a lesson."""
    transport: reactive[Transport] = reactive(Transport.TCP, init=False)
    """The transport of the switch: the label and the help name its calls (`sendto()` on UDP)."""

    def __init__(self, step: Step, transport: Transport = Transport.TCP) -> None:
        super().__init__(step_label(step, transport=transport), id=step.id, compact=True)
        self.step = step
        self.set_reactive(StepButton.transport, transport)
        self.tooltip = step.on(transport).explains

    def watch_hint(self) -> None:
        self.label = step_label(self.step, self.hint, self.transport)
        self._explain()

    def watch_transport(self) -> None:
        self.watch_hint()

    def watch_refusal(self, old: str | None, refusal: str | None) -> None:
        if (old is None) != (refusal is None):
            self.set_class(refusal is not None, "-cannot-run", update=False)  # drawn by render(): no restyle
            self.refresh()
        self._explain()

    def render(self) -> Content:
        """The label; a step that cannot run now has its call in the disabled colour (under the cursor, the
        blurred cursor's), as the stylesheet drew it before. Worked out at each paint, so a theme or the focus
        (each repaints) is followed."""
        label = self.label
        assert isinstance(label, Content)
        if self.refusal is None:
            return label
        steps = self.parent
        if not isinstance(steps, StepList):
            return label
        dimmed = ink(steps, "step-list--cannot-run-focused" if self.has_focus else "step-list--cannot-run")
        start = len(self.step.key) + 1
        return label.stylize(Style.from_rich_style(dimmed), start, start + len(self.step.title_on(self.transport)))

    def look(self) -> Hashable:
        """What `render` draws from: the label's words and their styles (a Content equals another by its words
        alone), and whether the step can run now; the focus is a pseudo-class, which `KeepsLines` reads itself."""
        label = self.label
        assert isinstance(label, Content)
        return label.plain, tuple(label.spans), self.refusal is None

    def _explain(self) -> None:
        """The step's help, why the hint says what it says, and why the step cannot run now."""
        text = self.step.on(self.transport).explains
        if self.hint is not None:
            text += f"\n\nNow: {self.hint.why}"
        if self.refusal is not None:
            text += f"\n\nNot now: {self.refusal}"
        self.tooltip = text

    def action_move(self, by: int) -> None:
        """Focus the step above or below, round the pane's list.

        The focus moves now, not after a refresh as `focus()` would move it: each arrow key is bound along
        the focus chain as it is handled, so keys that arrive together (a held ↑) would all move from this
        step, and eight presses of ↓ moved one step."""
        parent = self.parent
        if parent is None:
            return
        steps = list(parent.query_children(StepButton))
        self.screen.set_focus(steps[(steps.index(self) + by) % len(steps)])
