"""Which sockets the panes act on: the subtitle that names them, and the lists a pane chooses from.

The session keeps the current listener, connection and client; a pane only shows them, and a choice
in its list or in the table goes back to the session (`Session.select`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from sockviz.core import Role, Target

if TYPE_CHECKING:
    from sockviz.core import Session, TrackedSocket
    from sockviz.widgets.step_pane import StepPane

MAX_CHOICES = 200
"""The newest sockets a pane's list offers; after a burst of a thousand, the table still has every row."""


def show_targets(session: Session, server_pane: StepPane, client_pane: StepPane) -> None:
    """Say on each pane which sockets its steps act on now, and list the ones it can choose."""
    listener = session.current(Target.LISTENER)
    conn = session.current(Target.CONNECTION)
    client = session.current(Target.CLIENT)
    names = dict.fromkeys(t.name for t in (listener, conn) if t is not None)
    server_pane.show_target("acts on " + ", ".join(names) if names else "")
    client_pane.show_target(f"acts on {client.name}" if client else "")
    sockets = session.sockets
    for role, pane, chosen in ((Role.CONNECTION, server_pane, conn), (Role.CLIENT, client_pane, client)):
        newest = list(itertools.islice((t for t in reversed(sockets) if t.role is role), MAX_CHOICES))
        choices = [(choice_label(t), t.id) for t in reversed(newest)]
        pane.show_sockets(choices, chosen.id if chosen is not None and chosen.role is role else None)


def choice_label(tracked: TrackedSocket) -> str:
    """A socket as a pane's list names it: its name and the peer's port, or that it is closed."""
    if tracked.closed:
        return f"{tracked.name} closed"
    return f"{tracked.name} ↔ :{tracked.ends[1][1]}" if tracked.ends else tracked.name


def socket_by_id(session: Session, socket_id: int | None) -> TrackedSocket | None:
    """The session's socket with that id (a table row's key, a list's value), or None once it is gone."""
    return next((t for t in session.sockets if t.id == socket_id), None)


def select(session: Session, socket_id: int | None, server_pane: StepPane, client_pane: StepPane) -> None:
    """The user chose a socket (a table row, a pane's list): its side's steps act on it from now on."""
    tracked = socket_by_id(session, socket_id)
    if tracked is not None:
        session.select(tracked)
        show_targets(session, server_pane, client_pane)
