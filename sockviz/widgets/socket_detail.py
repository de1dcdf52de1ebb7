"""The selected socket as the notebook prints it, and what the kernel adds."""

from __future__ import annotations

from typing import Unpack

from rich.text import Text
from textual.widgets import Static

from sockviz.core import SocketSnapshot, TrackedSocket
from sockviz.widgets.options import WidgetOptions


class SocketDetail(Static):
    """`print(s)` for the socket under the table's cursor."""

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self._shown: Text | None = None

    def show(self, tracked: TrackedSocket | None, snap: SocketSnapshot | None) -> None:
        if tracked is None or snap is None:
            self._update(Text("select a socket in the table to see print() of it", style="dim"))
            return
        text = Text.assemble((f">>> print({tracked.name})\n", "dim"), snap.repr or repr(tracked.sock))
        if snap.kernel is not None:
            text.append(f"\nkernel: {snap.kernel.state}", style="dim")
            if snap.kernel.queues:
                text.append(f", {snap.kernel.queues}", style="dim")
        text.append(f"\nsent {tracked.bytes_sent} bytes, received {tracked.bytes_received}", style="dim")
        self._update(text)

    def _update(self, text: Text) -> None:
        """Only a change is written: an update lays the whole screen out again, four times a second."""
        if text != self._shown:
            self._shown = text
            self.update(text)
