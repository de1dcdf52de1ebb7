"""One side of the connection: its steps, and the values those steps send.

The fields under "more settings" are made the first time they open (step_settings.py says which);
this pane reads them into a step's `StepArgs`, and shows what the app tells it: hints, refusals,
the socket its steps act on, a transfer's progress.
"""

from __future__ import annotations

import dataclasses
import socket
from typing import TYPE_CHECKING, ClassVar, TypeVar, Unpack

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Collapsible, Label, Select
from textual.widgets.collapsible import CollapsibleTitle
from textual.widgets.select import NoSelection

from sockviz.core import Action, InputError, Side, Step, StepArgs, parse_payload, steps_of
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.options import OPTIONS_BY_NAME, OptionSetting
from sockviz.core.model.prediction import Prediction
from sockviz.core.model.step_args import RECV_SIZE
from sockviz.core.model.transport import Transport
from sockviz.widgets.field import Field
from sockviz.widgets.options import WidgetOptions
from sockviz.widgets.step_button import StepButton, StepList
from sockviz.widgets.step_settings import DEFAULT_BURST, optional, settings_fields
from sockviz.widgets.subtitle import set_subtitle

if TYPE_CHECKING:
    from textual.widgets import ProgressBar

    from sockviz.widgets.socket_select import SocketSelect

T = TypeVar("T")

DEFAULT_CLIENT_MESSAGE = "Hello, Wireshark. You are an amazing tool!"
"""The course's message."""


SETTINGS_TITLE = "more settings"


class SettingsTitle(CollapsibleTitle):
    """The title "▶ more settings", where a pane's settings go until they first open; Enter or a click opens them.
    It looks as their Collapsible's title does on the Collapsible's line."""

    DEFAULT_CSS = """
    SettingsTitle {
        width: 100%;
        background: $surface;
    }
    """

    def __init__(self, *, id: str) -> None:
        super().__init__(label=SETTINGS_TITLE, collapsed_symbol="▶", expanded_symbol="▼", collapsed=True)
        self.id = id


