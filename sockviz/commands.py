"""Command palette entries: the built-in lessons."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

from sockviz.core.scenario import lessons


class LessonCommands(Provider):
    """`Lesson: echo`, `Lesson: blocking-order`, ... load a lesson, ready to play."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name in lessons.names():
            command = f"Lesson: {name}"
            score = matcher.match(command)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(command), partial(self.app.load_lesson, name), help=lessons.summary(name)
                )
