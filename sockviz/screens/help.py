"""What each step does and which key runs it, in the lesson's words."""

from __future__ import annotations

from typing import ClassVar

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from sockviz.core import STEPS
from sockviz.core.story.timeline import LEGEND

INTRO = (
    "Every step, clicked or run by its key, makes one real call on a real socket, in its own "
    "thread. A call that must wait blocks only its thread: go to the other side and run the "
    "step it waits for. The table shows each socket as Python and the kernel see it; the log tells the "
    "story. Closing a socket whose call is blocked wakes that call."
)


def steps_table() -> Table:
    table = Table(expand=True, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("key", no_wrap=True)
    table.add_column("#", no_wrap=True)
    table.add_column("step", no_wrap=True)
    table.add_column("what it does")
    for step in STEPS:
        table.add_row(
            Text(step.key, style="bold"),
            Text(str(step.course_step or "")),
            Text(f"{step.side.value} {step.label}"),
            Text(step.explains),
        )
    return table


class HelpScreen(ModalScreen[None]):
    """The keys and the steps."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,question_mark,q", "dismiss", "close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as help_box:
            help_box.border_title = "sockviz: the steps and their keys"
            help_box.border_subtitle = "escape closes"
            yield Static(Text(INTRO), id="help-intro")
            yield Static(steps_table(), id="help-steps")
            yield Static(
                Text.assemble(
                    ("t", "bold"),
                    " shows the timeline: a lane per socket, time running to the right. A bar is a call "
                    "that waited; it turns towards the call that ended the wait. Click a call to have it "
                    "told on the last line. In the timeline, f holds the "
                    "picture still, ← → move in time, + − zoom, ↑ ↓ go through the lanes.\n",
                    (LEGEND, "italic"),
                ),
                id="help-timeline",
            )
            yield Static(
                Text(
                    "tab reaches a pane's steps: ↑ ↓ move, enter runs · "
                    "6 switches IPv4/IPv6 · w shows the wire (needs root) · p saves it as pcap · "
                    "f3 exports server.py and client.py · f2 high contrast · f12 saves an SVG picture · "
                    "escape leaves a text field · ctrl+q quits",
                    style="dim",
                ),
                id="help-keys",
            )
