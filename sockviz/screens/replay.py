"""The replay screen: a recorded session shown as it was at each moment, with no socket and no network.

It composes the session screen's widgets (the panes, the table, `print(s)`, the log, the timeline) and
feeds them from a `Playback` instead of a live Session: space plays the recording at its own pace, `n`
shows the next moment and ← the one before. The steps' buttons and keys run nothing, and say so; the view
keys work as they do live. A follower can use the same screen, adding records as they come.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import events, getters, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.css.scalar import Scalar
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select, Static

from sockviz.core import Side, Step, StepCalled, steps_of
from sockviz.core.model.transport import Transport
from sockviz.core.story.recording.format import Record, SessionStarted, WireShown
from sockviz.core.story.recording.playback import Playback, Scene
from sockviz.core.story.timeline import Timeline
from sockviz.faults import guarded
from sockviz.keys import REPLAY_BINDINGS, REPLAY_OFF
from sockviz.screens import views
from sockviz.screens.layout import TIMELINE, WIRE, LatePane, SessionRows, main_row
from sockviz.widgets.event_log import EventLog
from sockviz.widgets.key_bar import KeyBar
from sockviz.widgets.step_pane import StepPane
from sockviz.widgets.timeline_view import TimelineView
from sockviz.widgets.wire_pane import WirePane

NO_WIRE = (
    "No wire line in this recording: the wire's lines are recorded only while the recording sockviz's wire view "
    "(w) captured (and by sockviz since the session format's `wire` records)."
)
NO_WIRE_YET = "No wire line yet at this moment: the recording's first comes later."

ENDED_HERE = "the session ended here"
"""The bar at a session's last moment."""

LONGEST_PAUSE = 2.0
"""Playing, a longer gap between two moments (a lecturer talking) is cut to this many seconds."""
SHORTEST_GAP = 0.01
"""Playing, two moments recorded at the same time are shown this many seconds apart."""


