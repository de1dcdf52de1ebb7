"""Command palette entries: the built-in lessons, and a fresh session.

With nothing typed, the palette lists them all (`discover`), so a lecturer finds the
lessons without knowing their names. Help lists the same entries, from here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from sockviz.core.scenario import lessons

RESET = "Reset session"
RESET_HELP = "close every socket and start a fresh session (key 0)"


def palette_entries() -> list[tuple[str, str]]:
    """Each entry of sockviz's own in the palette, with what it does."""
    return [(f"Lesson: {name}", lessons.summary(name)) for name in lessons.names()] + [(RESET, RESET_HELP)]


class LessonCommands(Provider):
    """`Lesson: echo`, `Lesson: blocking-order`, ... load a lesson, ready to play; `Reset session` starts over."""

    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        from sockviz.app import SockvizApp  # here, not at the top: the app imports this module

        host = self.app
        if not isinstance(host, SockvizApp):  # Textual types `self.app` as any App; only sockviz's loads lessons
            return []
        commands: list[tuple[str, Callable[[], object], str]] = [
            (f"Lesson: {name}", partial(host.load_lesson, name), lessons.summary(name)) for name in lessons.names()
        ]
        commands.append((RESET, host.action_reset_session, RESET_HELP))
        return commands

    async def discover(self) -> Hits:
        for command, run, what in self._entries():
            yield DiscoveryHit(command, run, help=what)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command, run, what in self._entries():
            score = matcher.match(command)
            if score > 0:
                yield Hit(score, matcher.highlight(command), run, help=what)
