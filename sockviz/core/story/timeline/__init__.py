"""The timeline: one lane per socket against a shared time axis, worked out as text with no user interface.

Three modules, one job each: `lanes` builds the model (a lane per socket, a mark per call) from
the session's events; `window` chooses the stretch of time a picture shows; `picture` draws
the lanes for a view as rows of cells. The names front ends use are all here.
"""

from sockviz.core.story.timeline.lanes import Lane, Lanes, Mark
from sockviz.core.story.timeline.picture import BLANK, GLYPHS, LEGEND, TICKS, Cell, Ink, Row, Timeline, ink, layout
from sockviz.core.story.timeline.window import SCALES, Span, Window, fit

__all__ = [
    "BLANK",
    "GLYPHS",
    "LEGEND",
    "SCALES",
    "TICKS",
    "Cell",
    "Ink",
    "Lane",
    "Lanes",
    "Mark",
    "Row",
    "Span",
    "Timeline",
    "Window",
    "fit",
    "ink",
    "layout",
]
