"""The selected socket as the notebook prints it, and what the kernel adds."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from sockviz.core import SocketSnapshot, TrackedSocket

NOTHING_SELECTED = "select a socket in the table to see print() of it"


class SocketDetail(Static):
    """`print(s)` for the socket under the table's cursor."""

    DEFAULT_CSS = """
    SocketDetail {
        height: auto;
        max-height: 4;
        padding: 0 1;
        background: $boost;
    }
    """

    shown: reactive[Text] = reactive(Text(""), init=False)
    """What is written: only a change is drawn, as an update lays the screen out again, four times a second."""

    def show(self, tracked: TrackedSocket | None, snap: SocketSnapshot | None) -> None:
        if tracked is None or snap is None:
            self.shown = Text(NOTHING_SELECTED, style="dim")
            return
        text = Text.assemble((f">>> print({tracked.name})\n", "dim"), snap.repr or repr(tracked.sock))
        if snap.kernel is not None:
            text.append(f"\nkernel: {snap.kernel.state}", style="dim")
            if snap.kernel.queues:
                text.append(f", {snap.kernel.queues}", style="dim")
        text.append(f"\nsent {tracked.bytes_sent} bytes, received {tracked.bytes_received}", style="dim")
        if tracked.datagram:
            text.append(f" (datagrams: {tracked.datagrams_sent} sent, {tracked.datagrams_received} received)",
                        style="dim")  # fmt: skip
        self.shown = text

    def watch_shown(self, text: Text) -> None:
        self.update(text)
