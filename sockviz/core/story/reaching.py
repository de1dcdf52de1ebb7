"""Whether a client's connect() (or sendto()) to the top bar's address reaches the session's server socket.

The guide says "a client connects: accept() wakes" only when that is what will happen. The client goes to
the address in the top bar; the server socket is where the kernel put it, which need not be there: a bind()
that failed leaves listen() to bind the wildcard on an ephemeral port, and the bar may have been changed
since bind(). This compares the two (family, host, port) and says what to change for them to meet.
"""

from __future__ import annotations

import socket

from sockviz.core.engine.view import SocketView
from sockviz.core.model.addresses import FAMILY_NAMES, LOOPBACK, Endpoint, is_wildcard, same_host
from sockviz.core.model.lazy_dataclass import lazy_dataclass

FAMILY_KEY = "6"
"""The key that switches the family of new sockets (sockviz/keys.py binds it; core may not import the keys)."""


@lazy_dataclass(frozen=True)
class Elsewhere:
    """The server socket is not at the address the client will go to: where it is, and what to change."""

    server: str
    """Where the server socket is, as `ss` writes it: `0.0.0.0:38855`."""
    change: str
    """What to change in the top bar first: `set the port to 38855`."""


def written(host: str, port: int) -> str:
    """An address as `ss` writes it: `127.0.0.1:12354`, `[::1]:12354`."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bound(server: SocketView | None) -> tuple[str, int, socket.AddressFamily] | None:
    """The server socket's address and family, None when it has none to read (closed, not bound, a copy)."""
    if server is None or server.closed:
        return None
    try:
        snap = server.snapshot(with_repr=False)
    except OSError:  # closed under our feet
        return None
    if snap.laddr is None or not snap.laddr[1]:
        return None  # not bound: nothing listens or receives anywhere yet
    return str(snap.laddr[0]), int(snap.laddr[1]), socket.AF_INET6 if snap.family == "AF_INET6" else socket.AF_INET


def server_address(server: SocketView | None) -> str | None:
    """Where the server socket is, as `ss` writes it, or None when it is nowhere yet."""
    bound = _bound(server)
    return None if bound is None else written(bound[0], bound[1])


def elsewhere(server: SocketView | None, target: Endpoint) -> Elsewhere | None:
    """Where the server socket is, if a client going to `target` would not reach it; None when it would,
    or when the server socket's address cannot be read (closed, or not bound yet)."""
    bound = _bound(server)
    if bound is None or server is None:
        return None
    host, port, server_family = bound
    wrong_family = server_family != target.family and not (
        server_family == socket.AF_INET6 and is_wildcard(host) and _dual_stack(server)
    )
    host_ok = not wrong_family and (is_wildcard(host) or same_host(host, target.host))
    if host_ok and port == target.port:
        return None
    changes = []
    if wrong_family:
        changes.append(f"switch to {FAMILY_NAMES[server_family]} ({FAMILY_KEY})")
    switched_host = LOOPBACK[server_family] if target.host == LOOPBACK[target.family] else target.host
    if not host_ok and not is_wildcard(host) and not (wrong_family and same_host(host, switched_host)):
        changes.append(f"set the host to {host}")  # the switch puts the new family's loopback in the bar
    if port != target.port:
        changes.append(f"set the port to {port}")
    return Elsewhere(written(host, port), " and ".join(changes))


def _dual_stack(server: SocketView) -> bool:
    """Whether an IPv6 socket on `::` also takes IPv4 clients (IPV6_V6ONLY is 0, Linux's default). A copy of
    a session has no socket to ask: Linux's default is assumed."""
    sock = getattr(server, "sock", None)
    if not isinstance(sock, socket.socket):
        return True
    try:
        return not sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
    except OSError:
        return True
