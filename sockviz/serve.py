"""Browser mode: `sockviz --serve` serves the app to web browsers with textual-serve.

textual-serve starts one app process per browser tab and streams its screen,
so every tab is a whole sockviz with a session of its own, running on this
machine. The web server listens on loopback unless asked for another address.
"""

from __future__ import annotations

import ipaddress
import shlex
import sys
from collections.abc import Sequence

from sockviz.core.model.addresses import is_wildcard

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
    """The command textual-serve runs for each tab: this Python, this sockviz, the same options."""
    return shlex.join([sys.executable, "-m", "sockviz", *app_argv])


def serve(app_argv: Sequence[str], host: str, port: int) -> None:
    """Serve until Ctrl+C; each browser tab that opens the page gets its own app."""
    from textual_serve.server import Server  # only in browser mode: it brings aiohttp

    if not _on_loopback(host):
        print(
            f"sockviz: serving on {host}: anyone who reaches it can run socket steps on this machine", file=sys.stderr
        )
    url_host = f"[{host}]" if ":" in host else host
    Server(app_command(app_argv), host=host, port=port, title="sockviz", public_url=f"http://{url_host}:{port}").serve()


def _on_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
