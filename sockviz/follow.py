"""`sockviz follow HOST[:PORT]`: a student's sockviz, showing the lecturer's shared session, read-only.

The same session screen as the lecturer's, fed by a `Mirror` of the lecturer's session instead of a
session of its own: the lecturer's events come as they happen (a late follower gets the ones so far
first), the sockets' snapshots four times a second. Nothing a follower presses runs a call; the views
(timeline, help, themes, the projector layout) are the follower's own.
"""

from __future__ import annotations

import socket
from typing import Any

from textual import on

from sockviz.app import SockvizBase
from sockviz.core.model.addresses import LOOPBACK
from sockviz.screens.session import SessionScreen
from sockviz.share.mirror import FOLLOWING, Mirror
from sockviz.share.protocol import follow_url, plain_code

NOT_HERE = {
    "reset_session": "the lecturer resets the session, not a follower",
    "restart_lesson": "the lecturer plays the lesson, not a follower",
}
"""The app keys that would change the session, and why a follower's do nothing."""


class FollowApp(SockvizBase):
    """The lecturer's session on a student's screen."""

    def __init__(self, host: str, port: int, code: str) -> None:
        super().__init__()
        self.address = (host, port)
        self.url = follow_url(host, port, code)
        self.code = plain_code(code)
        self.mirror = Mirror()
        self._held: list[dict[str, Any]] | None = None
        """Frames that came while the screen made its widgets again for a fresh session: applied once it is ready."""
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.session_screen = SessionScreen(self.mirror, LOOPBACK[socket.AF_INET], 0, socket.AF_INET, following=where)
        self.connection_frames = 0

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self._follow(), group="follow", exit_on_error=False, description=f"follow {self.url}")

    async def _follow(self) -> None:
        from sockviz.share.client import Connection, Refused  # aiohttp, only once the screen is up

        connection = Connection(self.url, self._frame)
        self.connection = connection
        try:
            why = await connection.run()
        except Refused as refused:
            self.exit(return_code=2, message=f"sockviz follow: {refused}")
            return
        self.session_screen.following_ended(why)

    def _frame(self, frame: dict[str, Any]) -> None:
        """Every frame, in order, on the app's loop."""
        self.connection_frames += 1
        if self._held is not None:
            self._held.append(frame)
            return
        kind = frame.get("type")
        if kind in ("events", "picture"):
            self.mirror.apply(frame)
        elif kind == "note":
            self.session_screen.lecturer_note(frame)
        elif kind == "lesson":
            self.session_screen.lecturers_lesson(frame)
        elif kind == "hello":
            self.session_screen.lecturer_hello(frame)
        elif kind == "start_over":
            self._held = []
            self.mirror = Mirror()
            self.session_screen.post_message(SessionScreen.StartOver(self.mirror))
        elif kind in ("question", "tally", "reveal"):
            self.session_screen.class_question(frame)

    @on(SessionScreen.Ready)
    def _screen_ready(self) -> None:
        """The screen is ready for the fresh session: the frames held meanwhile go to it now."""
        held, self._held = self._held, None
        for frame in held or ():
            self._frame(frame)

    # ----- what a follower may not do ------------------------------------------

    def action_reset_session(self) -> None:
        self.notify(NOT_HERE["reset_session"], title="following", markup=False)

    def action_restart_lesson(self) -> None:
        self.notify(NOT_HERE["restart_lesson"], title="following", markup=False)

    def action_export_scripts(self) -> None:
        self.notify(f"{FOLLOWING}: the lecturer exports the scripts", title="following", markup=False)

    def action_export_notebooks(self) -> None:
        self.notify(f"{FOLLOWING}: the lecturer exports the notebooks", title="following", markup=False)

    def action_export_pcap(self, plain: bool = False) -> None:
        self.notify("the wire is captured on the lecturer's machine", title="following", markup=False)
