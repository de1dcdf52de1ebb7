"""IPv4 or IPv6: the address family of new sockets and of the host field, as a two-way switch."""

from __future__ import annotations

import socket
from typing import ClassVar, Unpack

from textual.binding import Binding, BindingType

from sockviz.core.model.addresses import FAMILY_NAMES
from sockviz.widgets.options import WidgetOptions
from sockviz.widgets.two_way_switch import TwoWaySwitch


class FamilyToggle(TwoWaySwitch[socket.AddressFamily]):
    """Both families side by side, the chosen one lit."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter,space", "switch", "switch family", show=False)]

    def __init__(self, family: socket.AddressFamily, **kwargs: Unpack[WidgetOptions]) -> None:
        tooltip = "The address family of new sockets and of the host field. Click, or press 6, to switch."
        super().__init__(family, FAMILY_NAMES.items(), tooltip=tooltip, **kwargs)

    @property
    def family(self) -> socket.AddressFamily:
        """The family new sockets get: the switch's choice."""
        return self.chosen

    @family.setter
    def family(self, family: socket.AddressFamily) -> None:
        self.chosen = family
