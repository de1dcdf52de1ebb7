"""Browser mode: `sockviz --serve` serves the app to web browsers with textual-serve.

textual-serve starts one app process per browser tab and streams its screen,
so every tab is a whole sockviz with a session of its own, running on this
machine. The web server listens on loopback unless asked for another address.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from sockviz.core.model.addresses import is_loopback, is_wildcard

DEFAULT_WEB_PORT = 8000


def web_host_problem(host: str) -> str | None:
    """Why `host` cannot be served on, or None. The page connects back to the address it is served
    on, so it must be one a browser can reach, not a wildcard."""
    try:
        wildcard = is_wildcard(host)
    except ValueError:
        return None  # a name: the browser resolves it as the server did
    if wildcard:
        return f"{host} is every interface, which a browser cannot connect to: give the address students reach"
    return None


def app_command(app_argv: Sequence[str]) -> str:
    """The command textual-serve runs for each tab: this Python, this sockviz, the same options.

    textual-serve runs it with `sh -c`; `exec` makes the app the server's own child instead of the
    shell's, so that the server can end it, and so that it hears (PR_SET_PDEATHSIG) when the server dies.
    """
    return "exec " + shlex.join([sys.executable, "-m", "sockviz", *app_argv])


def serve(app_argv: Sequence[str], host: str, port: int) -> None:
    """Serve until Ctrl+C or SIGTERM; each browser tab that opens the page gets its own app."""
    if not is_loopback(host):
        print(
            f"sockviz: serving on {host}: anyone who reaches it can run socket steps on this machine", file=sys.stderr
        )
    url_host = f"[{host}]" if ":" in host else host
    _server_class()(
        app_command(app_argv), host=host, port=port, title="sockviz", public_url=f"http://{url_host}:{port}"
    ).serve()


def _server_class():
    from textual_serve.server import Server  # only in browser mode: it brings aiohttp

    class SockvizServer(Server):
        """textual-serve's server, which ends every tab's app when it stops.

        On Ctrl+C aiohttp waits up to a minute for open websockets, and textual-serve asks no app
        to end meanwhile. Each app ends on SIGTERM (within `sockviz.ending.HARD_DEADLINE`); its end
        closes its tab's websocket, which lets the server end too.
        """

        async def on_shutdown(self, app) -> None:
            await super().on_shutdown(app)
            end_apps(os.getpid())

    return SockvizServer


def end_apps(server_pid: int) -> list[int]:
    """SIGTERM every child of the server (each one a tab's app, thanks to `exec`); their pids."""
    ended = []
    for child in children(server_pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGTERM)
            ended.append(child)
    return ended


def children(pid: int) -> list[int]:
    """The process's children as the kernel lists them (none once it is gone)."""
    found: list[int] = []
    tasks = Path(f"/proc/{pid}/task")
    if not tasks.is_dir():
        return found
    for task in tasks.iterdir():
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found
