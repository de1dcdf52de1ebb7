"""What start-up does not load: modules of which nothing runs before the first frame load with their first use
(benchmarks/README.md, "Start-up to the first frame"), and the core's names are all still there for a script."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import sockviz.core
import sockviz.core.story

LOADED_ON_FIRST_USE = (
    "sockviz.core.engine.calls",  # the first step
    "sockviz.core.engine.datagrams",
    "sockviz.core.engine.serving",
    "sockviz.core.kernel.predict",  # the first socket's would-it-block question
    "sockviz.core.story.recording.sockets",  # a recording's, a held-over connection's or a follower's rows
    "sockviz.widgets.socket_select",  # the first socket a pane can choose
    "sockviz.widgets.scenario_panel",  # the first lesson (screens/layout.py: the panes made on first open)
    "sockviz.widgets.timeline_view",  # the first `t`
    "sockviz.widgets.wire_pane",  # the first `w`
    "sockviz.widgets.pane_parts",  # the first opening of a pane's settings, or its first bulk transfer
)


def test_importing_the_app_leaves_what_the_first_frame_does_not_run_unloaded():
    script = "import sys, sockviz.app; print(' '.join(m for m in sys.modules if m.startswith('sockviz')))"
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = set(ran.stdout.split())
    assert "sockviz.app" in loaded and "sockviz.core.engine.session" in loaded
    assert loaded.isdisjoint(LOADED_ON_FIRST_USE), sorted(loaded.intersection(LOADED_ON_FIRST_USE))


FIRST_FRAME = """
import sys
from helpers import free_port
from sockviz.app import SockvizApp

async def first_frame(pilot):
    await pilot.pause()
    print(" ".join(m for m in sys.modules if m.startswith(("sockviz", "textual.widgets._"))))
    pilot.app.exit()

SockvizApp(port=free_port()).run(headless=True, size=(120, 36), auto_pilot=first_frame)
"""


def test_the_first_frame_leaves_them_unloaded_too():
    """Drawing the first screen runs code that importing does not (the first refresh, the held-over rows, the
    step panes): it loads none of them either, nor Textual's Collapsible, whose title stands alone until the
    settings first open."""
    ran = subprocess.run([sys.executable, "-c", FIRST_FRAME], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)  # fmt: skip
    loaded = set(ran.stdout.split())
    assert "sockviz.screens.session" in loaded and "textual.widgets._button" in loaded
    held_out = {*LOADED_ON_FIRST_USE, "textual.widgets._collapsible"}
    assert loaded.isdisjoint(held_out), sorted(loaded.intersection(held_out))


def test_every_name_the_core_and_the_story_export_is_the_one_of_its_module():
    for package in (sockviz.core, sockviz.core.story):
        assert set(package.__all__) <= set(dir(package))
        for name in package.__all__:
            value = getattr(package, name)
            home = importlib.import_module(getattr(value, "__module__", None) or "builtins")
            assert getattr(home, name, value) is value, name
    from sockviz.core import Session, StepArgs, endpoint, step, steps_of  # README's "For scripts and outside tests"
    from sockviz.core.story import tell

    assert (Session.__module__, StepArgs.__module__, tell.__module__) == (
        "sockviz.core.engine.session", "sockviz.core.model.step_args", "sockviz.core.story.sentences",
    )  # fmt: skip
    assert endpoint("127.0.0.1", "12354", 2).port == 12354 and step("server-bind") in steps_of(step("server-bind").side)
    try:
        sockviz.core.no_such_name  # noqa: B018 - the lookup is the test
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("an unknown name was found")