class StepPane(Vertical):
    """The server's or the client's steps, and the fields they read."""

    DEFAULT_CSS = """
    StepPane {
        width: 28;
        height: auto;
        border: round $primary;
        border-title-style: bold;
        padding: 0;
    }
    StepPane > .scrolled {
        height: auto;
        max-height: 100%;
        scrollbar-size-vertical: 1;
        overflow-y: auto;
    }
    StepPane .steps {
        height: auto;
    }
    StepPane .field {
        width: 100%;
        height: auto;
        layout: vertical;
        padding: 0;
    }
    StepPane .field-note {
        width: 100%;
        padding: 0;
    }
    StepPane Input, StepPane Select {
        width: 100%;
    }
    StepPane .no-choice {
        width: 100%;
        color: $text-muted;
        text-style: italic;
    }
    StepPane Collapsible {
        padding: 0;
        border: none;
    }
    StepPane CollapsibleTitle {
        padding: 0;
    }
    StepPane Collapsible > Contents {
        padding: 0;
    }
    StepPane .progress {
        dock: bottom;
        width: 100%;
    }
    StepPane .progress Bar {
        width: 1fr;
    }
    StepPane .scrolled > .field-title, StepPane .field {
        margin: 1 0 0 0;
    }
    StepPane .field-title {
        color: $text-muted;
    }
    """

    @lazy_dataclass
    class StepPressed(Message):
        """The user asked for a step from this pane."""

        pane: StepPane
        step: Step

        @property
        def control(self) -> StepPane:
            return self.pane

    @lazy_dataclass
    class SocketChosen(Message):
        """The user chose which socket this side's steps act on."""

        pane: StepPane
        socket_id: int

        @property
        def control(self) -> StepPane:
            return self.pane

    NOTHING: ClassVar[dict[Side, str]] = {Side.SERVER: "none accepted yet", Side.CLIENT: "none yet"}
    """What the pane says where its list of sockets is while there is nothing to choose."""

    acts_on: reactive[str] = reactive("", init=False, repaint=False)
    """Which sockets the steps act on now (`acts on s, conn2`): the bottom border repaints only when it changes
    (`set_subtitle`), not the whole pane."""

    def __init__(
        self, side: Side, *, message: str = "", transport: Transport = Transport.TCP, **kwargs: Unpack[WidgetOptions]
    ) -> None:
        super().__init__(**kwargs)
        self.side = side
        self._transport = transport
        self._message = message
        server = side is Side.SERVER
        self._no_choice = Label(self.NOTHING[side], classes="no-choice")
        """Stands where the list of sockets will be: a Select is made once there is something to choose, and
        stays (saying these words when a fresh session has nothing to choose)."""
        self._choice_id = "server-conn" if server else "client-sock"
        self._select: SocketSelect | None = None
        self._settings_ready = False
        self._buttons: dict[str, StepButton] = {}
        """The pane's steps by id: the refresh asks for each four times a second, and a query walks the pane."""
        self._progress: ProgressBar | None = None
        """Made by the first bulk transfer: most sessions never need it, and start-up is shorter without."""
        self.border_title = side.value

    def compose(self) -> ComposeResult:
        side = self.side.value
        with Vertical(id=f"{side}-scrolled", classes="scrolled"):
            yield from self._scrolled()

    def _scrolled(self) -> ComposeResult:
        """What scrolls in the pane: the steps and their fields (the progress bar stays below them)."""
        side = self.side.value
        with StepList(id=f"{side}-steps", classes="steps"):
            for each in steps_of(self.side):
                button = self._buttons[each.id] = StepButton(each, self._transport)
                yield button
        server = self.side is Side.SERVER
        yield Label("connection" if server else "client socket", classes="field-title")
        yield self._no_choice
        yield Field(
            "message",
            self._message,
            optional(parse_payload),
            input_id=f"{side}-message",
            placeholder="empty: echo last recv" if server else "bytes to send",
            id=f"{side}-message-field",
        )
        yield SettingsTitle(id=f"{side}-more")

    @on(CollapsibleTitle.Toggle)
    async def _title_pressed(self, event: CollapsibleTitle.Toggle) -> None:
        """The settings' title, before they were first opened (once open, their Collapsible takes its title's)."""
        event.stop()
        await self.open_settings()

    async def open_settings(self) -> None:
        """Show the settings. Their widgets are made the first time, as they would slow start-up by a quarter;
        until then a title alone stands in their place (a Collapsible is three widgets, 2% of start-up)."""
        if self._settings_ready:
            self.query_one(Collapsible).collapsed = False
            return
        self._settings_ready = True
        side = self.side.value
        title = self.query_one(SettingsTitle)
        focused = title.has_focus
        await title.remove()
        more = Collapsible(*settings_fields(self.side), title=SETTINGS_TITLE, id=f"{side}-more", collapsed=False)
        await self.query_one(".scrolled").mount(more, after=f"#{side}-message-field")
        if focused:
            more.query_one(CollapsibleTitle).focus()

    # ----- steps -----------------------------------------------------------

    @on(Button.Pressed, "StepButton")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if isinstance(event.button, StepButton):
            self.post_message(self.StepPressed(self, event.button.step))

    def args_for(self, step: Step, base: StepArgs, *, quiet: bool = False) -> StepArgs:
        """The step's arguments from this pane's fields; raises InputError, shown at the field unless quiet.

        Settings never opened keep their defaults.
        """
        args = dataclasses.replace(base)
        action = step.action
        if action is Action.SEND:
            args.bulk = self._setting("size", None, quiet)
            if args.bulk is None:
                args.payload = self._field("message").parsed(quiet=quiet)
                if args.payload is None and self.side is Side.CLIENT and not quiet:
                    self.refuse("message", "type the bytes to send")
        elif action is Action.RECV:
            args.bufsize = self._setting("bufsize", None, quiet) or RECV_SIZE
        elif action is Action.RECV_ALL:
            args.expect = self._setting("expect", None, quiet)
        elif action is Action.SHUTDOWN:
            args.how = self._select_value(f"#{self.side.value}-how", socket.SHUT_WR)
        elif action is Action.LISTEN:
            args.backlog = self._setting("backlog", None, quiet)
        elif action is Action.OPTION:
            option = OPTIONS_BY_NAME[self._select_value(f"#{self.side.value}-option-name", "SO_REUSEADDR")]
            args.option = OptionSetting(option, self._setting("option-value", option.parse(option.default), quiet))
        elif action is Action.BURST:
            args.count = self._setting("burst-count", DEFAULT_BURST, quiet)
            args.payload = self._setting("burst-send", None, quiet)
            args.hold = self._setting("burst-hold", args.hold, quiet)
        elif action is Action.SELECT:
            args.timeout = self._setting("select-timeout", None, quiet)
            args.select_write = self._select_value("#server-select-write", False)
        return args

    def refuse(self, field: str, reason: str) -> None:
        """Refuse a field's value with a reason, and stop the step."""
        self._field(field).refuse(reason)
        raise InputError(field, reason)

    def _field(self, name: str) -> Field:
        return self.query_one(f"#{self.side.value}-{name}-field", Field)

    def _setting(self, name: str, default, quiet: bool):
        """A field of the settings, or its default while the settings have not been opened (the refresh asks
        four times a second: a query that finds nothing builds an error that names the whole pane)."""
        if not self._settings_ready:
            return default
        try:
            field = self._field(name)
        except NoMatches:
            return default
        return field.parsed(quiet=quiet)

    def _select_value(self, selector: str, default: T) -> T:
        """A Select's choice, or `default` while it is not there or nothing is chosen."""
        if not self._settings_ready:
            return default
        try:
            value = self.query_one(selector, Select).value
        except NoMatches:
            return default
        return default if isinstance(value, NoSelection) else value

    @on(Select.Changed, "#server-option-name, #client-option-name")
    def _option_chosen(self, event: Select.Changed) -> None:
        event.stop()
        option = OPTIONS_BY_NAME[str(event.value)]
        field = self._field("option-value")
        field.value = option.default
        field.set_parser(option.parse)

    # ----- what the app shows here ----------------------------------------

    def step_button(self, step_id: str) -> StepButton:
        return self._buttons[step_id]

    def show_transport(self, transport: Transport) -> None:
        """Name the calls of this transport on the buttons (`recvfrom()`), and say what each does there."""
        self._transport = transport
        for button in self.query(StepButton):
            button.transport = transport

    def show_hints(self, hints: dict[str, Prediction | None]) -> None:
        """Put the kernel's would-it-block hint beside each blocking step (a button redraws only on a change)."""
        for step_id, hint in hints.items():
            self.step_button(step_id).hint = hint

    def show_refusals(self, refusals: dict[str, str | None]) -> None:
        """Show which steps cannot run now, and why."""
        for step_id, refusal in refusals.items():
            self.step_button(step_id).refusal = refusal

    def show_target(self, text: str) -> None:
        """Which sockets the steps act on, under the pane."""
        self.acts_on = text

    def watch_acts_on(self, text: str) -> None:
        set_subtitle(self, text)

    def show_progress(self, progress: tuple[int, int] | None) -> None:
        """A bulk transfer's bytes so far; before the first one, 0 of the size the settings ask for; or nothing.

        The bar is made (and the screen laid out for it) as soon as a size is set, not when the transfer starts:
        a layout in the first moments of a transfer cost it a fifth of its speed, and the bar's line is there
        when the bytes begin to move. It is docked at the pane's foot, below the part that scrolls, so it stays
        in sight while the settings are scrolled into view: scrolled out of sight it was unseen, and each update
        of it made Textual lay out the whole screen again (a widget refreshed off screen is not in its map of
        what is visible); docked over the scrolled fields, each update drew every field beneath it again."""
        if progress is None:
            size = self._prepared_size()
            progress = None if size is None else (0, size)
        if self._progress is None:
            if progress is None:
                return
            from textual.widgets import ProgressBar  # most sessions never need it: not at start-up

            self._progress = ProgressBar(id=f"{self.side.value}-progress", show_eta=False, classes="progress")
            self.mount(self._progress)
        self._progress.display = progress is not None
        if progress is not None:
            self._progress.update(total=progress[1], progress=progress[0])

    def _prepared_size(self) -> int | None:
        """The size of the bulk transfer the settings set up: sendall()'s size, else recv all's expect."""
        try:
            return self._setting("size", None, True) or self._setting("expect", None, True)
        except InputError:
            return None

    def show_sockets(self, choices: list[tuple[str, int]], chosen: int | None) -> None:
        """List the sockets this side can act on; `chosen` is the one its steps act on now."""
        select = self._select
        if select is None:
            if choices:
                from sockviz.widgets.socket_select import SocketSelect  # with the first socket, as the Select

                self._select = SocketSelect(choices, chosen, nothing=self.NOTHING[self.side], id=self._choice_id)
                self.query_one(".scrolled").mount(self._select, after=self._no_choice)
                self._no_choice.display = False
            return
        if not select.is_mounted:  # its parts are not made yet
            self.call_after_refresh(self.show_sockets, choices, chosen)
            return
        try:
            with self.prevent(Select.Changed):
                select.show(choices, chosen)
        except NoMatches:  # mounted, but its current-value part not yet composed (seen in a busy follower)
            self.call_after_refresh(self.show_sockets, choices, chosen)
            return

    async def start_over(self) -> None:
        """A fresh session: no socket to choose yet (the list, once made, stays and says so in a fresh pane's
        words: see SocketSelect) and no transfer; the fields keep what was typed."""
        self.acts_on = ""
        if self._select is not None:
            self.show_sockets([], None)
        if self._progress is not None:
            self._progress.display = False

    @on(Select.Changed, "#server-conn, #client-sock")
    def _socket_shown(self, event: Select.Changed) -> None:
        event.stop()  # the list took a value: the session's own choice shown, or the user's (said by Chosen)

    def on_socket_select_chosen(self, event: SocketSelect.Chosen) -> None:
        """The user's choice in the list (by its name: the list's module loads with the first socket)."""
        event.stop()
        self.post_message(self.SocketChosen(self, event.socket_id))
