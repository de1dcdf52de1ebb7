"""Readers of the event stream: the log's sentences, the code of each call, the timeline, the transcript.

`tell(event)` is the log's sentence for one event, the same for every front end.
"""

from sockviz.core.story.sentences import duration, tell

__all__ = ["duration", "tell"]
