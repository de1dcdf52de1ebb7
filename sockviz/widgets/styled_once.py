"""Widgets that skip the restyles Textual asks for before their screen is first shown.

Textual restyles a widget (matches it against every rule of the stylesheet) each time one of its classes
changes. Its Button and Input change their own classes as they are made and again as they mount, and
sockviz marks the steps that cannot run before the screen is shown: three restyles for each of the 26
steps, a sixth of start-up's work on styles. Each was wasted: a widget is styled when it mounts, and a
screen restyles every widget it holds when it is first shown (`Screen._on_screen_resume`). Once the
screen has been shown, every change restyles at once, as in Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.dom import NoScreen

if TYPE_CHECKING:
    from textual.widget import Widget

    _Mixin = Widget
else:
    _Mixin = object  # not a widget class itself: Textual takes a widget's CSS type from its first widget base


class StyledOnceShown(_Mixin):
    """A mixin, before a Textual widget class: restyle for a change of class only once the screen was shown."""

    def update_node_styles(self, animate: bool = True) -> None:
        try:
            shown = self.screen.stack_updates > 0
        except NoScreen:  # not mounted yet: it is styled when it mounts
            return
        if shown:
            super().update_node_styles(animate)