class ReplayBar(Static):
    """Which recording, which session, which moment, and whether it plays.

    Its height is the lines the longest it can say takes at this width (the keys go to a second line at 80
    columns rather than past the edge), not the lines of what it says now: a moment with a note on the table
    made it a line taller, and the whole screen below moved down and back as one stepped through."""

    DEFAULT_CSS = """
    ReplayBar {
        height: 1;
        padding: 0 1;
        background: $boost;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(markup=False, id=id)  # a recording's file name is no markup: `echo[2].jsonl` stays
        self._said = ""
        self._longest = ""

    def say(self, said: str, longest: str) -> None:
        """Say `said`, with room kept for `longest`: what the bar may say at another moment of the recording."""
        self._said, self._longest = said, longest
        self.update(said)
        self._fit()

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        width = self.content_size.width
        if not width:
            return  # not laid out yet: its first resize fits it
        lines = max(len(Content(text).wrap(width)) for text in (self._said, self._longest))
        if self.styles.height != Scalar.from_number(lines):
            self.styles.height = lines


class ReplayScreen(SessionRows):
    """A recorded session, moment by moment: read-only, as it was."""

    BINDINGS: ClassVar[list[BindingType]] = list(REPLAY_BINDINGS)

    DEFAULT_CSS = """
    ReplayScreen {
        layout: vertical;
    }
    ReplayScreen.-projector StepPane {
        display: none;
    }
    ReplayScreen.-projector #bottom, ReplayScreen.-projector #main {
        height: 1fr;
    }
    """

    @dataclass
    class Moved(Message):
        """The screen now shows another moment (tests and a follower's status wait for it)."""

        screen: ReplayScreen
        moment: int

        @property
        def control(self) -> ReplayScreen:
            return self.screen

    bar = getters.query_one("#replay-bar", ReplayBar)

    def __init__(self, playback: Playback, title: str) -> None:
        super().__init__()
        self.playback = playback
        self.title_text = title
        self.moment = -1
        """The moment shown; -1 before the first is drawn."""
        self.scene: Scene | None = None
        self.timeline = Timeline()
        self.playing = False
        self._player: Timer | None = None
        self._lines_written = 0
        self._events_added = 0
        self._wire_written = 0
        self._session: SessionStarted | None = None
        self._transport = Transport.TCP

    def compose(self) -> ComposeResult:
        yield ReplayBar(id="replay-bar")
        yield from main_row(StepPane(Side.SERVER, id="server-pane"), StepPane(Side.CLIENT, id="client-pane"))
        with Horizontal(id="bottom"):
            yield EventLog(id="log")  # the timeline and the wire come when first opened (layout.py)
        yield KeyBar(id="keys")

    LATE = (TIMELINE, WIRE)

    def make_pane(self, pane: LatePane[Any]) -> Widget:
        """The timeline or the wire, made on first open: the timeline of the moments shown so far, and the
        wire's lines up to the moment shown (`pane_opened`)."""
        if pane is TIMELINE:
            return TimelineView(self.timeline, self._now, id=TIMELINE.pane_id)
        if pane is WIRE:
            return WirePane(id=WIRE.pane_id)
        return super().make_pane(pane)

    def pane_opened(self, pane: Widget) -> None:
        if isinstance(pane, WirePane):  # the replay loads both pane modules: it is no start-up
            self._write_wire(pane)

    @property
    def wire(self) -> WirePane:
        """The wire pane (`w`), made now if it was not."""
        return self.opened(WIRE)

    def on_mount(self) -> None:
        for side in Side:
            pane = self.query_one(f"#{side.value}-pane", StepPane)
            pane.show_refusals({s.id: REPLAY_OFF for s in steps_of(side)})
            pane.show_target("replay")
        for field in self.query("StepPane Input, StepPane Select").results():
            field.disabled = True  # nothing is sent from a replay: its fields are the live app's
        self.call_after_refresh(self.show_moment, 0)
        self.table.focus()

    def _now(self) -> float:
        return self.scene.at if self.scene is not None else 0.0

    # ----- moving in the recording ----------------------------------------------

    @guarded
    def show_moment(self, moment: int) -> None:
        """Show the screen as it was at this moment (clamped to the recording's first and last)."""
        if not len(self.playback):
            self.bar.say(f"{self.title_text}: the recording holds no moment to show", "")
            return
        moment = max(0, min(moment, len(self.playback) - 1))
        scene = self.playback.scene(moment)
        fresh = scene.session is not self._session or moment < self.moment
        self.moment, self.scene = moment, scene
        if fresh:
            self._start_over(scene)
        log = self.event_log
        for line in scene.lines[self._lines_written :]:
            log.write_line(line)
        self._lines_written = len(scene.lines)
        for event in scene.events[self._events_added :]:
            self.timeline.add(event)
        self._events_added = len(scene.events)
        self._show_transport(scene)
        if (wire := self.built(WIRE)) is not None:  # one never opened is written up to the moment when it opens
            self._write_wire(wire)
        self.table.show_held(scene.held)  # before the session's rows: they stay the table's first rows
        self.table.show((state, state.as_shown(), state.doing) for state in scene.sockets.values())
        self._show_detail()
        if (timeline := self.built(TIMELINE)) is not None and timeline.display:
            timeline.refresh()
        self._show_bar()
        self.post_message(self.Moved(self, moment))

    @property
    def transport(self) -> Transport:
        """What the steps' buttons name: the transport of the moment's newest call (help explains the steps on it)."""
        return self._transport

    def _show_transport(self, scene: Scene) -> None:
        """The buttons name the calls of the recording's newest call's transport, as the live panes named them:
        a UDP session's replay said `sendall()` and `recv()` beside a log of `sendto()` and `recvfrom()`."""
        newest = next((e.call for e in reversed(scene.events) if isinstance(e, StepCalled)), None)
        transport = newest.transport if newest is not None else Transport.TCP
        if transport is not self._transport:
            self._transport = transport
            for side in Side:
                self.query_one(f"#{side.value}-pane", StepPane).show_transport(transport)

    def _start_over(self, scene: Scene) -> None:
        """Back in time, or into another session: the widgets start empty and are written up to the moment."""
        self._session = scene.session
        self.table.start_over()
        self.event_log.start_over()
        if scene.session is not None:
            where = f"{scene.session.host}:{scene.session.port} ({scene.session.family})"
            self.event_log.note(0.0, "replay", f"session {scene.session.number} of the recording, on {where}")
        self._lines_written = 0
        if (wire := self.built(WIRE)) is not None:
            wire.clear()
        self._wire_written = 0
        self.timeline = Timeline()
        if (timeline := self.built(TIMELINE)) is not None:
            timeline.timeline = self.timeline
        self._events_added = 0

    def _write_wire(self, wire: WirePane) -> None:
        """The wire's lines of the moments shown since the last."""
        if self.scene is None:
            return
        for shown in self.scene.wire[self._wire_written :]:
            wire.show_parts(shown.parts)
        self._wire_written = len(self.scene.wire)

    def _show_bar(self) -> None:
        state = "playing" if self.playing else "paused"
        ended = f" · {ENDED_HERE}" if self.scene is not None and self.scene.ended else ""
        # the table's reading, when it is not this moment's own: two calls a fraction of a millisecond apart
        # share one reading, and the bar says which the table shows rather than let it pass for the moment's
        read = f" · {self.scene.reading}" if self.scene is not None and self.scene.reading else ""
        keys = "space pauses" if self.playing else "space plays · n next · ← back"
        longest = (
            f"replay: {self.title_text} · {self.playback.describe(len(self.playback) - 1)} · paused · {ENDED_HERE} · "
            f"{self.playback.longest_reading()} · space plays · n next · ← back"
        )
        self.bar.say(
            f"replay: {self.title_text} · {self.playback.describe(self.moment)} · {state}{ended}{read} · {keys}",
            longest,
        )

    def _show_detail(self) -> None:
        scene = self.scene
        chosen = self.table.socket_id_at_cursor()
        state = scene.sockets.get(chosen) if scene is not None and chosen is not None else None
        self.detail.show(state, state.snapshot if state is not None else None)

    def action_moment(self, step: int) -> None:
        self.pause()
        self.show_moment(self.moment + step)

    def action_first_moment(self) -> None:
        self.pause()
        self.show_moment(0)

    def action_last_moment(self) -> None:
        self.pause()
        self.show_moment(len(self.playback) - 1)

    def action_play_pause(self) -> None:
        if self.playing:
            self.pause()
            return
        if self.moment >= len(self.playback) - 1:
            self.show_moment(0)  # played to the end: space plays it again from the start
        self.playing = True
        self._show_bar()
        self._play_next()

    def pause(self) -> None:
        self.playing = False
        if self._player is not None:
            self._player.stop()
            self._player = None
        if self.is_attached:
            self._show_bar()

    @guarded
    def _play_next(self) -> None:
        """Wait as long as the recording did between this moment and the next (long pauses cut short)."""
        self._player = None
        if not self.playing:
            return
        if self.moment >= len(self.playback) - 1:
            self.pause()
            return
        gap = self.playback.gap(self.moment)
        # Never a timer of 0 s: Textual's skips its only tick (it divides by the interval), and the play stopped
        # for good at the first two moments recorded at one time (a predict verdict and the call it is about).
        self._player = self.set_timer(min(max(gap, SHORTEST_GAP), LONGEST_PAUSE), self._advance)

    @guarded
    def _advance(self) -> None:
        if self.playing:
            self.show_moment(self.moment + 1)
            self._play_next()

    def add(self, record: Record) -> None:
        """A record that has just come (a follower's): shown at once if the screen was at the last moment."""
        at_end = self.moment >= len(self.playback) - 1
        if self.playback.add(record) and at_end and not self.playing:
            self.show_moment(len(self.playback) - 1)

    # ----- what runs nothing, saying why -----------------------------------------

    def action_refuse_step(self, step_id: str) -> None:
        self._refuse(step_id)

    @on(StepPane.StepPressed)
    def _step_pressed(self, event: StepPane.StepPressed) -> None:
        self._refuse(event.step.id)

    def _refuse(self, step_id: str) -> None:
        from sockviz.core import step

        chosen: Step = step(step_id)
        self.app.bell()
        self.notify(f"{chosen.side.value} {chosen.label} not run: {REPLAY_OFF}", title="replay", markup=False)

    # ----- views -------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#sockets")
    @guarded
    def _row_highlighted(self) -> None:
        self._show_detail()

    def on_resize(self, event: events.Resize) -> None:
        views.fit_width(self.bottom, event.size.width)

    def action_toggle_timeline(self) -> None:
        views.toggle_timeline(self.timeline_view, self.bottom, self.table)

    def action_toggle_projector(self) -> None:
        views.toggle_projector(self, self.table)

    def action_toggle_wire(self) -> None:
        """The wire view's lines as the recording app's pane drew them, up to the moment; or why there are none."""
        wire = self.wire
        wire.display = not wire.display
        views.wire_shown(self.bottom, wire.display)
        if not wire.display:
            return
        wire.show_hidden()
        if not wire.lines_shown:
            recorded = any(isinstance(record, WireShown) for record in self.playback.records)
            wire.clear()
            wire.note(NO_WIRE_YET if recorded else NO_WIRE)
        self.call_after_refresh(views.tell_size, wire)

    @on(Input.Changed)
    @on(Select.Changed)
    def _field_changed(self, event: Message) -> None:
        event.stop()
