"""The socket work of sockviz, with no user interface: steps, sessions, snapshots, events.

Nothing here imports Textual (an import-linter contract checks it), so a
scripted run, a test or another front end can use the core as it is.
"""

from sockviz.core.engine.session import Session
from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.kernel.snapshot import SocketSnapshot, take_snapshot
from sockviz.core.model.addresses import DEFAULT_PORT, Endpoint, check_host, endpoint, parse_port, resolve
from sockviz.core.model.errors import InputError
from sockviz.core.model.events import (
    BurstStarted,
    Call,
    Event,
    ListenerFailed,
    SocketAdded,
    StepBlocked,
    StepCalled,
    StepFailed,
    StepFinished,
    StepRefused,
    StepReturned,
)
from sockviz.core.model.payload import parse_payload, show_bytes
from sockviz.core.model.step_args import StepArgs
from sockviz.core.model.steps import STEPS, Action, Side, Step, Target, step, steps_of

__all__ = [
    "DEFAULT_PORT",
    "STEPS",
    "Action",
    "BurstStarted",
    "Call",
    "Endpoint",
    "Event",
    "InputError",
    "ListenerFailed",
    "Role",
    "Session",
    "Side",
    "SocketAdded",
    "SocketSnapshot",
    "Step",
    "StepArgs",
    "StepBlocked",
    "StepCalled",
    "StepFailed",
    "StepFinished",
    "StepRefused",
    "StepReturned",
    "Target",
    "TrackedSocket",
    "check_host",
    "endpoint",
    "parse_payload",
    "parse_port",
    "resolve",
    "show_bytes",
    "step",
    "steps_of",
    "take_snapshot",
]
