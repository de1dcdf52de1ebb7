"""The parts of a step pane that come later, with their rules: the settings once opened, a transfer's bar.

This module loads with the first of them (the pane imports it then): Textual's Collapsible and ProgressBar do
not load at start-up, and Textual reads a widget's rules when the first one is mounted, so their five rules
are not read at start-up either.
"""

from __future__ import annotations

from textual.widgets import Collapsible, ProgressBar


class Settings(Collapsible):
    """A pane's "more settings", opened: Textual's Collapsible, flat in the pane (no padding, no border)."""

    SCOPED_CSS = False  # the pane's rules for it, kept with the widget they are for
    DEFAULT_CSS = """
    StepPane Collapsible {
        padding: 0;
        border: none;
    }
    StepPane CollapsibleTitle {
        padding: 0;
    }
    StepPane Collapsible > Contents {
        padding: 0;
    }
    """


class TransferBar(ProgressBar):
    """A bulk transfer's bytes so far, docked at the pane's foot, as wide as the pane."""

    SCOPED_CSS = False
    DEFAULT_CSS = """
    StepPane .progress {
        dock: bottom;
        width: 100%;
    }
    StepPane .progress Bar {
        width: 1fr;
    }
    """
