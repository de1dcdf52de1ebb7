"""The sockviz app: the server and client panes, the sockets table and the log.

The app owns no socket logic. It turns clicks and keys into steps for the
core's Session, runs each step in a thread worker, and renders the events
and snapshots that come back.
"""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer

from sockviz.core import (
    DEFAULT_PORT,
    STEPS,
    Action,
    InputError,
    Role,
    Session,
    Side,
    SocketAdded,
    Step,
    StepArgs,
    StepBlocked,
    StepFinished,
    Target,
    TrackedSocket,
    step,
)
from sockviz.core.addresses import LOOPBACK
from sockviz.messages import SessionEvent
from sockviz.screens.help import HelpScreen
from sockviz.widgets.endpoint_bar import EndpointBar
from sockviz.widgets.event_log import EventLog
from sockviz.widgets.socket_detail import SocketDetail
from sockviz.widgets.sockets_table import SocketsTable, activity
from sockviz.widgets.step_pane import DEFAULT_CLIENT_MESSAGE, StepPane

STEP_THREADS = 256
"""Threads for steps. asyncio's default pool has cpus + 4 (6 on two cores), and
every blocked step holds one: a seventh blocked accept() would wait unseen."""

REFRESH_SECONDS = 0.25
"""How often the table re-reads the sockets, so blocked times and kernel queues stay live."""


def _step_bindings() -> list[Binding]:
    groups = {
        Side.SERVER: Binding.Group("server", compact=True),
        Side.CLIENT: Binding.Group("client", compact=True),
    }
    return [
        Binding(s.key, f"run_step('{s.id}')", f"{s.side.value} {s.label}", group=groups[s.side], tooltip=s.code)
        for s in STEPS
    ]


