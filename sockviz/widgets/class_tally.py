"""The class's answers to the open question, as a histogram: the lecturer sees it live, the class when shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from sockviz.widgets.options import WidgetOptions

BAR = 24
"""The longest bar, in cells: the choice most chose."""


def histogram(tally: Mapping[str, int], following: int | None, *, hidden: bool = False) -> Text:
    """`12 of 30 answered`, then one bar a choice (or, hidden, that the bars wait for the reveal)."""
    answered = sum(tally.values())
    of = "" if following is None else f" of {following}"
    text = Text(f"the class: {answered}{of} answered", style="bold")
    if hidden:
        text.append("\nthe histogram is hidden until the step runs", style="italic")
        return text
    most = max(tally.values(), default=0) or 1
    width = max((len(choice) for choice in tally), default=0)
    for choice, count in tally.items():
        bar = "█" * round(BAR * count / most) if count else ""
        text.append(f"\n{choice:<{width}} ").append(bar, style="bold").append(f" {count}")
    return text


class ClassTally(Static):
    """The lecturer's view of the class's answers, while a question is open to the class."""

    DEFAULT_CSS = """
    ClassTally {
        height: auto;
        padding: 0 1;
        margin: 1 0 0 0;
        border: round $accent;
    }
    """

    shown: reactive[tuple[tuple[tuple[str, int], ...], int | None, bool]] = reactive(((), None, False), init=False)
    """(choice and count..., how many follow, hidden): only a change is drawn."""

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__("", **kwargs)

    def show(self, tally: Mapping[str, int], following: int | None, *, hidden: bool) -> None:
        self.shown = (tuple(tally.items()), following, hidden)

    def watch_shown(self, shown: tuple[tuple[tuple[str, int], ...], int | None, bool]) -> None:
        counts, following, hidden = shown
        self.update(histogram(dict(counts), following, hidden=hidden))
