"""The timeline pane: the core's timeline picture, in colour, following the present.

The picture itself (lanes, bars, joins, axis) is worked out by
`sockviz.core.story.timeline`; this widget only chooses the window of time to show,
paints each cell by its ink, and takes the keys that move the window.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from itertools import groupby
from operator import itemgetter
from typing import ClassVar, Unpack

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widget import Widget

from sockviz.core.story.next_steps import fitted
from sockviz.core.story.timeline import LEGEND, Ink, Mark, Row, Span, Timeline, Window
from sockviz.keys import rows
from sockviz.widgets.options import WidgetOptions
from sockviz.widgets.subtitle import GUIDE_MARGIN

HINTED = ("freeze", "scroll_time(-1)", "scroll_time(1)", "zoom(-1)", "zoom(1)")
"""The keys the pane's border names (help lists them all); the words come from their bindings."""


def hints(bindings: list[BindingType]) -> str:
    """`click a call · f hold/follow · ← earlier · → later · + zoom in · - zoom out`, read from the bindings."""
    found = {row.action: row for row in rows(bindings)}
    return " · ".join(["click a call", *(f"{found[a].keys[0]} {found[a].description}" for a in HINTED if a in found)])


STORY_LINES = 3
"""The most lines the story under the lanes takes: a log sentence with its addresses, at 80 columns."""
LANES_KEPT = 3
"""Lines the story leaves the lanes at least (or as many as there are lanes): ↑ and ↓ show the others."""

LABEL_WIDTH = 8
"""Room for a lane's name; longer names (`conn1000`) are cut at the left."""


def lane_label(label: str, width: int = LABEL_WIDTH) -> str:
    """A lane's name in `width` cells: `conn (thread 2)` as `conn t2` (cut at the left, `conn`'s 2 and its
    thread's were `hread 2)`: the socket's name was gone), any other cut at the left (`conn1000` keeps its
    number)."""
    if len(label) > width and label.endswith(")") and " (" in label:
        name, thread = label[:-1].split(" (", 1)
        label = f"{name} {thread.replace('thread ', 't')}"
    return label[-width:]


