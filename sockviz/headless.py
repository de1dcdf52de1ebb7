"""`sockviz run`: play a scenario with no screen and print its story, for CI and for checking a lesson."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from sockviz.core import Endpoint, Event, Session
from sockviz.core.model.addresses import LOOPBACK
from sockviz.core.model.transport import Transport
from sockviz.core.scenario.language import Family, ScenarioError, parse
from sockviz.core.scenario.player import Player
from sockviz.core.story.sentences import Storyteller
from sockviz.core.story.timeline import LEGEND, Timeline

EXIT_EXPECT_FAILED = 1
EXIT_BAD_SCENARIO = 2
_TEXT_COLUMN = 16
"""Where a line's text starts: after the time (8 wide), a space, the side (6 wide) and a space."""


class Printer:
    """Writes the story (and each narration) as lines of text or of JSON."""

    def __init__(self, out: TextIO, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json
        self.closed = False
        self._storyteller = Storyteller()

    def event(self, event: Event) -> None:
        if self.closed:
            return
        try:
            self._print(event)
        except BrokenPipeError:  # `sockviz run ... | head`: stop writing, let the scenario finish
            self.closed = True

    def _print(self, event: Event) -> None:
        for line in self._storyteller.lines(event):
            if self.as_json:
                record = {"seq": line.seq, "at": round(line.at, 6), "type": line.kind, "side": line.side,
                          "step": line.step_id, "text": line.text}  # fmt: skip
                if line.why:
                    record["why"] = line.why
                self.out.write(json.dumps(record) + "\n")
            else:
                text = line.text.replace("\n", "\n" + " " * _TEXT_COLUMN)  # a loop's lines stay in the text column
                self.out.write(f"{line.at:8.3f} {line.side:<6} {text}\n")
                if line.why:
                    self.out.write(f"{'':15} why: {line.why}\n")
        self.out.flush()

    def say(self, line: int, text: str) -> None:
        if self.closed:
            return
        if self.as_json:
            self._write(json.dumps({"type": "say", "line": line, "text": text}) + "\n")
        else:
            self._write(f"{'':15} » {text}\n")

    def timeline(self, picture: str) -> None:
        if self.as_json:
            self._write(json.dumps({"type": "timeline", "lines": picture.splitlines(), "legend": LEGEND}) + "\n")
        else:
            self._write(f"\n{picture}\n\n{LEGEND}\n")

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            self.closed = True


def run(
    scenario: str,
    endpoint: Endpoint,
    *,
    as_json: bool = False,
    speed: float = 1.0,
    timeline_width: int | None = None,
    out: TextIO = sys.stdout,
    transport: Transport = Transport.TCP,
) -> int:
    """Play a scenario's text; the exit code: 0, 1 if an expect failed, 2 if the scenario is malformed.

    With `timeline_width`, the timeline of the whole run follows the story, that many columns wide.
    `transport` is what socket() makes until a `transport` line of the scenario says otherwise (`--udp`).
    """
    try:
        lines = parse(scenario)
    except ScenarioError as error:
        sys.stderr.write(f"sockviz: scenario not run: {error}\n")
        return EXIT_BAD_SCENARIO
    printer = Printer(out, as_json)
    wanted = next((line for line in lines if isinstance(line, Family)), None)
    if wanted is not None and wanted.family != endpoint.family and endpoint.host == LOOPBACK[endpoint.family]:
        # A lesson about IPv6 is about ::1, as `-6` would have chosen; another host is the user's choice,
        # and the player then stops at the `family` line with the reason.
        endpoint = Endpoint(wanted.family, LOOPBACK[wanted.family], endpoint.port)
        printer.say(wanted.line, f"this lesson runs over {wanted.word}, so it uses {endpoint.host}")
    session = Session()
    session.subscribe(printer.event)
    timeline = Timeline()
    session.subscribe(timeline.add)
    player = Player(session, endpoint, printer.say, transport=transport)
    player.speed = speed
    try:
        outcome = player.play(lines)
    finally:
        session.close()
        player.join()
    if timeline_width is not None:
        printer.timeline(timeline.picture(timeline_width, timeline.latest))
    return 0 if outcome.passed else EXIT_EXPECT_FAILED
