"""Plain-words reasons for the errors a socket's calls meet.

The exception itself is always shown as Python raised it; these sentences only
add the why, in the terms of the course (listener, connection, peer).
"""

from __future__ import annotations

import errno
import socket

from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord
from sockviz.core.model.steps import Action

_EAI_NAMES: dict[int, str] = {
    value: name for name, value in vars(socket).items() if name.startswith("EAI_") and isinstance(value, int)
}

_ICMP_REFUSED = (
    "An ICMP port unreachable came back for a datagram this socket sent earlier: nothing listens on that port. "
    "A connected UDP socket hears of it on its next call; an unconnected one is never told."
)

# (action, errno) first, then errno alone.
_BY_ACTION: dict[tuple[Action | None, int], str] = {
    (Action.BIND, errno.EINVAL): "This socket already has an address: a socket is bound once, and "
    "listen() or connect() may already have bound it to an ephemeral port.",
    (Action.ACCEPT, errno.EINVAL): "accept() works only on a listening socket: this one has not listened yet, "
    "or a shutdown() stopped it listening. Call listen() first.",
    (Action.LISTEN, errno.EADDRINUSE): "Another socket holds this socket's port, and listen() wants it to itself: "
    "a listener bound there too, or, after a shutdown() stopped this socket listening, a connection it accepted "
    "(open, or in TIME_WAIT for 60 s after this side closed first) keeps the port, unless this socket set "
    "SO_REUSEADDR before bind().",
    (Action.LISTEN, errno.EINVAL): "A connected socket cannot become a listener: listen() needs a "
    "fresh or bound socket.",
    (Action.CONNECT, errno.EINVAL): "This socket cannot connect: a listening socket only accepts.",
    (Action.SHUTDOWN, errno.ENOTCONN): "There is no connection to shut down: shutdown() acts on a connected socket.",
    (Action.BIND, errno.EACCES): "Ports below 1024 are reserved for privileged programs: use a port of 1024 or above.",
    (Action.SEND, errno.EPIPE): "There is no connection to send on: this socket is not connected, "
    "or the peer has closed (or reset) it and the kernel refuses more data.",
    (Action.LISTEN, errno.EOPNOTSUPP): "UDP has no connections, so there is nothing to listen for: a bound UDP "
    "socket receives datagrams from anyone at once, with recvfrom().",
    (Action.ACCEPT, errno.EOPNOTSUPP): "UDP has no connections to accept: every datagram lands on this socket "
    "itself, and recvfrom() says who sent it.",
    (Action.RECV, errno.ECONNREFUSED): _ICMP_REFUSED,
    (Action.RECV_ALL, errno.ECONNREFUSED): _ICMP_REFUSED,
    (Action.SEND, errno.ECONNREFUSED): _ICMP_REFUSED,
    (Action.BURST, errno.ECONNREFUSED): _ICMP_REFUSED,
}

_BY_ERRNO: dict[int, str] = {
    errno.EADDRINUSE: "Another socket already holds this address and port: a listener, or a closed "
    "connection the kernel keeps in TIME_WAIT for 60 s. Choose another port, wait, or set SO_REUSEADDR "
    "before bind() (it gets past a TIME_WAIT only if the socket that left it had set it too).",
    errno.EADDRNOTAVAIL: "That address does not belong to this machine, so nothing can bind or connect from it.",
    errno.EACCES: "The system does not allow this program to do that.",
    errno.EINVAL: "The kernel rejected the call in this socket's present state.",
    errno.ENOTCONN: "This socket is not connected to anyone, so there is no data to move. Connect "
    "it first (or, on the server, use the socket that accept() returned).",
    errno.EPIPE: "The connection is gone: the peer closed it, or it was never connected.",
    errno.ECONNREFUSED: "Nothing is listening on that address and port, so the other side answered "
    "the connection request with a reset.",
    errno.ECONNRESET: "The peer reset the connection (RST): it closed with data left unread, or aborted.",
    errno.EISCONN: "This socket is already connected; a TCP socket connects once. Make a new socket "
    "for a new connection.",
    errno.EBADF: "This socket is closed: its file descriptor is gone and no call can use it.",
    errno.EAFNOSUPPORT: "This address does not fit the socket's family (IPv4 or IPv6).",
    errno.ETIMEDOUT: "The other side never answered, and the kernel gave up.",
    errno.EAGAIN: "The call would have to wait, but this socket is non-blocking (setblocking(False) or "
    "settimeout(0)), so it raises at once instead of waiting.",
    errno.EALREADY: "A connect() on this socket is still in progress.",
    errno.EINPROGRESS: "The connection has started and is not finished yet.",
    errno.ENETUNREACH: "There is no route to that network from this machine.",
    errno.EHOSTUNREACH: "There is no route to that host.",
    errno.EMFILE: "This process has used up its file descriptors: close some sockets.",
    errno.EMSGSIZE: "A UDP datagram holds at most 65,507 bytes of data over IPv4: this one is larger, so the "
    "kernel sent nothing.",
    errno.EOPNOTSUPP: "This kind of socket does not do that: UDP has no connections, so it neither listens "
    "nor accepts.",
}

