"""A choice of two is a switch, not a drop-down list: both choices side by side, the chosen one lit.

The top bar has two: the address family (family_toggle.py) and the transport (transport_toggle.py).
Each is this widget with its two choices, its words and its binding's name; a click, enter or space
asks for the other choice, and the bar decides (so that its own key, 6 or d, does the same).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar, Unpack

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.widgets.options import WidgetOptions

V = TypeVar("V")


class TwoWaySwitch(Widget, Generic[V], can_focus=True):
    """Two choices side by side, the chosen one lit; a click, enter or space asks for the other."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"two-way-switch--chosen", "two-way-switch--other"}
    """
    | Class | Description |
    | :- | :- |
    | `two-way-switch--chosen` | The choice in force. |
    | `two-way-switch--other` | The choice a switch would make. |
    """
    DEFAULT_CSS = """
    TwoWaySwitch {
        width: auto;
        height: 1;
    }
    TwoWaySwitch > .two-way-switch--chosen {
        background: $primary;
        color: $text;
        text-style: bold;
    }
    TwoWaySwitch > .two-way-switch--other {
        color: $text-muted;
    }
    TwoWaySwitch:focus > .two-way-switch--chosen {
        background: $accent;
        color: $text;
    }
    """

    chosen: reactive[Any] = reactive(None)
    """The choice in force: one of the two values."""

    @lazy_dataclass
    class Switched(Message):
        """The user asked for the other choice."""

        switch: TwoWaySwitch

        @property
        def control(self) -> TwoWaySwitch:
            return self.switch

    def __init__(
        self, chosen: V, choices: Iterable[tuple[V, str]], *, tooltip: str, **kwargs: Unpack[WidgetOptions]
    ) -> None:
        super().__init__(**kwargs)
        self.choices = tuple(choices)
        """The two values, each with the word the switch shows for it, in the order shown."""
        self.set_reactive(TwoWaySwitch.chosen, chosen)
        self.tooltip = tooltip

    def render(self) -> Text:
        chosen = self.get_component_rich_style("two-way-switch--chosen")
        other = self.get_component_rich_style("two-way-switch--other")
        return Text(" ").join(
            Text(f" {word} ", chosen if value == self.chosen else other) for value, word in self.choices
        )

    def on_click(self) -> None:
        self.action_switch()

    def action_switch(self) -> None:
        self.post_message(self.Switched(self))
