"""TCP or UDP: which kind of socket socket() makes, as a two-way switch like the family's."""

from __future__ import annotations

from typing import ClassVar, Unpack

from textual.binding import Binding, BindingType

from sockviz.core.model.transport import TRANSPORT_KEY, Transport
from sockviz.widgets.options import WidgetOptions
from sockviz.widgets.two_way_switch import TwoWaySwitch


class TransportToggle(TwoWaySwitch[Transport]):
    """Both transports side by side, the chosen one lit."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter,space", "switch", "switch transport", show=False)]

    def __init__(self, transport: Transport, **kwargs: Unpack[WidgetOptions]) -> None:
        tooltip = (
            "The transport of new sockets: TCP (SOCK_STREAM, a connection) or UDP (SOCK_DGRAM, datagrams). "
            "The same steps then make UDP's calls: sendto() and recvfrom(). "
            f"Click, or press {TRANSPORT_KEY}, to switch."
        )
        super().__init__(transport, ((t, t.word) for t in Transport), tooltip=tooltip, **kwargs)

    @property
    def transport(self) -> Transport:
        """What socket() makes: the switch's choice."""
        return self.chosen

    @transport.setter
    def transport(self, transport: Transport) -> None:
        self.chosen = transport
