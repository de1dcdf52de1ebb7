"""The style of a widget's component class, for the Rich Text it writes: colour and text style, no background.

Widgets name their looks as component classes in `DEFAULT_CSS` (`color: $text-muted`, `text-style: bold`),
never as literal styles, so a theme decides them: the high-contrast theme makes `$text-muted` white, where
a literal "dim" would turn grey on a washed-out projector. Textual's `partial` component style takes the
colour without its alpha (`$text-muted` is the foreground at 60%, so it came out full white); the full one
blends it over the widget's background but brings that background too, which would paint over a table's
cursor row or zebra stripe. `ink` keeps the blended colour and the text style, and drops the background.
"""

from __future__ import annotations

from functools import lru_cache

from rich.style import Style
from textual.widget import Widget


def ink(widget: Widget, component: str) -> Style:
    """The colour and text style of `component` (one of the widget's COMPONENT_CLASSES) in the current theme.
    Textual caches the component style until the styles change (a new theme), and this its foreground."""
    return _foreground(widget.get_component_rich_style(component))


@lru_cache(maxsize=512)
def _foreground(full: Style) -> Style:
    return full.without_color + Style(color=full.color)
