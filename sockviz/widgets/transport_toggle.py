"""TCP or UDP: which kind of socket socket() makes. A choice of two is a switch, like the family's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Unpack

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from sockviz.core.model.transport import TRANSPORT_KEY, Transport
from sockviz.widgets.options import WidgetOptions


class TransportToggle(Widget, can_focus=True):
    """Both transports side by side, the chosen one lit; a click, enter or space asks for the other."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"transport-toggle--chosen", "transport-toggle--other"}
    """
    | Class | Description |
    | :- | :- |
    | `transport-toggle--chosen` | The transport of the sockets socket() makes. |
    | `transport-toggle--other` | The transport a switch would choose. |
    """
    DEFAULT_CSS = """
    TransportToggle {
        width: auto;
        height: 1;
    }
    TransportToggle > .transport-toggle--chosen {
        background: $primary;
        color: $text;
        text-style: bold;
    }
    TransportToggle > .transport-toggle--other {
        color: $text-muted;
    }
    TransportToggle:focus > .transport-toggle--chosen {
        background: $accent;
        color: $text;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter,space", "switch", "switch transport", show=False)]

    transport: reactive[Transport] = reactive(Transport.TCP)

    @dataclass
    class Switched(Message):
        """The user asked for the other transport."""

        toggle: TransportToggle

        @property
        def control(self) -> TransportToggle:
            return self.toggle

    def __init__(self, transport: Transport, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self.set_reactive(TransportToggle.transport, transport)
        self.tooltip = (
            "The transport of new sockets: TCP (SOCK_STREAM, a connection) or UDP (SOCK_DGRAM, datagrams). "
            "The same steps then make UDP's calls: sendto() and recvfrom(). "
            f"Click, or press {TRANSPORT_KEY}, to switch."
        )

    def render(self) -> Text:
        chosen = self.get_component_rich_style("transport-toggle--chosen")
        other = self.get_component_rich_style("transport-toggle--other")
        return Text(" ").join(
            Text(f" {transport.word} ", chosen if transport is self.transport else other) for transport in Transport
        )

    def on_click(self) -> None:
        self.action_switch()

    def action_switch(self) -> None:
        self.post_message(self.Switched(self))
