"""Command palette entries: the built-in lessons."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

from sockviz.core.scenario import lessons


class LessonCommands(Provider):
    """`Lesson: echo`, `Lesson: blocking-order`, ... load a lesson, ready to play."""

    async def search(self, query: str) -> Hits:
        from sockviz.app import SockvizApp  # here, not at the top: the app imports this module

        app = self.app
        if not isinstance(app, SockvizApp):  # Textual types `self.app` as any App; only sockviz's loads lessons
            return
        matcher = self.matcher(query)
        for name in lessons.names():
            command = f"Lesson: {name}"
            score = matcher.match(command)
            if score > 0:
                yield Hit(score, matcher.highlight(command), partial(app.load_lesson, name), help=lessons.summary(name))
