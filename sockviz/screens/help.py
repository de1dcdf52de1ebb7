"""Every key, read from the real bindings, and what each step does, in the lesson's words.

As Posting's help screen does, this one reads the bindings themselves: the app's,
its screen's, and those of each widget on that screen, so help can never name a key
that does not exist or miss one that does. The command palette's entries come from
the palette's own provider. Only the titles and the intro are written here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from sockviz.commands import palette_entries
from sockviz.core.model.steps import STEPS_BY_ID
from sockviz.core.model.transport import TRANSPORT_KEY, Transport
from sockviz.core.story.timeline import LEGEND
from sockviz.keys import SECTIONS, KeyRow, explain, key_display, rows, section_of, step_id
from sockviz.screens.layout import SessionRows

INTRO = (
    "Every step, clicked or run by its key, makes one real call on a real socket, in its own "
    "thread. A call that must wait blocks only its thread: go to the other side and run the "
    "step it waits for. The table shows each socket as Python and the kernel see it; the log tells the "
    "story. Closing a socket whose call is blocked wakes that call."
)

ON_TRANSPORT = {
    Transport.TCP: "The steps below are TCP's, as the switch in the top bar says now; "
    f"{TRANSPORT_KEY} switches to UDP, where the "
    "same keys call sendto() and recvfrom(), and listen() and accept() fail for real.",
    Transport.UDP: f"The steps below are UDP's, as the switch in the top bar says now ({TRANSPORT_KEY} switches back "
    "to TCP): "
    "datagrams, no connection, and nothing that tells a sender whether anyone got what it sent.",
}
NOT_SWITCHED = {
    Transport.TCP: "The steps below are TCP's, as the buttons name them now; on UDP the same steps call sendto() "
    "and recvfrom(), and listen() and accept() fail for real.",
    Transport.UDP: "The steps below are UDP's, as the buttons name them now: datagrams, no connection, and nothing "
    "that tells a sender whether anyone got what it sent.",
}
"""Over a screen whose steps run nothing (a replay, a follower's), where no key switches the transport."""

WIDGET_TITLES = {
    "FamilyToggle": "on the IPv4/IPv6 switch in the top bar (tab to it)",
    "TransportToggle": "on the TCP/UDP switch in the top bar (tab to it)",
    "StepButton": "on a pane's steps (tab to them)",
    "TimelineView": "in the timeline (t, then tab or click to it)",
}
"""What to call a widget's keys; a widget not named here is called by its docstring's first line."""


def steps_table(bindings: Iterable[Binding], transport: Transport = Transport.TCP) -> Table:
    """The steps, by the keys that are really bound to them, as they read on `transport`."""
    table = Table(expand=True, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("key", no_wrap=True)
    table.add_column("#", no_wrap=True)
    table.add_column("step", no_wrap=True)
    table.add_column("what it does")
    for row in rows(bindings):
        step = STEPS_BY_ID.get(step_id(row.action) or "")
        if step is None:
            continue
        form = step.on(transport)
        table.add_row(
            Text(row.shown_keys, style="bold"),
            Text(str(step.course_step or "")),
            Text(f"{step.side.value} {form.label}"),
            Text(form.explains),
        )
    return table


def _transport_of(screen: Screen) -> Transport:
    """The transport the screen beneath shows now (its top bar's switch); TCP for a screen without one."""
    try:
        transport = getattr(screen, "transport", Transport.TCP)
    except NoMatches:  # a reset is making its widgets again
        return Transport.TCP
    return transport if isinstance(transport, Transport) else Transport.TCP


def keys_table(title: str, key_rows: list[KeyRow]) -> Table:
    table = Table(expand=True, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=title,
                  title_justify="left", title_style="bold")  # fmt: skip
    table.add_column("key", no_wrap=True, min_width=10)
    table.add_column("what it does")
    for row in key_rows:
        table.add_row(Text(row.shown_keys, style="bold"), Text(explain(row)))
    return table


def widget_bindings(screen: Screen) -> list[tuple[str, list[BindingType]]]:
    """Each sockviz widget class on the screen with keys of its own, once, with what to call them and all
    the keys it answers to (those it inherits from Textual's widget too: a step button's enter)."""
    found: dict[str, tuple[str, list[BindingType]]] = {}
    held = [(type(widget), widget._bindings) for widget in screen.walk_children(Widget)]
    if isinstance(screen, SessionRows):  # the panes it makes on first open have their keys already
        held += [(cls, cls._merge_bindings()) for cls in screen.panes_to_come()]
    for cls, bindings in held:
        own = cls.__dict__.get("BINDINGS")
        if not own or not cls.__module__.startswith("sockviz") or cls.__name__ in found:
            continue
        title = WIDGET_TITLES.get(cls.__name__) or (cls.__doc__ or cls.__name__).strip().splitlines()[0]
        found[cls.__name__] = (title, [binding for _, binding in bindings])  # with Textual's own: enter
    return list(found.values())


class HelpScreen(ModalScreen[None]):
    """The keys and the steps, for the screen beneath."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,question_mark,q", "dismiss", "close help")]
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen #help {
        width: 90%;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    HelpScreen #help-intro, HelpScreen #help-steps, HelpScreen #help-timeline {
        margin: 0 0 1 0;
    }
    """

    def __init__(self, beneath: Screen | None = None) -> None:
        super().__init__()
        self.beneath = beneath
        """The screen whose keys are listed: the one help opened over."""

    def all_bindings(self) -> list[Binding]:
        """The app's and the screen's own bindings, as Textual holds them (keymaps applied), system ones aside."""
        beneath = self.beneath or self.app.screen_stack[0]
        held = [*self.app._bindings, *beneath._bindings]
        return [binding for _, binding in held if not binding.system]

    def compose(self) -> ComposeResult:
        bindings = self.all_bindings()
        beneath = self.beneath or self.app.screen_stack[0]
        with VerticalScroll(id="help") as help_box:
            help_box.border_title = "sockviz: every key, and what the steps do"
            help_box.border_subtitle = "escape closes"
            transport = _transport_of(beneath)
            switches = getattr(beneath, "live", None) is not None  # this app's own session, not a copy of one
            on_transport = (ON_TRANSPORT if switches else NOT_SWITCHED)[transport]
            yield Static(Text(f"{INTRO} {on_transport}"), id="help-intro")
            yield Static(steps_table(bindings, transport), id="help-steps")
            titles = [group.description for group in SECTIONS]
            by_section: dict[str, list[Binding]] = {}
            for binding in bindings:
                if not step_id(binding.action):
                    by_section.setdefault(section_of(binding), []).append(binding)
            for title in sorted(by_section, key=lambda t: titles.index(t) if t in titles else len(titles)):
                yield Static(keys_table(title, rows(by_section[title])), classes="help-keys")
            for title, own in widget_bindings(beneath):
                yield Static(keys_table(title, rows(own)), classes="help-keys")
            palette = keys_table(f"in the command palette ({self._palette_key()}, then type)", [])
            for name, what in palette_entries():
                palette.add_row(Text(name, style="bold"), Text(what))
            yield Static(palette, classes="help-keys")
            yield Static(Text.assemble(("the timeline's marks: ", "bold"), LEGEND), id="help-timeline")

    def _palette_key(self) -> str:
        return key_display(Binding(self.app.COMMAND_PALETTE_BINDING, "command_palette"))
