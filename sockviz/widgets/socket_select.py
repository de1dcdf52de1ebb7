"""A pane's list of the sockets its steps can act on, which changes with every connection that comes or goes.

Textual's `Select.set_options` makes the whole drop-down list again, and sets the value to
nothing and back, which restyles the line twice: with connections coming and going,
that was a third of the event loop's work between frames. Here a change of options is
only remembered while the list is closed, and the list is made when it opens; the line
shows the chosen socket as before. The line is one row high, so a new choice redraws it
without laying the screen out (Textual's line is as high as its text, and lays the screen
out for every new choice).

With nothing to choose (a fresh session after a restart) the list stays where it is and says so in the
words a fresh pane has (`none yet`), muted and without its arrow, and does not open: hidden, and the
pane's words shown in its place, then shown again with the next session's first socket, it laid the
whole screen out twice a round of a lesson (the restart, and each pane's first socket: 5 to 10 ms of
the lecturer's loop each, besides the frame; the share benchmark, per turn). Going to nothing to choose and
back changes two of the line's classes (`-nothing`, and Textual's `-has-value`), and each change restyled
the line and its parts, about 1 ms each (four a restart, four at the first sockets): a change of what the
list shows now restyles the line once (`ChosenLine.restyled_once`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import RenderableType
from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Select, Static
from textual.widgets._select import SelectCurrent, SelectOverlay
from textual.widgets.select import NoSelection

Choices = list[tuple[str, int]]
"""(what the list says, socket id), oldest first."""


class ChosenLine(SelectCurrent):
    """The Select's line, one row high: the chosen socket's name, cut short rather than wrapped."""

    DEFAULT_CSS = """
    ChosenLine Static#label {
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    /* Textual's prompt and arrow are the foreground at 50%, grey whatever the theme: muted is the theme's
       word for it, and the high-contrast theme makes it white. */
    ChosenLine Static#label, ChosenLine .arrow {
        color: $text-muted;
    }
    ChosenLine.-has-value Static#label {
        color: $foreground;
    }
    /* Nothing to choose: the words of a fresh pane (StepPane's .no-choice), where the list stands. */
    ChosenLine.-nothing {
        background: transparent;
    }
    ChosenLine.-nothing Static#label {
        text-style: italic;
    }
    ChosenLine.-nothing .arrow {
        text-opacity: 0%;
    }
    """

    _holding = False
    _restyle_due = False

    @contextmanager
    def restyled_once(self) -> Iterator[None]:
        """The line's classes changed meanwhile (`set_look`) restyle it once, at the end, not at each change."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            if self._restyle_due:
                self._restyle_due = False
                self.update_node_styles()

    def set_look(self, add: bool, name: str) -> None:
        """Add or remove the class `name`: restyled now, or at the end of `restyled_once`."""
        if not self._holding:
            self.set_class(add, name)
        elif self.has_class(name) != add:
            self.set_class(add, name, update=False)
            self._restyle_due = True

    def _watch_has_value(self, has_value: bool) -> None:
        """Textual's class for a chosen value (its label in the foreground colour, not muted)."""
        self.set_look(has_value, "-has-value")

    def update(self, label: RenderableType | NoSelection) -> None:
        """As SelectCurrent's, but with no layout: the line's size does not depend on its text."""
        self.label = label
        self.has_value = label is not Select.NULL
        shown = self.placeholder if isinstance(label, NoSelection) else label
        self.query_one("#label", Static).update(shown, layout=False)


class SocketSelect(Select[int]):
    """Which socket a side's steps act on: a Select whose values are socket ids."""

    PROMPT = "choose a socket"

    @dataclass
    class Chosen(Message):
        """The user chose a socket in the drop-down list (a click, or enter on it). Select's own Changed is no
        choice of the user's: it says Changed for every value it takes, its first at mount among them, and that
        one can arrive after the session has made a newer socket current and the list has shown it (a played
        select lesson then sent from c instead of c2, under load)."""

        select: SocketSelect
        socket_id: int

        @property
        def control(self) -> SocketSelect:
            return self.select

    def __init__(self, choices: Choices, chosen: int | None, *, nothing: str, id: str) -> None:
        """`nothing`: what the line says when there is nothing to choose."""
        value = _offered(choices, chosen)
        super().__init__(choices, value=value, prompt=self.PROMPT, compact=True, id=id)
        self._nothing = nothing
        self._choices = choices
        self._listed = True
        """Whether the drop-down list holds `_choices` (it is made again only when it opens)."""

    def show(self, choices: Choices, chosen: int | None) -> None:
        """Offer `choices` and show `chosen` (None, or a socket not offered: nothing chosen); with no choices, the
        line says there is nothing to choose."""
        with self.query_one(ChosenLine).restyled_once():
            self._show(choices, chosen)

    def _show(self, choices: Choices, chosen: int | None) -> None:
        if choices != self._choices:
            if not choices or not self._choices:
                self._say_nothing(not choices)
            self._choices = choices
            self._setup_variables_for_options(choices)  # the values it may take, and their lines
            self._listed = False
            if self.expanded:
                self._list()
        wanted = _offered(choices, chosen)
        if wanted != self.value:
            self.value = wanted
        elif wanted != Select.NULL:
            label = next(text for text, value in choices if value == wanted)
            current = self.query_one(SelectCurrent)
            if current.label != label:  # the chosen socket's line changed ("conn closed")
                current.update(label)

    def _say_nothing(self, nothing: bool) -> None:
        """The line's words for no choice (a restyle of its line: the same size, so no layout)."""
        current = self.query_one(ChosenLine)
        current.placeholder = self._nothing if nothing else self.PROMPT
        current.set_look(nothing, "-nothing")
        self.can_focus = not nothing
        if self.value == Select.NULL:
            current.update(Select.NULL)

    def compose(self) -> ComposeResult:
        """Select's own parts, with the one-row line."""
        yield ChosenLine(self.prompt)
        yield SelectOverlay(type_to_search=self._type_to_search).data_bind(compact=Select.compact)

    @on(SelectOverlay.UpdateSelection)
    def _chosen_in_the_list(self, event: SelectOverlay.UpdateSelection) -> None:
        """Before Select's own handler, which takes the value (and says Changed, as for any value)."""
        value = self._options[event.option_index][1]
        if isinstance(value, int):
            self.post_message(self.Chosen(self, value))

    def _list(self) -> None:
        self._setup_options_renderables()
        self._listed = True

    def _watch_expanded(self, expanded: bool) -> None:
        if expanded and not self._choices:  # nothing to choose: it does not open
            self.expanded = False
            return
        if expanded and not self._listed:
            self._list()
        super()._watch_expanded(expanded)


def _offered(choices: Choices, chosen: int | None) -> int | NoSelection:
    """`chosen` if the list offers it, else nothing chosen."""
    return chosen if chosen is not None and any(value == chosen for _, value in choices) else Select.NULL
