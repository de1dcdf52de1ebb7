"""A high-contrast theme for projectors: white on black, saturated colours, and nothing dim.

A washed-out projector turns grey into nothing, so this theme makes every muted colour full white (and what
cannot be used now a light blue): sockviz's widgets draw timestamps, hints and closed rows in component
classes coloured `$text-muted` (never a literal "dim"), and write their lines again when the theme changes.
`NoDim` (a line filter the app uses while the theme is on) drops the dim attribute that Textual's own
widgets still use (a Select's prompt, an Input's placeholder, the command palette).
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import NO_DIM, LineFilter
from textual.theme import Theme

WHITE = "#FFFFFF"
DISABLED = "#7FD4FF"
"""A step that cannot run now (and a field's placeholder): a light blue, as bright as white on a projector but
not white, so it still looks unlike a step that can run. Grey would wash out."""

HIGH_CONTRAST = Theme(
    name="sockviz-high-contrast",
    primary="#00B7FF",
    secondary="#00B7FF",
    accent="#FFE000",
    warning="#FFE000",
    error="#FF4D4D",
    success="#3DFF6E",
    foreground=WHITE,
    background="#000000",
    surface="#000000",
    panel="#1C1C1C",
    boost="#2A2A2A",
    dark=True,
    variables={
        "text": WHITE,
        "text-muted": WHITE,
        "text-disabled": DISABLED,
        "footer-description-foreground": WHITE,
        "footer-key-foreground": "#FFE000",
        "block-cursor-blurred-foreground": WHITE,
    },
)


class NoDim(LineFilter):
    """Every dim segment drawn at full strength."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            Segment(segment.text, segment.style + NO_DIM, segment.control)
            if segment.style is not None and segment.style.dim
            else segment
            for segment in segments
        ]


NO_DIM_FILTER = NoDim()
