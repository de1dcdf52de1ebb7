"""`sockviz follow HOST[:PORT]`: a student's sockviz, showing the lecturer's shared session, read-only.

The same session screen as the lecturer's, fed by a `Mirror` of the lecturer's session instead of a
session of its own: the lecturer's events come as they happen (a late follower gets the ones so far
first), the sockets' snapshots four times a second. Nothing a follower presses runs a call; the views
(timeline, help, themes, the projector layout) are the follower's own.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from textual import on
from textual.css.query import NoMatches

from sockviz.base_app import SockvizBase
from sockviz.core import DEFAULT_PORT, InputError
from sockviz.core.model.addresses import LOOPBACK, Endpoint
from sockviz.core.story.recording.format import FormatError, Note, Said, SessionStarted, WireShown
from sockviz.core.story.transcript import Transcript
from sockviz.exports import export_notebooks, export_scripts
from sockviz.faults import report
from sockviz.screens.class_question import ClassQuestion, reveal_text
from sockviz.screens.session import SessionScreen
from sockviz.share.mirror import Feed, Mirror, StartedAfresh
from sockviz.share.protocol import follow_url
from sockviz.tuning import Tuning

if TYPE_CHECKING:
    from sockviz.share.client import Following

EXPORT_TITLE = "The lecturer's sockviz session"
"""A follower's scripts and notebooks are the lecturer's session, as the follower heard it."""

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
        self.transcript = Transcript(self.feed.mirror)
        """The lecturer's calls as this follower heard them, for its own exports (f3, f4)."""
        self.question: dict[str, Any] | None = None
        """The lecturer's open question to the class, as the share sent it."""
        self.answers: dict[int, str] = {}
        self.connection: Following | None = None
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.session_screen = SessionScreen(
            self.feed.mirror, LOOPBACK[socket.AF_INET], DEFAULT_PORT, socket.AF_INET, following=where
        )
        self._following = False
        self._tuning = Tuning()
        """The collector tuned as the lecturer's app tunes it: a follower decodes every line of the lecturer's
        session, and its screen draws them, as the lecturer's does."""

    @property
    def mirror(self) -> Mirror:
        return self.feed.mirror

    async def _follow(self) -> None:
        from sockviz.share.client import Following, Refused  # aiohttp, only once the screen is up

        connection = Following(self.url, self.feed.frame, self._lost, self._rejoined)
        self.connection = connection
        try:
            why = await connection.run()
        except (Refused, FormatError) as refused:  # not a share, or one of another version
            self.exit(return_code=2, message=f"sockviz follow: {refused}")
            return
        self.session_screen.following_ended(why)

    def _lost(self, why: str) -> None:
        """The connection to the lecturer was lost: said in the bar and the log, and as a notice that outlasts
        the screen being made again when the join again succeeds."""
        self.session_screen.following_lost(why)
        self.notify(why, title="following", severity="warning", markup=False)

    def _rejoined(self) -> None:
        """Joined again after a loss: the state so far comes first, and the screen is made again from it."""
        self.notify("following again: the lecturer's session so far is shown again", title="following",
                    markup=False)  # fmt: skip

    def _show(self, shown: object) -> None:
        """What the feed does not keep in the mirror, on the app's loop, in order."""
        screen = self.session_screen
        if isinstance(shown, StartedAfresh):
            self.transcript = Transcript(shown.mirror)  # before any of its events: the feed holds them meanwhile
            self.feed.hold()  # until the screen has emptied its widgets for the fresh session
            screen.post_message(SessionScreen.StartOver(shown.mirror))
        elif isinstance(shown, SessionStarted):
            screen.lecturers_address(shown.host, shown.port, shown.family)
        elif isinstance(shown, Said):
            screen.lecturer_note(shown.at, "lesson", shown.text, "lesson")
        elif isinstance(shown, Note):  # a value the lecturer's field refused, say
            screen.lecturer_note(shown.at, shown.who, shown.text, shown.kind)
        elif isinstance(shown, WireShown):
            screen.lecturers_wire(shown.parts)
        elif isinstance(shown, dict):
            kind = shown.get("share")
            if kind == "lesson":
                screen.lecturers_lesson(str(shown.get("shown", "")))
            elif kind in ("question", "tally", "reveal", "withdrawn"):
                self._class_question(shown)

    # ----- the class's question -------------------------------------------------

    def _class_question(self, message: dict[str, Any]) -> None:
        kind, number = message.get("share"), message.get("question")
        if kind == "question":
            fresh = self.question is None or self.question.get("question") != number
            self.question = message
            if isinstance(self.screen, ClassQuestion):
                self.screen.show_tally(message.get("tally"))
            elif fresh:
                self.ask()
        elif kind == "tally" and isinstance(self.screen, ClassQuestion) and self.screen.number == number:
            self.screen.show_tally(message.get("tally"))
        elif kind == "withdrawn":
            if isinstance(self.screen, ClassQuestion):
                self.screen.dismiss(None)
            self.question = None
            self.session_screen.lecturer_note(self.mirror.now(), "class", f"question withdrawn: {message.get('why')}",
                                              "guide")  # fmt: skip
        elif kind == "reveal":
            if isinstance(self.screen, ClassQuestion):
                self.screen.dismiss(None)
            text = reveal_text(message, self.question)
            self.question = None
            self.session_screen.lecturer_note(self.mirror.now(), "class", text, "guide")
            self.notify(text, title="the class question", markup=False, in_log=False)  # the note above has it

    def ask(self) -> None:
        """Show the open question (again): the follower's answer goes to the lecturer."""
        question = self.question
        if question is None or isinstance(self.screen, ClassQuestion):
            return
        number = int(question["question"])

        def answered(choice: str | None) -> None:
            if choice is not None and self.connection is not None:
                self.connection.answer(number, choice)
                self.answers[number] = choice
                self.session_screen.lecturer_note(self.mirror.now(), "class", f"you answer: {choice}", "guide")

        self.push_screen(ClassQuestion(question), answered)

    def action_ask_again(self) -> None:
        """A follower's predict key opens the class's open question again (the lecturer's key asks it)."""
        if self.question is None:
            self.notify("no question is open: the lecturer's predict key asks the class", markup=False)
        else:
            self.ask()

    def on_load(self) -> None:
        self._tuning.start()

    def on_unmount(self) -> None:
        self._tuning.stop()

    @on(SessionScreen.Ready)
    def _screen_ready(self) -> None:
        """The screen is ready: the first time, follow (so its welcome comes before the lecturer's lines); after
        a reset, the lines held meanwhile go to it now."""
        if not self._following:
            self._following = True
            self.call_after_refresh(self._tuning.first_frame)
            self.run_worker(self._follow(), group="follow", exit_on_error=False, description=f"follow {self.url}")
        self.feed.release()

    def _handle_exception(self, error: Exception) -> None:
        """A follower's screen is made again at each of the lecturer's resets: a socket list mounted just
        before (its Select) can then meet its own parts gone, inside Textual (NoMatches). The follower goes
        on: the fault is said, as any other, and the fresh screen has its own lists."""
        if isinstance(error, NoMatches):
            report(self, "a widget that the lecturer's reset took away", error)
            return
        super()._handle_exception(error)

    # ----- what a follower may not do ------------------------------------------

    def action_reset_session(self) -> None:
        self.notify(NOT_HERE["reset_session"], title="following", markup=False)

    def action_restart_lesson(self) -> None:
        self.notify(NOT_HERE["restart_lesson"], title="following", markup=False)

    # ----- exports: the lecturer's session, from this follower's copy -------------

    def _export_endpoint(self) -> Endpoint:
        """The lecturer's session's address, for the scripts' HOST and PORT; InputError says why there is nothing
        to export."""
        started = self.mirror.started
        if started is None:
            raise InputError("export", "nothing has come from the lecturer yet")
        first = self.transcript.first_seq
        if first is None:
            raise InputError("export", "nothing has happened in the lecturer's session yet")
        if first > 1:
            raise InputError("export", f"this follower heard the lecturer's session from its event {first} on (it "
                             "joined after the share had let the oldest go), so the scripts would begin mid-session; "
                             "the lecturer exports it whole")  # fmt: skip
        family = socket.AF_INET6 if started.family == "AF_INET6" else socket.AF_INET
        return Endpoint(family, started.host, started.port)

    def action_export_scripts(self) -> None:
        """The lecturer's session so far, as this follower heard it, as server.py and client.py here; whether they
        can run is this machine's kernel's to say, where they will run."""
        export_scripts(self, self.transcript, self._export_endpoint, EXPORT_TITLE, own=False)

    def action_export_notebooks(self) -> None:
        """The lecturer's session so far as server.ipynb and client.ipynb (needs nbformat)."""
        export_notebooks(self, self.transcript, self._export_endpoint, EXPORT_TITLE)

    def action_export_pcap(self, plain: bool = False) -> None:
        self.notify("the frames stay on the lecturer's machine (a follower gets the wire view's lines only): the "
                    "lecturer saves the capture (p)", title="following", markup=False)  # fmt: skip
