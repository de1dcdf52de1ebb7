"""`sockviz run`: play a scenario with no screen and print its story, for CI and for checking a lesson."""

from __future__ import annotations

import sys
from typing import TextIO

from sockviz.core import Endpoint, Event, Session
from sockviz.core.model.addresses import LOOPBACK
from sockviz.core.model.transport import Transport
from sockviz.core.scenario import lesson_port
from sockviz.core.scenario.language import Family, ScenarioError, parse
from sockviz.core.scenario.player import Player
from sockviz.core.story.recording.format import TimelineText
from sockviz.core.story.recording.recorder import Recorder
from sockviz.core.story.sentences import Storyteller
from sockviz.core.story.timeline import LEGEND, Timeline

EXIT_EXPECT_FAILED = 1
EXIT_BAD_SCENARIO = 2
_TEXT_COLUMN = 16
"""Where a line's text starts: after the time (8 wide), a space, the side (6 wide) and a space."""


def _in_column(text: str) -> str:
    """A multi-line code cell (a loop) with each further line in the text column, not under the times."""
    return text.replace("\n", "\n" + " " * _TEXT_COLUMN)


class Printer:
    """Writes the story as text: each event's line of the log, and each narration."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.closed = False
        self._storyteller = Storyteller()

    def event(self, event: Event) -> None:
        if self.closed:
            return
        text = "".join(
            f"{line.at:8.3f} {line.side:<6} {_in_column(line.text)}\n"
            + (f"{'':15} why: {line.why}\n" if line.why else "")
            for line in self._storyteller.lines(event)
        )
        if text:
            self._write(text)

    def say(self, line: int, text: str) -> None:
        if not self.closed:
            self._write(f"{'':15} » {text}\n")

    def timeline(self, picture: str) -> None:
        self._write(f"\n{picture}\n\n{LEGEND}\n")

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:  # `sockviz run ... | head`: stop writing, let the scenario finish
            self.closed = True


def run(
    scenario: str,
    endpoint: Endpoint,
    *,
    as_json: bool = False,
    record: TextIO | None = None,
    speed: float = 1.0,
    timeline_width: int | None = None,
    out: TextIO = sys.stdout,
    transport: Transport = Transport.TCP,
) -> int:
    """Play a scenario's text; the exit code: 0, 1 if an expect failed, 2 if the scenario is malformed.

    `as_json` prints the session format (the lines `--record` writes) instead of text; `record` writes
    that format to a file besides. With `timeline_width`, the timeline of the whole run follows the
    story, that many columns wide. `transport` is what socket() makes until a `transport` line of the
    scenario says otherwise (`--udp`).
    """
    try:
        lines = parse(scenario)
    except ScenarioError as error:
        sys.stderr.write(f"sockviz: scenario not run: {error}\n")
        return EXIT_BAD_SCENARIO
    said_first: list[tuple[int, str]] = []
    wanted = next((line for line in lines if isinstance(line, Family)), None)
    if wanted is not None and wanted.family != endpoint.family and endpoint.host == LOOPBACK[endpoint.family]:
        # A lesson about IPv6 is about ::1, as `-6` would have chosen; another host is the user's choice,
        # and the player then stops at the `family` line with the reason.
        endpoint = Endpoint(wanted.family, LOOPBACK[wanted.family], endpoint.port)
        said_first.append((wanted.line, f"this lesson runs over {wanted.word}, so it uses {endpoint.host}"))
    place = lesson_port.place(lines, endpoint)  # a port held where the lesson's bind() cannot pass: the next free
    if place.moved is not None:
        endpoint = place.endpoint
        said_first.append((place.line, place.moved))
    session = Session()
    printer = None if as_json else Printer(out)
    recorders = [
        Recorder.to_file(file, source="run") for file in ((out,) if as_json else ()) + ((record,) if record else ())
    ]
    for recorder in recorders:
        recorder.start(session, endpoint.host, endpoint.port, endpoint.family)
    if printer is not None:
        session.subscribe(printer.event)

    def say(line: int, text: str) -> None:
        if printer is not None:
            printer.say(line, text)
        for recorder in recorders:
            recorder.say(line, text)

    for first in said_first:
        say(*first)
    timeline = Timeline()
    session.subscribe(timeline.add)
    player = Player(session, endpoint, say, transport=transport)
    player.speed = speed
    try:
        outcome = player.play(lines)
    finally:
        for recorder in recorders:
            recorder.closing()
        session.close()
        player.join()
        if timeline_width is not None:
            picture = timeline.picture(timeline_width, timeline.latest)
            if printer is not None:
                printer.timeline(picture)
            for recorder in recorders:
                recorder.add(TimelineText(lines=tuple(picture.splitlines()), legend=LEGEND))
        for recorder in recorders:
            recorder.stop()
    return 0 if outcome.passed else EXIT_EXPECT_FAILED
