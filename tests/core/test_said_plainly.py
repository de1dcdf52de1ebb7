"""Sentences a newcomer read as untrue or alarming (qa's report, "Left for owners"), each checked on real sockets."""

from __future__ import annotations

import io
import socket

from helpers import Background, Recorder, free_port, wait_for

from sockviz.core import Call, Endpoint, Session, Side, StepArgs, StepCalled, StepFailed, StepReturned, step
from sockviz.core.model.options import option_setting
from sockviz.core.model.transport import Transport
from sockviz.core.story.next_steps import next_line, welcome
from sockviz.core.story.sentences import reason, tell
from sockviz.headless import Printer


def test_setblocking_is_told_as_setblocking_not_setsockopt(loopback):
    loopback.run("server-socket")
    done = loopback.run("server-option", option=option_setting("setblocking", "0"))
    assert tell(done).startswith("setblocking() returned"), tell(done)
    assert "setsockopt" not in tell(done)