class TimelineView(Widget, can_focus=True):
    """One lane per socket, time running to the right."""

    DEFAULT_CSS = """
    TimelineView {
        display: none;
        border: round $accent;
        padding: 0 1;
    }
    TimelineView:focus {
        border: round $primary;
    }
    TimelineView > .timeline--alive { color: $text-muted; }
    TimelineView > .timeline--call { color: $text-success; text-style: bold; }
    TimelineView > .timeline--waiting { color: $text-warning; text-style: bold; }
    TimelineView > .timeline--waited { color: $text-success; }
    TimelineView > .timeline--failed { color: $text-error; text-style: bold; }
    TimelineView > .timeline--join { color: $text-accent; text-style: bold; }
    TimelineView > .timeline--server { color: $text-accent; }
    TimelineView > .timeline--client { color: $text-primary; }
    TimelineView > .timeline--story { color: $text-muted; text-style: italic; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "scroll_time(-1)", "earlier", show=False),
        Binding("right", "scroll_time(1)", "later", show=False),
        Binding("home", "scroll_time(-1000000)", "start", show=False),
        Binding("end", "follow", "follow", show=False),
        Binding("f", "freeze", "hold/follow", show=False),
        Binding("plus,equals_sign", "zoom(-1)", "zoom in", show=False),
        Binding("minus", "zoom(1)", "zoom out", show=False),
        Binding("up", "scroll_lanes(-1)", "lanes up", show=False),
        Binding("down", "scroll_lanes(1)", "lanes down", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"timeline--{ink.value}" for ink in Ink} | {
        "timeline--server",
        "timeline--client",
        "timeline--story",
    }

    def __init__(self, timeline: Timeline, now: Callable[[], float], **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self.timeline = timeline
        self.window = Window()
        self.first_lane = 0
        self._now = now
        self._view: Span | None = None
        self._picked: Mark | None = None
        """The call last clicked: the story line tells it until a click elsewhere."""
        self.story = ""
        """What the pane's last lines tell (the wait or error that changed last, or the call clicked), whole."""
        self.story_lines: list[str] = [""]
        """The story as drawn, in lines of the pane's width."""
        self.border_subtitle = hints(self.BINDINGS)
        self.tooltip = LEGEND

    def on_resize(self, event: events.Resize) -> None:
        """The keys on the bottom border, as many as fit whole (at 80 columns `← earlier · → later · …` was cut)."""
        said = fitted(hints(self.BINDINGS), self.outer_size.width - GUIDE_MARGIN)
        if self.border_subtitle != said:
            self.border_subtitle = said

    def on_mount(self) -> None:
        self.set_interval(0.25, self._tick)

    def start_over(self, timeline: Timeline, now: Callable[[], float]) -> None:
        """A fresh session's timeline and clock, following the present, from the first lane."""
        self.timeline, self._now = timeline, now
        self.window = Window()
        self.first_lane = 0
        self._view = self._picked = None
        self.refresh()

    def _tick(self) -> None:
        """Bars of waiting calls grow while the view follows the present."""
        if self.display and self.window.following:
            self.refresh()

    # ----- drawing -----------------------------------------------------------

    def _lanes_shown(self) -> int:
        return max(self.content_size.height - 1 - len(self.story_lines), 1)  # less the axis and the story

    def _wrap_story(self, story: str) -> list[str]:
        """The story in lines of the pane's width, cut by words: as many as it needs up to STORY_LINES, while
        the lanes keep LANES_KEPT lines (or as many as there are); the last cut with `…` only past that. One
        line cropped at the edge said half a sentence (`conn is a new` at 130 columns)."""
        width = max(self.content_size.width, 1)
        lines = textwrap.wrap(story, width) or [""]
        room = self.content_size.height - 1 - min(self.timeline.lane_count, LANES_KEPT)
        most = max(1, min(STORY_LINES, room))
        if len(lines) > most:
            lines = lines[:most]
            lines[-1] = lines[-1][: width - 1].rstrip() + "…"
        return lines

    def view(self) -> Span:
        columns = self.content_size.width - LABEL_WIDTH - 1
        return self.window.view(self._now(), columns, self.timeline.latest)

    def render(self) -> Text:
        view = self._view = self.view()
        if self._picked is not None:
            story = self._picked.describe(view.now)
        else:
            story = self.timeline.story_at(view) if self.timeline.lane_count else LEGEND
        self.story = story
        self.story_lines = self._wrap_story(story)
        self.first_lane = min(self.first_lane, max(self.timeline.lane_count - self._lanes_shown(), 0))
        title = "timeline · " + ("following" if self.window.following else f"held at {view.now:.1f} s (f: follow)")
        if self.border_title != title:
            self.border_title = title
        text = Text(no_wrap=True, overflow="crop")
        styles = {ink: self.get_component_rich_style(f"timeline--{ink.value}") for ink in Ink}
        self._draw(text, self.timeline.axis(view), styles)
        rows = self.timeline.rows(view, self.first_lane, self._lanes_shown())
        for row in rows:
            text.append("\n")
            self._draw(text, row, styles)
        text.append("\n" * (self._lanes_shown() - len(rows)))
        text.append("\n").append("\n".join(self.story_lines), style=self.get_component_rich_style("timeline--story"))
        return text

    def _draw(self, text: Text, row: Row, styles: dict[Ink, Style]) -> None:
        label_style = Style() if row.side is None else self.get_component_rich_style(f"timeline--{row.side.value}")
        text.append(f"{lane_label(row.label):>{LABEL_WIDTH}} ", style=label_style)
        for ink, run in groupby(row.cells, key=itemgetter(1)):  # one span per run of the same ink, not one per cell
            text.append("".join(char for char, _ in run), style=styles[ink])

    def on_click(self, event: events.Click) -> None:
        """A click on a mark or a bar tells that call on the story line; a click elsewhere lets go."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        lane, column = offset.y - 1, offset.x - LABEL_WIDTH - 1  # below the axis, right of the names
        view = self._view or self.view()
        self._picked = self.timeline.mark_at(view, self.first_lane + lane, column) if lane >= 0 else None
        self.refresh()

    # ----- keys ------------------------------------------------------------------

    def action_scroll_time(self, pages: int) -> None:
        """A quarter of the width per press: enough to move, little enough to keep one's place."""
        view = self._view or self.view()
        self.window.scroll(view, pages * max(view.columns // 4, 1))
        self.refresh()

    def action_freeze(self) -> None:
        """Hold the picture still to talk about it; press again to follow the present."""
        if self.window.following:
            self.window.hold(self._view or self.view())
        else:
            self.window.follow()
        self.refresh()

    def action_follow(self) -> None:
        self.window.follow()
        self.refresh()

    def action_zoom(self, steps: int) -> None:
        self.window.zoom(self._view or self.view(), steps)
        self.refresh()

    def action_scroll_lanes(self, lanes: int) -> None:
        self.first_lane = max(self.first_lane + lanes, 0)
        self.refresh()
