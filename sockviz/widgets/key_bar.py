"""The keys of the moment, in one line at the bottom of the screen.

Textual's Footer makes a widget for every key, and with the 22 step keys that was
a third of sockviz's start-up. This bar draws the same line as one piece of text:
the step keys grouped by side (`sblareghokxz server`), then the other keys, and
the command palette's on the right. A click on a key presses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Unpack

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from sockviz.widgets.options import WidgetOptions


class KeyBar(Widget):
    """What the focused widget and the app answer to, as Textual's Footer would list it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--description"}

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self._drawn: list[tuple[list[Binding], str]] | None = None
        """The entries of the line on screen: bindings change at every focus move, the line seldom does."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        # A repaint that changes nothing still costs a frame; at start-up, focus moves before the first one.
        if self.is_attached and screen is self.screen and list(self._shown()) != self._drawn:
            self.refresh()

    def _shown(self) -> Iterator[tuple[list[Binding], str]]:
        """Each entry once: the keys (several for a group) and what to call them."""
        seen: set[str] = set()
        group_keys: dict[str, list[Binding]] = {}
        entries: list[tuple[list[Binding], str]] = []
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or not active.enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            if binding.group is not None:
                if binding.group.description not in group_keys:
                    group_keys[binding.group.description] = []
                    entries.append((group_keys[binding.group.description], binding.group.description))
                group_keys[binding.group.description].append(binding)
            else:
                entries.append(([binding], binding.description))
        yield from entries

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        text_style = self.get_component_rich_style("key-bar--description")
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        self._drawn = list(self._shown())
        for bindings, description in self._drawn:
            keys = Text.assemble(*(self._key(binding, key_style) for binding in bindings))
            line.append_text(keys).append(f" {description}  ", text_style)
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if self.app.ENABLE_COMMAND_PALETTE and palette is not None:  # at the right end, as the Footer has it
            right = Text.assemble(" ", self._key(palette.binding, key_style), (" palette", text_style))
            line.truncate(self.size.width - right.cell_len, overflow="ellipsis", pad=True)
            line.append_text(right)
        return line

    def _key(self, binding: Binding, style: Style) -> tuple[str, Style]:
        """The key as Textual shows it, pressed by a click."""
        click = Style(meta={"@click": f"app.simulate_key({binding.key.split(',')[0]!r})"})
        return self.app.get_key_display(binding), style + click
