"""Read-only questions about one socket that the session asks of the kernel before and after a call.

Each answers False when the socket is closed under its feet (by another thread or the session's end):
a question about a socket that is gone has no true yes.
"""

from __future__ import annotations

import socket
import struct

from sockviz.core.kernel.tcp_info import read_kernel
from sockviz.core.model.addresses import is_wildcard, same_host


def listens(sock: socket.socket) -> bool:
    """Whether the kernel has this socket listening now (SO_ACCEPTCONN)."""
    try:
        return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    except OSError:
        return False


def waiting_to_be_accepted(sock: socket.socket) -> int:
    """Connections waiting in a listener's accept queue, as the kernel counts them (0 if it cannot say)."""
    reading = read_kernel(sock)
    return (reading.accept_queue or 0) if reading else 0


def listens_everywhere(sock: socket.socket) -> bool:
    """Whether the socket listens on a wildcard address, so that other machines can reach it."""
    try:
        return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)) and is_wildcard(sock.getsockname()[0])
    except OSError:
        return False


def listens_at(sock: socket.socket, address: tuple) -> bool:
    """Whether the socket listens where `address` points: its port, on its host or on the wildcard."""
    try:
        if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            return False
        host, port = sock.getsockname()[:2]
    except OSError:
        return False
    return port == address[1] and (is_wildcard(host) or same_host(host, address[0]))


def reuses_address(sock: socket.socket) -> bool:
    """Whether SO_REUSEADDR is on: a bind() refused with EADDRINUSE despite it met a listener, or a TIME_WAIT
    left by a socket without it, and setting it again would change nothing."""
    try:
        return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    except OSError:
        return False


def lingers(sock: socket.socket) -> bool:
    """Whether close() may wait: SO_LINGER on with a time, so it waits for the peer to take the unsent data."""
    try:
        on, seconds = struct.unpack("ii", sock.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))
    except OSError:
        return False
    return bool(on and seconds)
