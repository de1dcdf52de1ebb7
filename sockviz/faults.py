"""sockviz's own faults: a bug in sockviz is reported, with its traceback kept in a file, and the app goes on.

Textual ends the app on any exception that reaches it (from a timer, a handler
or a worker), and in front of a class that sends the lecturer's next keys to the
shell. So the app's timers, refreshes and handlers are `guarded`, and every
worker that fails anyway is reported by `FaultReportingWorkers`: either way a
`Fault` message reaches the app, which says so in the log with the path of the
traceback file.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState
from textual.worker_manager import WorkerManager

FAULTS_FOLDER = Path(tempfile.gettempdir()) / "sockviz-faults"
"""Where tracebacks go: one file per fault, named by time and process."""

_numbers = itertools.count(1)


def write_traceback(error: BaseException, where: str) -> Path | None:
    """Keep the traceback in a file of its own; None if even that fails (a full disk must not crash the app)."""
    try:
        FAULTS_FOLDER.mkdir(parents=True, exist_ok=True)
        path = FAULTS_FOLDER / f"fault-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{next(_numbers)}.txt"
        text = "".join(traceback.format_exception(error))
        path.write_text(f"sockviz fault in {where}\n\n{text}", encoding="utf-8")
    except OSError:
        return None
    return path


class Fault(Message):
    """A bug in sockviz, caught before it reached Textual: the app shows it and goes on."""

    def __init__(self, where: str, error: BaseException) -> None:
        super().__init__()
        self.where = where
        self.error = error
        self.path: Path | None = None
        """Set by whoever keeps the traceback (`keep`): a fault that repeats four times a second is kept once."""

    @property
    def key(self) -> tuple[str, str, str]:
        """Faults with the same key are one bug met again."""
        return self.where, type(self.error).__name__, str(self.error)

    def keep(self) -> None:
        self.path = write_traceback(self.error, self.where)

    @property
    def text(self) -> str:
        """The line the log shows."""
        kept = f"traceback in {self.path}" if self.path else "its traceback could not be written"
        return f"sockviz fault in {self.where}: {type(self.error).__name__}: {self.error} ({kept})"


def report(node: MessagePump, where: str, error: BaseException) -> None:
    """Tell the app about a fault; from any thread, and quietly once the app has stopped."""
    with contextlib.suppress(Exception):  # no app to tell: nothing more to do
        node.app.post_message(Fault(where, error))


Method = TypeVar("Method", bound=Callable[..., Any])


def guarded(method: Method) -> Method:
    """For a timer, refresh or handler of a widget, screen or app: an exception becomes a `Fault`."""

    @functools.wraps(method)
    def wrapper(self: MessagePump, *args: object, **kwargs: object) -> object:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - reported, never left to end the app
            report(self, method.__qualname__, error)
            return None

    # The same signature as `method` (functools.wraps), returning None instead of raising: Textual reads the
    # wrapper's parameters (a handler that takes the message or not), so it must pass for the method itself.
    return cast("Method", wrapper)


class FaultReportingWorkers(WorkerManager):
    """The app's worker manager, which also reports every worker that ended in an error.

    Textual tells a worker's failure only to the node that started it (in a message that does not
    bubble), and with `exit_on_error` it ends the app. Every worker of the app, whoever started it,
    ends through this manager, so no failure is silent.
    """

    def _new_worker(self, *args: Any, **kwargs: Any) -> Worker:
        """Every worker, sockviz's or Textual's own (the command palette's, say), is reported, never left
        to end the app: `exit_on_error` would hand its exception to Textual."""
        kwargs["exit_on_error"] = False
        return super()._new_worker(*args, **kwargs)

    def _remove_worker(self, worker: Worker) -> None:
        if worker.state is WorkerState.ERROR and worker.error is not None and not _moot(worker):
            report(self._app, f"worker {worker.name or worker.description!r}", worker.error)
        super()._remove_worker(worker)


def _moot(worker: Worker) -> bool:
    """A worker that looked for a widget of a screen that has closed meanwhile: nothing is wrong but
    the timing (Textual's command palette, closed while it gathers commands, fails this way)."""
    node = worker.node
    if not isinstance(worker.error, NoMatches) or not isinstance(node, Widget):
        return False
    if not node.is_attached:
        return True
    try:
        screen = node if isinstance(node, Screen) else node.screen
    except NoScreen:
        return True
    return screen not in node.app.screen_stack
