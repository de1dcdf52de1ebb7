"""The narration of a scenario beside the log: what the lesson says, what runs next, and the controls."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class Narration(Static):
    """Shown while a scenario is loaded."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.title = ""
        self.said = ""
        self.next_line = ""
        self.state = "paused"
        self.speed = 1.0

    def show(self) -> None:
        text = Text()
        text.append(f"{self.title}\n", style="bold")
        if self.said:
            text.append(f"{self.said}\n", style="italic")
        if self.next_line:
            text.append("next: ", style="dim").append(f"{self.next_line}\n")
        text.append(f"{self.state} · speed {self.speed:g}x", style="dim")
        text.append("\nspace play/pause · n one step · + / - speed", style="dim")
        self.update(text)