_BY_EAI: dict[str, str] = {
    "EAI_ADDRFAMILY": "That address is not of this socket's family: an IPv4 address on an IPv6 socket, or the reverse.",
    "EAI_FAMILY": "That address is not of this socket's family: an IPv4 address on an IPv6 socket, or the reverse.",
    "EAI_NONAME": "That host name does not resolve to an address.",
    "EAI_AGAIN": "The name server did not answer in time.",
}

_ERRNO_NAMES = {errno.EOPNOTSUPP: "EOPNOTSUPP"}
"""Where two names share a number, the one the man pages use for sockets: listen(2) and accept(2) say
EOPNOTSUPP, while Python's errno.errorcode gives 95 its alias ENOTSUP."""

_IN_USE_DESPITE_REUSE = (
    "Another socket holds this address and port, and this socket's SO_REUSEADDR does not get past it: a "
    "listener holds its port whatever the options, and a connection in TIME_WAIT lets it go only if the "
    "socket it came from had SO_REUSEADDR too (an accepted connection has its listener's). Choose another "
    "port, or wait: TIME_WAIT lasts 60 s."
)
"""bind() refused although SO_REUSEADDR is on: telling the student to set it would send them round in a circle."""

_SHUT_FOR_WRITING = (
    "This socket was shut down for writing here (shutdown() with SHUT_WR or SHUT_RDWR): it can send nothing more."
)

_LISTENER_NOT_CONNECTED = (
    "A listening socket never carries data; it only hands out connections. Use the socket that accept() returned."
)


@lazy_dataclass(frozen=True, repr=False, eq=False)
class ErrorReport(FrozenRecord):
    """An exception as the log shows it: Python's words first, then the course's."""

    exception: str
    """Class name, as raised: `ConnectionRefusedError`."""
    errno: int | None
    errno_name: str | None
    """Symbolic name: `ECONNREFUSED`."""
    message: str
    """str() of the exception, exactly as Python prints it."""
    reason: str
    """One sentence of why, in plain words."""

    def __str__(self) -> str:
        code = f" {self.errno_name} ({self.errno})" if self.errno_name else ""
        return f"{self.exception}{code}: {self.message}"


def explain(
    error: BaseException,
    action: Action | None = None,
    *,
    on_listener: bool = False,
    shut_writing: bool = False,
    reuse_address: bool = False,
) -> ErrorReport:
    """Describe an exception raised by a step; never raises itself.

    `shut_writing`: the socket was shut down for writing by this session, so an EPIPE is its own doing.
    `reuse_address`: the socket had SO_REUSEADDR on, so an EADDRINUSE from bind() came despite it.
    """
    number = error.errno if isinstance(error, OSError) and isinstance(error.errno, int) else None
    if isinstance(error, socket.gaierror) and number is not None:
        name = _EAI_NAMES.get(number)
        reason = _BY_EAI.get(name or "", "The address could not be looked up.")
    elif number is not None:
        name = _ERRNO_NAMES.get(number) or errno.errorcode.get(number)
        if on_listener and number in (errno.ENOTCONN, errno.EPIPE):
            reason = _LISTENER_NOT_CONNECTED
        elif shut_writing and number == errno.EPIPE:
            reason = _SHUT_FOR_WRITING
        elif reuse_address and action is Action.BIND and number == errno.EADDRINUSE:
            reason = _IN_USE_DESPITE_REUSE
        else:
            reason = _BY_ACTION.get((action, number)) or _BY_ERRNO.get(number, "The kernel refused the call.")
    elif isinstance(error, TimeoutError):
        name, reason = None, "The socket's timeout ran out before the call could finish."
    else:
        name, reason = None, "The call was given a value it cannot use."
    return ErrorReport(
        exception=type(error).__name__,
        errno=number,
        errno_name=name,
        message=str(error),
        reason=reason,
    )
