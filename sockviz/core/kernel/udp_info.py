"""What the kernel knows about a UDP socket: connected or not, its queue as `ss -uan` shows it, its drops.

UDP has no TCP_INFO. Three readings make up for it, each exact for this one socket:
- its receive queue as `ss` prints Recv-Q, from a sock_diag lookup of this socket alone (about 30 µs).
  `getsockopt(SO_MEMINFO)` has the kernel's raw charge too, but Linux frees the memory of datagrams
  read from a queue that is not yet empty in batches, and `ss` subtracts what is not freed yet: only
  the sock_diag answer is the figure `ss` shows;
- the size of the next datagram, from the FIONREAD ioctl (on UDP it is the first datagram, not the sum);
- the datagrams the kernel dropped because the receive buffer was full, SK_MEMINFO_DROPS from
  SO_MEMINFO (the drops column of /proc/net/udp). SO_RXQ_OVFL would tell it only on a datagram that
  arrives after a drop, so it may say nothing at the end of a burst.
"""

from __future__ import annotations

import array
import fcntl
import os
import select
import socket
import struct
import termios

from sockviz.core.kernel.tcp_info import KernelReading

SO_MEMINFO = 55
"""Linux's getsockopt: the socket's sk_meminfo array (u32 each), from Linux 4.12."""
_MEMINFO = struct.Struct("=9I")
_RMEM_ALLOC, _WMEM_ALLOC, _DROPS = 0, 2, 8

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 0x1
_NLMSG_ERROR = 2
_HEADER = struct.Struct("=IHHII")
_REQUEST = struct.Struct("=BBBxI2s2s16s16sI8s")
"""struct inet_diag_req_v2 with its inet_diag_sockid: family, protocol, extensions, states, ports,
addresses, interface, cookie."""
_NO_COOKIE = b"\xff" * 8
_MESSAGE = struct.Struct("=BBBB2s2s16s16sI8sIIIII")
"""struct inet_diag_msg: ..., expires, rqueue, wqueue, uid, inode."""


def _meminfo(sock: socket.socket) -> tuple[int, ...] | None:
    try:
        return _MEMINFO.unpack(sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, _MEMINFO.size))
    except OSError:
        return None


def next_datagram(fd: int) -> int | None:
    """The size of the datagram a recvfrom() would return now; None when none is queued (0 is an empty one)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    if not any(revents & select.POLLIN for _, revents in poller.poll(0)):
        return None
    buffer = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buffer, True)
    return buffer[0]


def _packed(family: int, host: str) -> bytes:
    return socket.inet_pton(family, host).ljust(16, b"\0")


def queues_as_ss(sock: socket.socket) -> tuple[int, int] | None:
    """(Recv-Q, Send-Q) as `ss -uan` prints them for this socket, asked of sock_diag; None if it cannot be asked.

    The kernel finds the socket as the receiver of a datagram from its peer (or from anyone, for an
    unconnected one) to its own address; the answer's inode must be this socket's, or it is not used.
    """
    try:
        local = sock.getsockname()
        try:
            remote = sock.getpeername()
        except OSError:
            remote = ("::" if sock.family == socket.AF_INET6 else "0.0.0.0", 0)
        inode = os.fstat(sock.fileno()).st_ino
    except (OSError, ValueError):
        return None
    family = sock.family
    host = local[0]
    if host in ("0.0.0.0", "::"):  # a wildcard socket receives what is sent to loopback
        host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    # src and dst are swapped for historical reasons (udp_dump_one): src is where the datagram comes from.
    request = _REQUEST.pack(
        family,
        socket.IPPROTO_UDP,
        0,
        0xFFFFFFFF,
        remote[1].to_bytes(2, "big"),
        local[1].to_bytes(2, "big"),
        _packed(family, remote[0]),
        _packed(family, host),
        0,
        _NO_COOKIE,
    )
    header = _HEADER.pack(_HEADER.size + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, _NETLINK_SOCK_DIAG) as diag:
            diag.settimeout(1.0)  # the kernel answers at once; never let a refresh hang
            diag.sendall(header + request)
            data = diag.recv(8192)
    except OSError:
        return None
    if len(data) < _HEADER.size + _MESSAGE.size:
        return None
    _length, kind, _flags, _seq, _pid = _HEADER.unpack_from(data)
    if kind != _SOCK_DIAG_BY_FAMILY:
        return None  # NLMSG_ERROR: the kernel found no such socket
    fields = _MESSAGE.unpack_from(data, _HEADER.size)
    rqueue, wqueue, found_inode = fields[11], fields[12], fields[14]
    return (rqueue, wqueue) if found_inode == inode else None


def read_datagram(sock: socket.socket) -> KernelReading | None:
    """Read an open UDP socket: `UNCONN` or `ESTAB` as `ss` says, its queues and its drops; None once closed."""
    fd = sock.fileno()
    if fd < 0 or sock.type != socket.SOCK_DGRAM:
        return None
    try:
        sock.getpeername()
        state = "ESTAB"
    except OSError:
        state = "UNCONN"
    memory = _meminfo(sock)
    queues = queues_as_ss(sock) if _bound(sock) else (0, 0)
    if queues is None and memory is not None:
        queues = (memory[_RMEM_ALLOC], memory[_WMEM_ALLOC])
    try:
        upcoming = next_datagram(fd)
    except (OSError, ValueError):
        upcoming = None
    return KernelReading(
        state,
        recv_queue=None if queues is None else queues[0],
        send_queue=None if queues is None else queues[1],
        next_datagram=upcoming,
        drops=None if memory is None else memory[_DROPS],
        datagram=True,
    )


def drops(sock: socket.socket) -> int | None:
    """The datagrams the kernel dropped on this socket because its receive buffer was full."""
    memory = _meminfo(sock)
    return None if memory is None else memory[_DROPS]


def _bound(sock: socket.socket) -> bool:
    try:
        return sock.getsockname()[1] != 0
    except OSError:
        return False
