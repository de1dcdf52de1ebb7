"""The calls behind the steps on a UDP socket: sendto(), recvfrom(), connect() without a handshake.

The same buttons run these when the socket they act on is SOCK_DGRAM (socket() makes one when the
transport is UDP); listen() and accept() are not here, because on UDP they run as they are and fail
for real (EOPNOTSUPP). Each result says only what the call can know: a sendto() that returned means
the datagram left this socket, never that anyone got it.

recvfrom() is made as `recvmsg_into()`, the same system call with its flags kept: with MSG_TRUNC
asked for, the kernel returns a datagram's whole length even when the buffer took only its start,
so a cut datagram is told with its real size. The bytes returned are those recvfrom() returns.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable

from sockviz.core.engine.call_site import Context, Outcome
from sockviz.core.engine.calls import CALLS
from sockviz.core.engine.tracked import TrackedSocket
from sockviz.core.kernel.udp_info import drops
from sockviz.core.model.bulk import chunk_at
from sockviz.core.model.payload import show_bytes
from sockviz.core.model.steps import Action, Side


def _connected(sock: socket.socket) -> tuple | None:
    try:
        return sock.getpeername()
    except OSError:
        return None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _connect(ctx: Context) -> Outcome:
    assert ctx.args.endpoint is not None and ctx.tracked is not None
    ctx.sock.connect(ctx.args.endpoint.address)
    ctx.tracked.remember_ends()
    name = ctx.tracked.name
    return Outcome(
        f"nothing was sent (UDP has no handshake, so connect() cannot know whether anyone is there): the kernel "
        f"only recorded {ctx.sock.getpeername()} as {name}'s peer, and {name} is bound to {ctx.sock.getsockname()}. "
        "send() and recv() now need no address, datagrams from anyone else are dropped, and an ICMP port "
        "unreachable from that port makes the next call raise ConnectionRefusedError"
    )


def _cancel(ctx: Context) -> Outcome:
    """As on TCP, with what is odd about UDP: shutdown() of an unconnected socket raises ENOTCONN, and wakes."""
    tracked = ctx.tracked
    assert tracked is not None
    connected = _connected(tracked.sock) is not None
    outcome = CALLS[Action.CANCEL](ctx)
    if not connected and outcome.result.startswith("woke"):
        outcome.result += (
            f". {tracked.name} is not connected, so shutdown() raised ENOTCONN (OSError 107), yet Linux marked "
            "it shut down all the same, which woke the call: in a script of one thread, this line would raise"
        )
    return outcome


def _datagram_to_send(ctx: Context) -> bytes | memoryview:
    assert ctx.tracked is not None
    if ctx.args.bulk is not None:
        return chunk_at(0, ctx.args.bulk)  # refusals.py keeps a datagram's bulk within one piece
    data = ctx.tracked.last_received if ctx.args.payload is None else ctx.args.payload
    assert data is not None
    return data


def _send(ctx: Context) -> Outcome:
    tracked = ctx.tracked
    assert tracked is not None
    data = _datagram_to_send(ctx)
    unbound = ctx.sock.getsockname()[1] == 0
    peer = _connected(ctx.sock)
    if peer is not None:
        sent, to = ctx.sock.send(data), peer
    else:
        to = tracked.last_sender if ctx.call.step.side is Side.SERVER else None
        if to is None:
            assert ctx.args.endpoint is not None
            to = ctx.args.endpoint.address
        sent = ctx.sock.sendto(data, to)
    tracked.sent_datagram(to)
    ctx.site.count(tracked, ctx.call, sent=sent)
    shown = "" if ctx.args.bulk is not None else f": {show_bytes(bytes(data))}"
    bound = (
        f" (this first send bound {tracked.name} to the ephemeral port {ctx.sock.getsockname()[1]})" if unbound else ""
    )
    return Outcome(
        f"one {sent}-byte datagram left {tracked.name} for {to}{shown}{bound}. That is all a returned "
        f"{ctx.call.label} says: whether anyone received it, UDP never tells",
        data=None if ctx.args.bulk is not None else bytes(data),
    )


def _recv(ctx: Context) -> Outcome:
    tracked = ctx.tracked
    assert tracked is not None
    size = ctx.args.bufsize
    buffer = bytearray(size)
    length, _ancillary, flags, sender = ctx.sock.recvmsg_into([buffer], 0, socket.MSG_TRUNC)
    if sender is None and length == 0:  # no datagram: the socket was shut down for reading
        if ctx.cancelled():
            return Outcome("b'': no datagram, because this socket was shut down here", data=b"", cut_short=True)
        return Outcome("b'': no datagram came; this socket was shut down for reading here, so the call returns "
                       "b'' at once", data=b"")  # fmt: skip
    data = bytes(buffer[: min(length, size)])
    tracked.received_datagram(data, sender)
    ctx.site.count(tracked, ctx.call, received=len(data))
    words = f"one datagram of {length} bytes from {sender}: {show_bytes(data)}"
    if flags & socket.MSG_TRUNC:
        words = (
            f"{len(data)} bytes of a {length}-byte datagram from {sender}: {show_bytes(data)}. The buffer held "
            f"{size} bytes, so the kernel set MSG_TRUNC and the other {length - len(data)} bytes are gone "
            "(recvfrom() returns the same bytes and hides the flag; sockviz reads it with recvmsg())"
        )
    return Outcome(words, data=data, sender=sender)


_DONTWAIT_TRUNC = socket.MSG_DONTWAIT | socket.MSG_TRUNC


def _readable(sock: socket.socket) -> bool:
    fd = sock.fileno()
    if fd < 0:
        return False
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return any(revents & select.POLLIN for _, revents in poller.poll(0))


def _recv_all(ctx: Context) -> Outcome:
    """Every datagram queued now, one recvfrom() each, without waiting (as a script would, with MSG_DONTWAIT).

    A zero-timeout poll comes first each time: a socket with a timeout would otherwise wait that long
    for the datagram after the last, since Python waits for a timed socket to be readable before the call.
    """
    tracked = ctx.tracked
    assert tracked is not None
    size = ctx.args.bufsize
    buffer = bytearray(size)
    count = total = cut = 0
    while _readable(ctx.sock):
        try:
            length, _ancillary, flags, sender = ctx.sock.recvmsg_into([buffer], 0, _DONTWAIT_TRUNC)
        except BlockingIOError:
            break
        if sender is None and length == 0:
            break  # shut down for reading: b'' for ever, and no datagram
        data = bytes(buffer[: min(length, size)])
        tracked.received_datagram(data, sender)
        ctx.site.count(tracked, ctx.call, received=len(data))
        count, total = count + 1, total + len(data)
        cut += bool(flags & socket.MSG_TRUNC)
    if count:
        words = [f"{_plural(count, 'datagram')} ({total} bytes) were queued, one recvfrom() each"]
    else:
        words = ["no datagram was queued, so it returned at once with none"]
    if cut:
        words.append(f"{cut} of them were longer than {size} bytes and were cut (MSG_TRUNC)")
    words.append(_tally(ctx, tracked))
    return Outcome("; ".join(w for w in words if w))


def _tally(ctx: Context, tracked: TrackedSocket) -> str:
    """Sent against received, for the datagrams this session sent here, with the kernel's own drop count."""
    site = ctx.site
    senders = site.sent_here(tracked)
    dropped = drops(ctx.sock)
    full = "because its receive buffer was full"
    if dropped is None:
        kernel = ""
    elif dropped == 0:  # "counts 0 dropped ... because its receive buffer was full" read as if it had been full
        kernel = f"; the kernel has dropped none on {tracked.name} (it drops one only when the receive buffer is full)"
    else:
        kernel = f"; the kernel counts {dropped} dropped on {tracked.name} {full}"
    if not senders:
        return f"{tracked.name} has received {tracked.datagrams_received} in all{kernel}"
    sent = sum(senders.values())
    who = ", ".join(f"{name} {count}" for name, count in senders.items())
    missing = sent - tracked.datagrams_received
    text = f"this session sent {sent} here ({who}) and {tracked.name} has received {tracked.datagrams_received}"
    if missing > 0:
        text += f": {missing} never arrived"
    if missing > 0 and dropped == missing:
        text += f", and the kernel counts exactly {dropped} dropped on {tracked.name} {full}"
    else:
        text += kernel
    return text