class SockvizApp(App[None]):
    """Both ends of a TCP connection, one real call per click."""

    CSS_PATH = "app.tcss"
    TITLE = "sockviz"
    BINDINGS: ClassVar[list[BindingType]] = [
        *_step_bindings(),
        Binding("6", "toggle_family", "IPv4/IPv6"),
        Binding("f1,question_mark", "help", "help"),
        Binding("escape", "leave_field", "leave field", show=False),
    ]

    def __init__(
        self,
        host: str | None = None,
        port: int = DEFAULT_PORT,
        ipv6: bool = False,
        *,
        session: Session | None = None,
    ) -> None:
        super().__init__()
        self.family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.host = host or LOOPBACK[self.family]
        self.port = port
        self.session = session or Session()
        self._blocked: set[int] = set()
        self._refresh_due = False
        self._unsubscribe = self.session.subscribe(self._from_session)

    # ----- building -------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The app keeps its widgets: a query would search whichever screen is on top (help, say).
        self._bar = EndpointBar(self.host, self.port, self.family, id="endpoint")
        self._panes = {
            Side.SERVER: StepPane(Side.SERVER, id="server-pane"),
            Side.CLIENT: StepPane(Side.CLIENT, message=DEFAULT_CLIENT_MESSAGE, id="client-pane"),
        }
        self._table = SocketsTable(id="sockets")
        self._detail = SocketDetail(id="repr")
        self._log = EventLog(id="log")
        yield self._bar
        with Horizontal(id="main"):
            yield self._panes[Side.SERVER]
            with Vertical(id="middle"):
                yield self._table
                yield self._detail
            yield self._panes[Side.CLIENT]
        yield self._log
        yield Footer(compact=True)

    def on_load(self) -> None:
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=STEP_THREADS, thread_name_prefix="sockviz-step")
        )

    def on_mount(self) -> None:
        self.set_interval(REFRESH_SECONDS, self.refresh_sockets)
        self.refresh_sockets()
        self._table.focus()

    def on_unmount(self) -> None:
        """Wake every blocked step before Textual waits for its threads: quitting must never hang."""
        self._unsubscribe()
        self.session.close()

    # ----- running steps ---------------------------------------------------

    def action_run_step(self, step_id: str) -> None:
        self.run_step(step(step_id))

    @on(StepPane.StepPressed)
    def _step_pressed(self, event: StepPane.StepPressed) -> None:
        self.run_step(event.step)

    def run_step(self, chosen: Step) -> None:
        """Check the step's inputs here; run the call itself in a thread worker."""
        try:
            args = self._args_for(chosen)
        except InputError:
            self.bell()
            return
        self.run_worker(
            partial(self.session.perform, chosen, args),
            name=chosen.id,
            group="steps",
            description=chosen.code,
            thread=True,
            exit_on_error=False,
        )

    def _args_for(self, chosen: Step) -> StepArgs:
        bar = self._bar
        pane = self._panes[chosen.side]
        args = StepArgs(family=bar.family)
        if chosen.action in (Action.BIND, Action.CONNECT):
            args.endpoint = bar.endpoint()
        elif chosen.action is Action.SEND:
            args.payload = pane.payload()
            target = self.session.current(chosen.target)
            if args.payload is None and target is not None and target.last_received is None:
                reason = f"nothing received on {target.name} yet to echo: type a message"
                pane.refuse_message(reason)
                raise InputError("message", reason)
        elif chosen.action is Action.SHUTDOWN:
            args.how = pane.how()
        return args

    # ----- what comes back -------------------------------------------------

    def _from_session(self, event: object) -> None:
        """Called in the thread that caused the event; post_message is safe from any thread."""
        self.post_message(SessionEvent(event))  # type: ignore[arg-type]

    @on(SessionEvent)
    def _session_event(self, message: SessionEvent) -> None:
        event = message.event
        if isinstance(event, StepBlocked):
            self._blocked.add(event.call.id)
        elif isinstance(event, StepFinished):
            self._blocked.discard(event.call.id)
        self._log.show(event)
        if isinstance(event, (SocketAdded, StepFinished)):
            self._show_targets()
        if not self._refresh_due:
            # A burst of events (a thousand connects, say) costs one table refresh per frame, not one per event.
            self._refresh_due = True
            self.call_after_refresh(self.refresh_sockets)

    def refresh_sockets(self) -> None:
        """Re-read every socket (a few microseconds each) and update what changed."""
        self._refresh_due = False
        if not self._table.is_attached:
            return  # the app is closing
        now = self.session.now()
        rows = []
        for tracked in self.session.sockets:
            snap = tracked.snapshot()
            rows.append((tracked, snap, activity(tuple(tracked.in_flight), self._blocked, now, snap.closed)))
        self._table.show(rows)
        self._show_detail()

    def _show_detail(self) -> None:
        tracked = self._socket(self._table.socket_id_at_cursor())
        self._detail.show(tracked, tracked.snapshot() if tracked else None)

    def _show_targets(self) -> None:
        """Say on each pane which sockets its steps act on now."""
        listener = self.session.current(Target.LISTENER)
        conn = self.session.current(Target.CONNECTION)
        client = self.session.current(Target.CLIENT)
        chosen_conn = conn if conn is not None and conn.role is Role.CONNECTION else None
        server = self._panes[Side.SERVER]
        server.border_subtitle = (
            "acts on " + ", ".join(dict.fromkeys(t.name for t in (listener, conn) if t is not None)) if listener else ""
        )
        self._panes[Side.CLIENT].border_subtitle = f"acts on {client.name}" if client else ""
        choices = [
            (f"{t.name} {'closed' if t.closed else '← :' + str(t.snapshot().raddr[1])}", t.id)
            for t in self.session.sockets
            if t.role is Role.CONNECTION
        ]
        server.show_connections(choices, chosen_conn.id if chosen_conn else None)

    def _socket(self, socket_id: int | None) -> TrackedSocket | None:
        return next((t for t in self.session.sockets if t.id == socket_id), None)

    # ----- choosing sockets -----------------------------------------------

    @on(DataTable.RowHighlighted, "#sockets")
    def _row_highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#sockets")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        tracked = self._socket(int(event.row_key.value or 0))
        if tracked is not None:
            self.session.select(tracked)
            self._show_targets()

    @on(StepPane.ConnectionChosen)
    def _connection_chosen(self, event: StepPane.ConnectionChosen) -> None:
        tracked = self._socket(event.socket_id)
        if tracked is not None:
            self.session.select(tracked)
            self._show_targets()

    # ----- other keys ------------------------------------------------------

    def action_toggle_family(self) -> None:
        self._bar.toggle_family()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_leave_field(self) -> None:
        self._table.focus()
