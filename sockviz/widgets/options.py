"""The keyword arguments every Textual widget takes, so a widget's own constructor can pass them on typed.

`**kwargs: Unpack[WidgetOptions]` lets the type checker see that `id=`, `classes=` and the rest
reach `Widget.__init__` as Textual declares them (`**kwargs: object` would not).
"""

from __future__ import annotations

from typing import TypedDict


class WidgetOptions(TypedDict, total=False):
    """What `textual.widget.Widget.__init__` takes by keyword besides its children."""

    name: str | None
    id: str | None
    classes: str | None
    disabled: bool
