"""The socket calls behind each step, one small function per action.

Each function makes the real call (which may block), then describes what it
returned in words. They know nothing of events or threads: the session
wraps them, and hands them a `CallSite` for the few things that need it (call_site.py, with the
`Context` each is given and the `Outcome` each gives back).
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Callable

from sockviz.core.engine.call_site import Context, Outcome
from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.kernel.listening import listens, reuses_address, waiting_to_be_accepted
from sockviz.core.kernel.readiness import why_readable
from sockviz.core.kernel.tcp_info import read_kernel
from sockviz.core.model.addresses import is_wildcard
from sockviz.core.model.bulk import PIECE, BulkCheck, chunk_at, send_piece
from sockviz.core.model.payload import show_bytes
from sockviz.core.model.steps import Action, Side, Target


def _stopped_listening(tracked: TrackedSocket, queued: int) -> str:
    """After shutdown() of a listener: what it can no longer do, said in the log and kept for the table.

    On Linux shutdown(SHUT_RD) of a listening socket stops it listening for good: its state goes
    to CLOSE, new clients are refused, queued ones get RST, and accept() raises EINVAL until
    listen() runs again. Nothing else would tell the student why the next accept() fails. And
    listen() again is refused (EADDRINUSE, measured) while a connection it accepted holds the port,
    open or in TIME_WAIT, unless the listener had SO_REUSEADDR: said too, or "listen() again" misleads.
    """
    if listens(tracked.sock):
        return ""
    tracked.lasting = "not listening since its shutdown"
    name = tracked.name
    reset = ("" if not queued else ", the connection waiting in its queue was reset," if queued == 1
             else f", the {queued} connections waiting in its queue were reset,")  # fmt: skip
    again = f"{name}.listen() runs again"
    if not reuses_address(tracked.sock):
        again += (f"; that listen() fails with EADDRINUSE while a connection {name} accepted still holds port "
                  f"{tracked.bound_port} (open, or in TIME_WAIT after this side closed first), as {name} has no "
                  "SO_REUSEADDR")  # fmt: skip
    return (
        f". The shutdown also stopped {name} listening (its TCP state is now CLOSE): new clients are refused"
        f"{reset} and accept() fails with EINVAL until {again}"
    )


def _closes_with_reset(sock: socket.socket) -> str:
    """Why close() of this connection sends RST rather than FIN, read just before it closes ('' if it does not).

    Linux answers unread data, or SO_LINGER (1, 0), with RST: the peer's next call gets ECONNRESET
    and no TIME_WAIT follows, which is the lesson of the reset scenario.
    """
    reading = read_kernel(sock)
    if reading is None or reading.state not in ("ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT1", "FIN_WAIT2"):
        return ""
    try:
        on, seconds = struct.unpack("ii", sock.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))
    except OSError:
        return ""
    if on and seconds == 0:
        return (
            ". SO_LINGER is (1, 0), so the kernel sent RST instead of FIN: the peer's next call fails with ECONNRESET"
        )
    if reading.recv_queue:
        return (f". {reading.recv_queue} bytes were left unread, so the kernel sent RST instead of FIN: "
                "the peer's next call fails with ECONNRESET")  # fmt: skip
    return ""


def _shut_here(tracked: TrackedSocket, how: int) -> None:
    """Remember which directions this session shut, so that a later b'' or EPIPE names the true cause."""
    if how in (socket.SHUT_RD, socket.SHUT_RDWR):
        tracked.shut_reading = True
    if how in (socket.SHUT_WR, socket.SHUT_RDWR):
        tracked.shut_writing = True


def _socket(ctx: Context) -> Outcome:
    sock = socket.socket(ctx.args.family, ctx.args.transport.kind)
    # Read before adopt(): from then on another step's thread may bind() it, and socket() returned no address.
    made = repr(sock)
    client = ctx.call.step.side is Side.CLIENT
    added = ctx.site.adopt(
        sock,
        Role.CLIENT if client else Role.SERVER,
        select=Target.CLIENT if client else Target.LISTENER,
        name=ctx.call.socket_name,
    )
    return Outcome(f"{added.name} is {made}", added=added)


def _bind(ctx: Context) -> Outcome:
    assert ctx.args.endpoint is not None
    ctx.sock.bind(ctx.args.endpoint.address)
    if ctx.sock.type == socket.SOCK_DGRAM:
        return Outcome(f"laddr is now {ctx.sock.getsockname()}: from now on a datagram sent there waits in its "
                       "receive buffer, whoever sent it; UDP needs no listen() and no accept()")  # fmt: skip
    return Outcome(f"laddr is now {ctx.sock.getsockname()}")


def _listen(ctx: Context) -> Outcome:
    sock = ctx.sock
    was = sock.getsockname()
    if ctx.args.backlog is None:
        sock.listen()
    else:
        sock.listen(ctx.args.backlog)
    now = sock.getsockname()
    assert ctx.tracked is not None
    ctx.tracked.lasting = None  # a listener that a shutdown stopped listens again
    everywhere = "; that is every interface: other machines can connect to it" if is_wildcard(now[0]) else ""
    if was[1] == 0:
        return Outcome(f"it had no port, so Linux bound it to an ephemeral one: {now}{everywhere}")
    if now[1] != was[1]:  # a shutdown gave back a port that Linux had picked, not one bind() asked for
        return Outcome(f"its ephemeral port {was[1]} was given back when it stopped listening, so Linux bound "
                       f"another one: {now}{everywhere}")  # fmt: skip
    return Outcome(f"listening on {now}{everywhere}; the kernel now completes handshakes on its own")


def _accept(ctx: Context) -> Outcome:
    conn, addr = ctx.sock.accept()
    added = ctx.site.adopt(conn, Role.CONNECTION, select=Target.CONNECTION)
    added.remember_ends()
    return Outcome(f"connection from {addr}; {added.name} is a new socket, fd {conn.fileno()}", added=added)


def _connect(ctx: Context) -> Outcome:
    assert ctx.args.endpoint is not None
    ctx.sock.connect(ctx.args.endpoint.address)
    assert ctx.tracked is not None
    ctx.tracked.remember_ends()
    return Outcome(f"connected from {ctx.sock.getsockname()} to {ctx.sock.getpeername()}")


def _send(ctx: Context) -> Outcome:
    assert ctx.tracked is not None
    if ctx.args.bulk is not None:
        total, piece = ctx.args.bulk, send_piece(ctx.sock)
        for offset in range(0, total, piece):
            chunk = chunk_at(offset, min(piece, total - offset))
            ctx.sock.sendall(chunk)
            ctx.site.count(ctx.tracked, ctx.call, sent=len(chunk))
            ctx.tracked.generated_sent += len(chunk)
        sent = total
        return Outcome(f"{sent} generated bytes handed to the kernel")
    data = ctx.tracked.last_received if ctx.args.payload is None else ctx.args.payload
    assert data is not None
    ctx.sock.sendall(data)
    ctx.site.count(ctx.tracked, ctx.call, sent=len(data))
    return Outcome(f"{len(data)} bytes handed to the kernel: {show_bytes(data)}", data=data)


def _recv(ctx: Context) -> Outcome:
    assert ctx.tracked is not None
    data = ctx.sock.recv(ctx.args.bufsize)
    ctx.site.count(ctx.tracked, ctx.call, received=len(data))
    if data:
        ctx.tracked.last_received = data
        return Outcome(f"{len(data)} bytes: {show_bytes(data)}", data=data)
    if ctx.cancelled():
        return Outcome("b'': no more data, because this socket was shut down here", data=data, cut_short=True)
    if ctx.tracked.shut_reading:
        return Outcome(
            "b'': this socket was shut down for reading here, so recv() returns b'' whenever nothing is waiting "
            "(the peer may not have closed)",
            data=data,
        )
    return Outcome("b'': the peer closed its side, so no more data will come", data=data)


def _recv_all(ctx: Context) -> Outcome:
    assert ctx.tracked is not None
    check = BulkCheck()
    expect = ctx.args.expect
    buffer = memoryview(bytearray(PIECE))  # one call takes all that is queued, up to 4 MiB: see model/bulk.py
    cut_short = False
    while expect is None or check.received < expect:
        count = ctx.sock.recv_into(buffer, min(PIECE, expect - check.received) if expect else PIECE)
        if not count:
            cut_short = ctx.cancelled()
            break
        check.feed(buffer[:count])
        ctx.site.count(ctx.tracked, ctx.call, received=count)
    if cut_short:
        ending = "cut short: this socket was shut down here"
    elif ctx.tracked.shut_reading and (expect is None or check.received < expect):
        ending = "this socket was shut down for reading here, so recv() gave b'' (the peer may not have closed)"
    elif expect is None or check.received < expect:
        ending = "the peer closed its side"
    else:
        ending = "all expected bytes came"
    words = [f"{check.received} bytes in all ({ending})"]
    peer = ctx.site.peer_of(ctx.tracked)
    if peer is not None and _still_sending(peer):
        words.append(f"{peer.name}'s sendall() has not returned yet ({peer.bytes_sent} counted so far), "
                     f"{ctx.tracked.name} received {ctx.tracked.bytes_received}")  # fmt: skip
    elif peer is not None:
        verdict = "equal" if peer.bytes_sent == ctx.tracked.bytes_received else "not equal"
        words.append(f"{peer.name} has sent {peer.bytes_sent} in all, {ctx.tracked.name} received "
                     f"{ctx.tracked.bytes_received}: {verdict}")  # fmt: skip
    if check.received and peer is not None and peer.generated_sent:  # a typed message is no pattern to check
        if check.mismatch_at is None:
            words.append("every byte matches the generated pattern")
        else:
            words.append(f"from byte {check.mismatch_at} on, the bytes are not one run of the generated pattern: "
                         f"{peer.name} sent other bytes too, or more than one bulk send (each starts the pattern "
                         "again)")  # fmt: skip
    return Outcome("; ".join(words), cut_short=cut_short)


def _still_sending(peer: TrackedSocket, grace: float = 0.5) -> bool:
    """Whether the peer's sendall() is still running after a moment's grace.

    The last bytes can reach this side before the sender's sendall() returns and counts them, so
    comparing at once would say "not equal" of a transfer that is whole. This runs in the step's
    own thread, never the event loop's.
    """
    deadline = time.monotonic() + grace
    while any(call.step.action is Action.SEND for call in tuple(peer.in_flight)):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.001)
    return False


def _shutdown(ctx: Context) -> Outcome:
    how = ctx.args.how
    assert ctx.tracked is not None
    ctx.sock.shutdown(how)
    _shut_here(ctx.tracked, how)
    if how == socket.SHUT_WR:
        return Outcome(
            "FIN sent: once the peer has read what came before, its recv() returns b''; this side can still "
            "receive, and can send no more"
        )
    if how == socket.SHUT_RD:
        return Outcome(
            "nothing is sent to the peer: recv() here still returns what is waiting, then b'' whenever nothing "
            "is (on Linux the peer's later data still arrives, and recv() returns it)"
        )
    return Outcome(
        "FIN sent and reading shut: the peer reads b'' after what came before; this side can send no more, "
        "and recv() here returns b'' whenever nothing is waiting"
    )


def _option(ctx: Context) -> Outcome:
    setting = ctx.args.option
    assert setting is not None
    setting.option.apply(ctx.sock, setting.value)
    now = setting.option.read(ctx.sock)
    result = f"{setting.option.name} is now {now}"
    if setting.option.name in ("SO_RCVBUF", "SO_SNDBUF"):
        asked = setting.value
        if isinstance(asked, int) and now == str(2 * asked):
            result += " (the kernel doubles what is asked, to leave room for its own bookkeeping)"
        elif isinstance(asked, int):
            result += (f" for {asked} asked: the kernel doubles what is asked, to leave room for its own "
                       "bookkeeping, and keeps the result within its own minimum and maximum")  # fmt: skip
    return Outcome(result)


def _cancel(ctx: Context) -> Outcome:
    tracked = ctx.tracked
    assert tracked is not None
    listening = listens(tracked.sock)
    queued = waiting_to_be_accepted(tracked.sock) if listening else 0
    connected = tracked.current_ends() is not None
    why = f"cancelling it with {tracked.name}.shutdown()"
    woken = ctx.site.wake_calls_on(tracked, why=why, except_call=ctx.call, how=ctx.args.how)
    if not woken:
        return Outcome(f"nothing was running on {tracked.name} any more")
    result = f"woke {', '.join(woken)} on {tracked.name}"
    if listening:
        result += _stopped_listening(tracked, queued)
    elif connected:
        _shut_here(tracked, ctx.args.how)
        if ctx.args.how == socket.SHUT_RD:
            result += (f". {tracked.name} stays shut down for reading: recv() on it returns b'' whenever nothing "
                       "is waiting, and it can still send")  # fmt: skip
        else:
            result += f". {tracked.name} stays shut down both ways: it can send no more"
    return Outcome(result)


def _close(ctx: Context) -> Outcome:
    tracked = ctx.tracked
    assert tracked is not None
    fd = tracked.sock.fileno()
    tracked.remember_ends()
    reset = _closes_with_reset(tracked.sock)
    why = f"closing {tracked.name} here"
    woken = ctx.site.wake_calls_on(tracked, why=why, except_call=ctx.call, how=socket.SHUT_RDWR)
    if woken:  # the fd stays open until they have left it: a call entering the kernel can still be woken
        ctx.site.let_calls_leave(tracked, why=why, except_call=ctx.call)
    tracked.sock.close()
    if woken:
        return Outcome(
            f"{tracked.name} closed and fd {fd} released. It was shut down first to wake {', '.join(woken)}: "
            f"on Linux close() alone leaves a blocked call waiting{reset.replace(' instead of FIN', ' after its FIN')}"
        )
    if fd < 0:
        return Outcome(f"{tracked.name} was already closed; closing twice is harmless")
    return Outcome(
        f"{tracked.name} closed; fd {fd} is released, and the next file or socket this process opens "
        f"(sockviz's own included) may get that number{reset}"
    )


def _burst(ctx: Context) -> Outcome:
    clients = []
    for _ in range(ctx.args.count):
        sock = socket.socket(ctx.args.family, socket.SOCK_STREAM)
        clients.append(ctx.site.adopt(sock, Role.CLIENT, select=Target.CLIENT))
    threads = ctx.site.start_burst(ctx.call, clients, ctx.args)
    names = f"{clients[0].name} to {clients[-1].name}" if len(clients) > 1 else clients[0].name
    if ctx.args.payload is None:
        return Outcome(f"{len(clients)} clients ({names}) are connecting, each in its own thread")
    for thread in threads:  # a burst that does work returns when its clients are done: served, or given up
        thread.join()
    return Outcome(f"{len(clients)} clients ({names}) each sent {show_bytes(ctx.args.payload)} from its own thread "
                   "and are done (the burst's summary says how many got their echo back)")  # fmt: skip


def _select(ctx: Context) -> Outcome:
    watched = ctx.watching or ((ctx.tracked,) if ctx.tracked else ())
    by_sock = {id(t.sock): t for t in watched}
    writing = [t.sock for t in watched[1:]] if ctx.args.select_write else []
    readable, writable, _ = select.select([t.sock for t in watched], writing, [], ctx.args.timeout)
    ready = [by_sock[id(sock)] for sock in readable]
    room = [by_sock[id(sock)] for sock in writable]
    if ctx.cancelled():
        name = ctx.tracked.name if ctx.tracked else "s"
        return Outcome(f"cut short: {name} was shut down here, which makes select() return it", cut_short=True,
                       readable=ready)  # fmt: skip
    if not ready and not room:
        return Outcome(f"([], [], []): no socket became ready within the timeout of {ctx.args.timeout:g} s")
    parts, words = [], None
    if ready:
        whys = [why_readable(t.sock) for t in ready]
        reasons = "; ".join(f"{t.name}: {why}" for t, why in zip(ready, whys, strict=True))
        parts.append(f"readable [{', '.join(t.name for t in ready)}] ({reasons}): reading from any of them now "
                     "does not wait")  # fmt: skip
        words = f"{ready[0].name} becoming readable ({whys[0]})"
    if room:
        parts.append(f"writable [{', '.join(t.name for t in room)}]: each has room in its send buffer, so a "
                     "sendall() that fits does not wait (nearly always true: a socket in the write list makes "
                     "select() return at once)")  # fmt: skip
        words = words or f"{room[0].name} having room in its send buffer"
    return Outcome("; ".join(parts), readable=ready, writable=room, ready_words=words)


CALLS: dict[Action, Callable[[Context], Outcome]] = {
    Action.SOCKET: _socket,
    Action.BIND: _bind,
    Action.LISTEN: _listen,
    Action.ACCEPT: _accept,
    Action.CONNECT: _connect,
    Action.SEND: _send,
    Action.RECV: _recv,
    Action.RECV_ALL: _recv_all,
    Action.SHUTDOWN: _shutdown,
    Action.OPTION: _option,
    Action.CANCEL: _cancel,
    Action.CLOSE: _close,
    Action.BURST: _burst,
    Action.SELECT: _select,
}
