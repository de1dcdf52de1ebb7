"""The selected socket as the notebook prints it, and what the kernel adds."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from sockviz.core import SocketSnapshot, TrackedSocket
from sockviz.core.engine.view import SocketView
from sockviz.widgets.inks import ink

if TYPE_CHECKING:
    from sockviz.core.story.recording.sockets import SocketState

NOTHING_SELECTED = "select a socket in the table to see print() of it"


class SocketDetail(Static):
    """`print(s)` for the socket under the table's cursor."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"socket-detail--aside"}
    """`socket-detail--aside`: what is not the socket's own repr (the prompt, the kernel's word, the byte counts)."""
    DEFAULT_CSS = """
    SocketDetail {
        height: auto;
        max-height: 4;
        padding: 0 1;
        background: $boost;
    }
    SocketDetail > .socket-detail--aside {
        color: $text-muted;
    }
    """

    _last: tuple[SocketView | SocketState | None, SocketSnapshot | None] = (None, None)
    _tallest = 1
    """The most lines it has shown: it keeps that height (`watch_shown`)."""

    shown: reactive[Text] = reactive(Text(""), init=False)
    """What is written: only a change is drawn, as an update lays the screen out again, four times a second."""

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        self.show(*self._last)  # in the new theme's colours now, not at the next refresh

    def show(self, tracked: SocketView | SocketState | None, snap: SocketSnapshot | None) -> None:
        self._last = (tracked, snap)
        aside = ink(self, "socket-detail--aside")
        if tracked is None or snap is None:
            self.shown = Text.assemble((NOTHING_SELECTED, aside))  # a span: a new theme's colour is a change
            return
        shown = snap.repr or (repr(tracked.sock) if isinstance(tracked, TrackedSocket) else "")
        text = Text.assemble((f">>> print({tracked.name})\n", aside), shown)
        if snap.kernel is not None:
            text.append(f"\nkernel: {snap.kernel.state}", style=aside)
            if snap.kernel.queues:
                text.append(f", {snap.kernel.queues}", style=aside)
        text.append(f"\nsent {tracked.bytes_sent} bytes, received {tracked.bytes_received}", style=aside)
        from sockviz.core.story.recording.sockets import SocketState  # a recording's: loaded with the first

        if not isinstance(tracked, SocketState) and tracked.datagram:  # a recording does not keep the counts
            text.append(f" (datagrams: {tracked.datagrams_sent} sent, {tracked.datagrams_received} received)",
                        style=aside)  # fmt: skip
        self.shown = text

    def watch_shown(self, text: Text) -> None:
        """Written in place; the screen is laid out again only when the text needs more lines than the widget has
        had (it is as high as its text, up to `max-height`), and then it keeps that height: the byte counts and
        the kernel's word change at many refreshes of a lesson, a restart empties it, and each layout of the
        screen held the event loop 5 to 15 ms at 160x50, in the frames that were already the longest. Kept, the
        table under it does not jump a line either."""
        self.update(text, layout=False)
        lines = self._lines()
        if lines is None:
            self.refresh(layout=True)  # not laid out yet: Textual works its height out
        elif lines > self._tallest:
            self._tallest = lines
            self.styles.min_height = lines  # lays the screen out, once, for the room it needs

    def _lines(self) -> int | None:
        """How many lines the text shows at the widget's width (None before it has one), as Textual measures it."""
        width = self.content_size.width
        if not width:
            return None
        height = self.get_content_height(self.container_size, self.app.size, width)
        most = self.styles.max_height
        return height if most is None or not most.is_cells else min(height, int(most.value))
