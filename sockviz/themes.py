"""A high-contrast theme for projectors: white on black, and saturated colours that survive a washed-out screen."""

from __future__ import annotations

from textual.theme import Theme

HIGH_CONTRAST = Theme(
    name="sockviz-high-contrast",
    primary="#00B7FF",
    secondary="#00B7FF",
    accent="#FFE000",
    warning="#FFE000",
    error="#FF4D4D",
    success="#3DFF6E",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1C1C1C",
    boost="#2A2A2A",
    dark=True,
)