def _burst(ctx: Context) -> Outcome:
    """Many datagrams from the client's socket, as fast as sendto() goes: what fills a small receive buffer."""
    tracked = ctx.tracked
    assert tracked is not None and ctx.args.endpoint is not None
    to = ctx.args.endpoint.address
    unbound = ctx.sock.getsockname()[1] == 0
    for index in range(ctx.args.count):
        sent = ctx.sock.sendto(b"datagram %d" % index, to)
        tracked.sent_datagram(to)
        ctx.site.count(tracked, ctx.call, sent=sent)
    return Outcome(
        f"{_plural(ctx.args.count, 'datagram')} left {tracked.name} for {to}, each sendto() returned at once"
        + (f" (the first bound {tracked.name} to the ephemeral port {ctx.sock.getsockname()[1]})" if unbound else "")
        + ". Whether they arrived, only the receiver's count and the kernel's drop count can say"
    )


DATAGRAM_CALLS: dict[Action, Callable[[Context], Outcome]] = {
    Action.CANCEL: _cancel,
    Action.CONNECT: _connect,
    Action.SEND: _send,
    Action.RECV: _recv,
    Action.RECV_ALL: _recv_all,
    Action.BURST: _burst,
}
"""The calls that differ on a UDP socket; every other step makes on UDP the same call it makes on TCP."""
