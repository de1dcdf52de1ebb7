"""Readers of the event stream: the log's sentences, the timeline, the transcript, who sent a segment.

`tell(event)` is the log's sentence for one event, the same for every front end. It loads with its first
use (PEP 562's module `__getattr__`), so that importing one reader (the timeline, say) does not load the
sentences too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sockviz.core.story.sentences import duration, tell

__all__ = ["duration", "tell"]


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from sockviz.core.story import sentences

    value = getattr(sentences, name)
    globals()[name] = value  # asked once: the next lookup finds it without this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
