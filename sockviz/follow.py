"""`sockviz follow HOST[:PORT]`: a student's sockviz, showing the lecturer's shared session, read-only.

The same session screen as the lecturer's, fed by a `Mirror` of the lecturer's session instead of a
session of its own: the lecturer's events come as they happen (a late follower gets the ones so far
first), the sockets' snapshots four times a second. Nothing a follower presses runs a call; the views
(timeline, help, themes, the projector layout) are the follower's own.
"""

from __future__ import annotations

import socket

from textual import on

from sockviz.app import SockvizBase
from sockviz.core.model.addresses import LOOPBACK
from sockviz.core.story.recording.format import Note, Said
from sockviz.screens.session import SessionScreen
from sockviz.share.mirror import FOLLOWING, Feed, Mirror, StartedAfresh
from sockviz.share.protocol import follow_url

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
        self.feed = Feed(self._show)
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.session_screen = SessionScreen(
            self.feed.mirror, LOOPBACK[socket.AF_INET], 0, socket.AF_INET, following=where
        )

    @property
    def mirror(self) -> Mirror:
        return self.feed.mirror

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self._follow(), group="follow", exit_on_error=False, description=f"follow {self.url}")

    async def _follow(self) -> None:
        from sockviz.share.client import Connection, Refused  # aiohttp, only once the screen is up

        connection = Connection(self.url, self.feed.frame)
        self.connection = connection
        try:
            why = await connection.run()
        except Refused as refused:
            self.exit(return_code=2, message=f"sockviz follow: {refused}")
            return
        self.session_screen.following_ended(why)

    def _show(self, shown: object) -> None:
        """What the feed does not keep in the mirror, on the app's loop, in order."""
        screen = self.session_screen
        if isinstance(shown, StartedAfresh):
            self.feed.hold()  # until the screen has made its widgets again for the fresh session
            screen.post_message(SessionScreen.StartOver(shown.mirror))
        elif isinstance(shown, Said):
            screen.lecturer_note(shown.at, "lesson", shown.text, "lesson")
        elif isinstance(shown, Note):
            screen.lecturer_note(shown.at, shown.who, shown.text, shown.kind)
        elif isinstance(shown, dict):
            kind = shown.get("share")
            if kind == "lesson":
                screen.lecturers_lesson(str(shown.get("shown", "")))
            elif kind in ("question", "tally", "reveal"):
                screen.class_question(shown)

    @on(SessionScreen.Ready)
    def _screen_ready(self) -> None:
        """The screen is ready for the fresh session: the lines held meanwhile go to it now."""
        self.feed.release()

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
