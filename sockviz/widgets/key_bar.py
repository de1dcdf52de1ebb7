"""The keys of the moment, in one line at the bottom of the screen.

Textual's Footer makes a widget for every key, and with the 22 step keys that was
a third of sockviz's start-up. This bar draws the same line as one piece of text:
the step keys grouped by side (`sblareghokxz server`), then the other keys, and
the command palette's on the right. A click on a key presses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    """What the focused widget and the app answer to, as Textual's Footer would list it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--description"}

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
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
        palette = self.app.COMMAND_PALETTE_BINDING
        for bindings, description in self._shown():
            if bindings[0].key == palette:
                continue
            for binding in bindings:
                click = Style(meta={"@click": f"app.simulate_key({binding.key.split(',')[0]!r})"})
                line.append(self.app.get_key_display(binding), key_style + click)
            line.append(f" {description}  ", text_style)
        if self.app.ENABLE_COMMAND_PALETTE:
            palette_text = Text.assemble((" ^p", key_style), (" palette", text_style))
            room = self.size.width - palette_text.cell_len
            line.truncate(room, overflow="ellipsis", pad=True)
            line.append_text(palette_text)
        return line
