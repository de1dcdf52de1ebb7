"""IPv4 or IPv6: a choice of two is a switch, not a drop-down list."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import ClassVar, Unpack

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from sockviz.core.model.addresses import FAMILY_NAMES
from sockviz.widgets.options import WidgetOptions


class FamilyToggle(Widget, can_focus=True):
    """Both families side by side, the chosen one lit; a click, enter or space asks for the other."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"family-toggle--chosen", "family-toggle--other"}
    """
    | Class | Description |
    | :- | :- |
    | `family-toggle--chosen` | The family new sockets get. |
    | `family-toggle--other` | The family a switch would choose. |
    """
    DEFAULT_CSS = """
    FamilyToggle {
        width: auto;
        height: 1;
    }
    FamilyToggle > .family-toggle--chosen {
        background: $primary;
        color: $text;
        text-style: bold;
    }
    FamilyToggle > .family-toggle--other {
        color: $text-muted;
    }
    FamilyToggle:focus > .family-toggle--chosen {
        background: $accent;
        color: $text;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter,space", "switch", "switch family", show=False)]

    family: reactive[socket.AddressFamily] = reactive(socket.AF_INET)

    @dataclass
    class Switched(Message):
        """The user asked for the other family."""

        toggle: FamilyToggle

        @property
        def control(self) -> FamilyToggle:
            return self.toggle

    def __init__(self, family: socket.AddressFamily, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self.set_reactive(FamilyToggle.family, family)
        self.tooltip = "The address family of new sockets and of the host field. Click, or press 6, to switch."

    def render(self) -> Text:
        chosen = self.get_component_rich_style("family-toggle--chosen")
        other = self.get_component_rich_style("family-toggle--other")
        return Text(" ").join(
            Text(f" {name} ", chosen if family == self.family else other) for family, name in FAMILY_NAMES.items()
        )

    def on_click(self) -> None:
        self.action_switch()

    def action_switch(self) -> None:
        self.post_message(self.Switched(self))
