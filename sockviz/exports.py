"""The exports: the session so far as a capture file, as scripts and as notebooks, in the current directory.

Each is a key of the app's (p, P, e, E); they write files, so each says in a notice where they went, or
why nothing was written. The capture's file is written by its reader process, off the event loop.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App

from sockviz.core import Endpoint, InputError
from sockviz.core.story.transcript import Transcript
from sockviz.widgets.wire_pane import NOTHING_CAPTURED, WirePane

TITLE = "A sockviz session"
"""The scripts' and notebooks' title, unless a front end gives its own."""


def export_path(suffix: str = "") -> Path:
    """Where an export goes: `sockviz-20261201-101500` (a folder) or with `suffix` a file, in the current directory."""
    return Path.cwd() / time.strftime(f"sockviz-%Y%m%d-%H%M%S{suffix}")


def export_pcap(app: App[None], wire: WirePane | None, *, plain: bool = False) -> None:
    """`p`: pcapng with the calls as packet comments; `P`: plain pcap, for tools that need it.

    The capture's reader process writes the file, which can take a moment (up to 32 MiB of frames), so
    the wait is a thread's, never the event loop's.
    """
    if wire is None:  # the wire view was never opened (it is made, and captures, from its first `w`)
        app.notify(NOTHING_CAPTURED, title="wire", markup=False)
        return
    path = export_path(".pcap" if plain else ".pcapng")

    def export() -> None:
        said = wire.export(path, plain=plain)
        with contextlib.suppress(RuntimeError):  # the app quit meanwhile: nobody to tell
            app.call_from_thread(app.notify, said, title="wire", markup=False)

    app.run_worker(export, thread=True, group="export")


def export_scripts(
    app: App[None], transcript: Transcript, endpoint: Callable[[], Endpoint], title: str = TITLE, *, own: bool = True
) -> None:
    """The session so far as server.py and client.py, in a new folder of the current directory. Not `own`: a
    follower's copy of the lecturer's session (see `Transcript.how_to_run`)."""
    try:
        chosen = endpoint()
    except InputError as error:
        app.notify(error.reason, title="not exported", severity="error", markup=False)
        return
    folder = export_path()
    paths = transcript.export(folder, chosen, title)
    how = transcript.how_to_run(chosen, own=own)  # what holds the port now, if anything
    app.notify(f"wrote {', '.join(str(p) for p in paths)}: {how}", title="export", markup=False)


def export_notebooks(
    app: App[None], transcript: Transcript, endpoint: Callable[[], Endpoint], title: str = TITLE, *, own: bool = True
) -> None:
    """The session so far as server.ipynb and client.ipynb (needs nbformat)."""
    try:
        chosen = endpoint()
        paths = transcript.export_notebooks(export_path(), chosen, title)
    except InputError as error:
        app.notify(error.reason, title="not exported", severity="error", markup=False)
    except ImportError:
        app.notify("notebooks need nbformat: pip install 'sockviz[notebook]'", title="not exported",
                   severity="error", markup=False)  # fmt: skip
    else:  # the notebooks bind as server.py does: the same note on what holds the port
        how = transcript.how_to_run(chosen, "ipynb", own=own)
        app.notify(f"wrote {', '.join(str(p) for p in paths)}: {how}", title="export", markup=False)
