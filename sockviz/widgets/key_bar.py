"""The keys of the moment, in one line at the bottom of the screen.

Textual's Footer makes a widget for every key, and with the 22 step keys that was
a third of sockviz's start-up. This bar draws one piece of text instead: the app's
keys in their sections (views │ lesson │ session │ screen), spaced, and the command
palette's on the right. The step keys are on the steps' own lines. When the screen
is too narrow for every key, the least important ones go whole (never half a word)
and `f1` says "all keys". A click on a key presses it. Its line is kept for each set of keys it shows
(`KeepsLines`): the focus moves between a few widgets, each with its keys, and the line took 0.5 to 2 ms to draw.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from typing import ClassVar, Unpack

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from sockviz.keys import ALL_BINDINGS, BAR_IMPORTANCE, LABELLED, SECTIONS, key_display, section_of, step_id
from sockviz.widgets.kept_lines import KeepsLines
from sockviz.widgets.options import WidgetOptions


class KeyBar(KeepsLines, Widget):
    """What the focused widget and the app answer to, as Textual's Footer would list it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        link-style: none;
        link-background: transparent;
        link-color: $footer-key-foreground;
        link-style-hover: bold reverse;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .key-bar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    """

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self._drawn: list[tuple[str, str]] | None = None
        self._labelled = {group.description for group in LABELLED}
        """The entries of the line on screen: bindings change at every focus move, the line seldom does."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        # A repaint that changes nothing still costs a frame; at start-up, focus moves before the first one.
        if self._drawn is None:
            return  # never drawn: its first frame reads the bindings of then (5 changes came before it at start)
        if self.is_attached and screen is self.screen and [(b.action, g) for b, g in self._shown()] != self._drawn:
            self.refresh()

    def _shown(self) -> list[tuple[Binding, str]]:
        """The keys to show, each action once, as (binding, section), in the sections' order.

        The step keys are left out: each step's line in its pane shows its key, and help lists them. So are the
        keys the screen names in its `unused_keys` (a follower's reset, restart and switches): it can never use
        them, though pressing one says why."""
        seen: set[str] = set()
        entries: list[tuple[Binding, str]] = []
        unused: Collection[str] = getattr(self.screen, "unused_keys", ())
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or not active.enabled or binding.action in seen or step_id(binding.action):
                continue
            if binding.action in unused:  # bound, so that pressing it says why it does nothing here
                continue
            seen.add(binding.action)
            entries.append((binding, section_of(binding)))
        order = [group.description for group in SECTIONS]
        place = {binding.action: index for index, binding in enumerate(ALL_BINDINGS)}
        entries.sort(key=lambda e: (order.index(e[1]) if e[1] in order else len(order), place.get(e[0].action, 0)))
        return entries

    def _fitted(self, entries: list[tuple[Binding, str]], width: int) -> tuple[list[tuple[Binding, str]], bool]:
        """The most important entries that fit in `width` cells, in their order, and whether any was left out."""
        kept = list(entries)

        def importance(entry: tuple[Binding, str]) -> int:
            action = entry[0].action
            return BAR_IMPORTANCE.index(action) if action in BAR_IMPORTANCE else len(BAR_IMPORTANCE)

        while kept and self._line(kept, cut=len(kept) < len(entries)).cell_len > width:
            kept.remove(max(kept, key=importance))
        return kept, len(kept) < len(entries)

    def _line(self, entries: list[tuple[Binding, str]], cut: bool) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        text_style = self.get_component_rich_style("key-bar--description")
        line = Text(no_wrap=True, end="")
        section = None
        for binding, entry_section in entries:
            if section is not None:
                line.append(" │ " if entry_section != section else "  ", text_style)
            if entry_section != section and entry_section in self._labelled:
                line.append(f"{entry_section} ", text_style)
            section = entry_section
            description = "all keys" if cut and binding.action == "help" else binding.description
            line.append(*self._key(binding, key_style)).append(f" {description}", text_style)
        return line

    def look(self) -> Hashable:
        """The keys the line shows, in order, and the palette's at its right end: the line is drawn from them (and
        its width and styles). They are the line's entries from now on, as when it is drawn."""
        entries = self._shown()
        self._drawn = [(binding.action, section) for binding, section in entries]
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        return (
            tuple((b.key, b.action, b.description, b.key_display, section) for b, section in entries),
            self.app.ENABLE_COMMAND_PALETTE and palette is not None and key_display(palette.binding),
        )

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        text_style = self.get_component_rich_style("key-bar--description")
        right = Text(end="")
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if self.app.ENABLE_COMMAND_PALETTE and palette is not None:  # at the right end, as the Footer has it
            right = Text.assemble(" ", self._key(palette.binding, key_style), (" palette", text_style), end="")
        entries = self._shown()
        self._drawn = [(binding.action, section) for binding, section in entries]
        kept, cut = self._fitted(entries, self.size.width - right.cell_len)  # right begins with a space
        line = self._line(kept, cut)
        line.truncate(max(self.size.width - right.cell_len, 0), overflow="ellipsis", pad=True)
        line.append_text(right)
        return line

    def _key(self, binding: Binding, style: Style) -> tuple[str, Style]:
        """The key as sockviz shows it everywhere, pressed by a click."""
        click = Style(meta={"@click": f"app.simulate_key({binding.key.split(',')[0]!r})"})
        return key_display(binding), style + click
