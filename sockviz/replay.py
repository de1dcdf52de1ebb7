"""`sockviz replay FILE`: a recorded session, played back read-only, with no socket and no network.

The app is as thin as the live one: it reads the recording (a FormatError says what is wrong with it,
before any screen opens) and shows one `ReplayScreen`. Nothing here opens a socket, so a recording
replays on a machine with no network privileges, or none at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from sockviz.core.story.recording.format import read_lines
from sockviz.core.story.recording.playback import Playback
from sockviz.keys import APP_BINDINGS
from sockviz.screens.help import HelpScreen
from sockviz.screens.replay import ReplayScreen
from sockviz.themes import HIGH_CONTRAST, NO_DIM_FILTER

VIEW_ACTIONS = ("help", "toggle_contrast", "command_palette", "quit", "save_picture")
"""The app's keys that a replay keeps: the views and the picture; reset, exports and lessons act on a live
session, which a replay has not."""


def read_playback(path: Path) -> Playback:
    """The recording at `path`, read whole; OSError or FormatError (with the line at fault) otherwise."""
    with path.open(encoding="utf-8") as file:
        return Playback(read_lines(file, name=str(path)))


class ReplayApp(App[None]):
    """A recorded session, moment by moment."""

    CSS_PATH = "app.tcss"
    TITLE = "sockviz replay"
    BINDINGS: ClassVar[list[BindingType]] = [
        b for b in APP_BINDINGS if isinstance(b, Binding) and b.action in VIEW_ACTIONS
    ]

    def __init__(self, playback: Playback, title: str) -> None:
        super().__init__()
        self.replay_screen = ReplayScreen(playback, title)

    def get_default_screen(self) -> ReplayScreen:
        return self.replay_screen

    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.screen))

    def get_line_filters(self):
        filters = super().get_line_filters()
        return [NO_DIM_FILTER, *filters] if self.theme == HIGH_CONTRAST.name else filters

    def action_toggle_contrast(self) -> None:
        self.theme = "textual-dark" if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    def action_save_picture(self) -> None:
        path = self.save_screenshot(path=str(Path.cwd()))
        self.notify(f"saved {path}", title="picture", markup=False)
