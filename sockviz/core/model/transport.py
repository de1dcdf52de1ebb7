"""TCP or UDP: which kind of socket socket() makes, and so which calls the same steps make.

A step's button runs the same step on either transport; what it calls depends on the socket it
acts on (its real type, read from the socket), so a UDP socket made before a switch back to TCP
still gets UDP's calls. Only socket() itself reads the transport chosen now.
"""

from __future__ import annotations

import socket
from enum import StrEnum


class Transport(StrEnum):
    """The transport of the sockets socket() makes: a byte stream or datagrams."""

    TCP = "tcp"
    UDP = "udp"

    @property
    def kind(self) -> socket.SocketKind:
        """The socket type socket() asks for: SOCK_STREAM or SOCK_DGRAM."""
        return socket.SOCK_DGRAM if self is Transport.UDP else socket.SOCK_STREAM

    @property
    def word(self) -> str:
        """`TCP` or `UDP`, as people write them."""
        return self.value.upper()

    @classmethod
    def of(cls, sock: socket.socket) -> Transport:
        """The transport of a socket that exists, from its own type (a closed socket keeps its type)."""
        return cls.UDP if sock.type == socket.SOCK_DGRAM else cls.TCP


TRANSPORT_KEY = "d"
"""The key of the TCP/UDP switch (d for datagrams): keys.py binds it, and the welcome and help name it."""

TRANSPORTS = {"tcp": Transport.TCP, "udp": Transport.UDP}
"""The words of a scenario's `transport` line."""
