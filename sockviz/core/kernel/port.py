"""Could a program bind this address now? Asked of the kernel the way the exported server.py would ask."""

from __future__ import annotations

import socket

from sockviz.core.model.addresses import Endpoint


def bind_refused(endpoint: Endpoint, *, datagram: bool = False) -> OSError | None:
    """The error a fresh socket with SO_REUSEADDR gets binding `endpoint` now, or None if it may bind.

    The probe only binds, never listens, and closes at once: it leaves nothing behind in the kernel.
    `datagram`: probe as a UDP server.py would (UDP and TCP ports are apart).
    """
    probe = socket.socket(endpoint.family, socket.SOCK_DGRAM if datagram else socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(endpoint.address)
    except OSError as error:
        return error
    finally:
        probe.close()
    return None
