"""The socket work of sockviz, with no user interface: steps, sessions, snapshots, events.

Nothing here imports Textual (an import-linter contract checks it), so a
scripted run, a test or another front end can use the core as it is.

The names here load with their first use (PEP 562's module `__getattr__`): `from sockviz.core import Step`
loads the steps' module, not the engine with its calls, the kernel's questions and the events, start-up
time the app's first frame need not pay for all of at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

_HOMES = {
    "Action": "sockviz.core.model.steps",
    "BurstStarted": "sockviz.core.model.events",
    "Call": "sockviz.core.model.events",
    "DEFAULT_PORT": "sockviz.core.model.addresses",
    "Endpoint": "sockviz.core.model.addresses",
    "Event": "sockviz.core.model.events",
    "InputError": "sockviz.core.model.errors",
    "ListenerFailed": "sockviz.core.model.events",
    "Role": "sockviz.core.engine.tracked",
    "STEPS": "sockviz.core.model.steps",
    "Session": "sockviz.core.engine.session",
    "Side": "sockviz.core.model.steps",
    "SocketAdded": "sockviz.core.model.events",
    "SocketSnapshot": "sockviz.core.kernel.snapshot",
    "Step": "sockviz.core.model.steps",
    "StepArgs": "sockviz.core.model.step_args",
    "StepBlocked": "sockviz.core.model.events",
    "StepCalled": "sockviz.core.model.events",
    "StepFailed": "sockviz.core.model.events",
    "StepFinished": "sockviz.core.model.events",
    "StepRefused": "sockviz.core.model.events",
    "StepReturned": "sockviz.core.model.events",
    "Target": "sockviz.core.model.steps",
    "TrackedSocket": "sockviz.core.engine.tracked",
    "check_host": "sockviz.core.model.addresses",
    "endpoint": "sockviz.core.model.addresses",
    "parse_payload": "sockviz.core.model.payload",
    "parse_port": "sockviz.core.model.addresses",
    "resolve": "sockviz.core.model.addresses",
    "show_bytes": "sockviz.core.model.payload",
    "step": "sockviz.core.model.steps",
    "steps_of": "sockviz.core.model.steps",
    "take_snapshot": "sockviz.core.kernel.snapshot",
}
"""Each name's module, loaded when the name is first asked for."""


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # asked once: the next lookup finds it without this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
