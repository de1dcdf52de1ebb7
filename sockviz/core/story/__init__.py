"""Readers of the event stream: the log's sentences, the timeline, the transcript, who sent a segment.

`tell(event)` is the log's sentence for one event, the same for every front end.
"""

from sockviz.core.story.sentences import duration, tell

__all__ = ["duration", "tell"]
