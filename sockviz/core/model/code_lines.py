"""The Python line a call runs, written from its step's template and its arguments.

It sits in the model, not in the story with the other readers: the engine writes a call's line
when the call begins (StepCalled carries it, before the call can block), and the engine may not
import the story layer. Filling a template needs no socket: the session hands over the names
and the one figure it reads from a socket (a bulk send's piece size), so this stays plain data.

A step's template (`Step.code` in steps.py) may use these placeholders:

| placeholder | filled with |
| --- | --- |
| `{sock}` | the name of the socket the call acts on (`s`, `conn2`, `c`) |
| `{new}` | the name of the socket the call makes: accept()'s connection, socket()'s socket |
| `{family}` | `socket.AF_INET` or `socket.AF_INET6` |
| `{address}` | the endpoint as Python writes it: `('127.0.0.1', 65432)` |
| `{send}` | sendall() of the message, of the data last received, or of a bulk size in pieces |
| `{recv_all}` | recv_into() in a loop until the expected size or the peer's close |
| `{how}` | `socket.SHUT_RD`, `socket.SHUT_WR` or `socket.SHUT_RDWR` |
| `{bufsize}` | recv()'s buffer size |
| `{backlog}` | listen()'s backlog, or nothing for the default |
| `{option}` | the setsockopt() (or settimeout()) line of the chosen option |
| `{burst}` | the loop that connects many clients, each in its own thread (on UDP: sends many datagrams) |
| `{recv}` | on UDP: `data, addr = s.recvfrom(1024)`, or `data = c.recv(1024)` once connected |
| `{select}` | select.select() over the sockets the session watches, with the timeout |

On a UDP socket (`datagram`) the same placeholders write UDP's calls: `{send}` is `sendto()` to the
last sender's `addr` (server) or to the address (client), or `send()` once connected; `{recv_all}`
reads the queued datagrams without waiting.
"""

from __future__ import annotations

from sockviz.core.model.payload import show_bytes
from sockviz.core.model.step_args import SHUTDOWN_NAMES, StepArgs
from sockviz.core.model.steps import Action, Side, Step
from sockviz.core.model.transport import Transport

PAYLOAD_SHOWN = 60
"""Bytes of a message the line writes out; a longer message is cut."""


def code_line(
    chosen: Step,
    args: StepArgs,
    name: str,
    *,
    new: str,
    piece: int,
    in_flight: bool,
    datagram: bool = False,
    connected: bool = False,
    watching: tuple[str, ...] = (),
) -> str:
    """The line for `chosen` run on the socket called `name`.

    `new` is the name the call gives the socket it makes (the session owns the names); `piece`
    is how many bytes each sendall() of a bulk send hands over; `in_flight` says that calls are
    still running on the socket, so close() is preceded by the shutdown() that wakes them.
    `datagram`: the socket is UDP (for socket(), UDP is the chosen transport); `connected`: a UDP
    socket that connect() gave a peer, so it sends with send() and receives with recv().
    `watching` names the sockets a select() watches, `name` first.
    """
    address = repr(args.endpoint.address) if args.endpoint else ""
    family = f"socket.{args.family.name}"
    form = chosen.on(Transport.UDP if datagram else Transport.TCP)
    if datagram:
        send = _send_datagram(chosen, args, name, connected)
        recv_all = _drain(args, name)
    else:
        send, recv_all = _send(args, name, piece), _recv_all(args, name)
    code = form.code.format(
        sock=name,
        new=new,
        family=family,
        address=address,
        send=send,
        recv_all=recv_all,
        recv=f"data = {name}.recv({args.bufsize})" if connected else f"data, addr = {name}.recvfrom({args.bufsize})",
        how=f"socket.{SHUTDOWN_NAMES.get(args.how, args.how)}",
        bufsize=args.bufsize,
        backlog="" if args.backlog is None else args.backlog,
        option=args.option.option.line(name, args.option.value) if args.option else "",
        burst=f"for i in range({args.count}): {name}.sendto(b'datagram %d' % i, {address})"
        if datagram
        else _burst(args, family, address),
        select=_select(args, watching or (name,)),
    )
    if chosen.action is Action.CLOSE and in_flight:
        code = f"{name}.shutdown(socket.SHUT_RDWR); {code}"
    return code


def _burst(args: StepArgs, family: str, address: str) -> str:
    clients = f"for c in [socket.socket({family}, socket.SOCK_STREAM) for _ in range({args.count})]: "
    if args.payload is None:
        return clients + f"threading.Thread(target=c.connect, args=({address},)).start()"
    message = show_bytes(args.payload, PAYLOAD_SHOWN)
    return clients + f"threading.Thread(target=echo_client, args=(c, {message}, {args.hold:g})).start()"


def _select(args: StepArgs, watching: tuple[str, ...]) -> str:
    """select() over the watched sockets; with `select_write`, the connections (all but the first) for writing."""
    writing = ", ".join(watching[1:]) if args.select_write else ""
    return f"readable, writable, _ = select.select([{', '.join(watching)}], [{writing}], [], {args.timeout})"


def _send(args: StepArgs, name: str, piece: int) -> str:
    if args.bulk is not None:
        total = args.bulk
        return f"for i in range(0, {total}, {piece}): {name}.sendall(generated(i, min({piece}, {total} - i)))"
    if args.payload is None:
        return f"{name}.sendall(data)"
    return f"{name}.sendall({show_bytes(args.payload, PAYLOAD_SHOWN)})"


def _recv_all(args: StepArgs, name: str) -> str:
    if args.expect is None:
        return f"received = sum(iter(lambda: {name}.recv_into(buffer), 0))"
    want = f"min(len(buffer), {args.expect} - received)"
    return (
        f"received = 0\nwhile received < {args.expect} and (count := {name}.recv_into(buffer, {want})):"
        " received += count"
    )


def method_of(chosen: Step, *, datagram: bool, connected: bool, args: StepArgs | None = None) -> str | None:
    """The socket method a step calls where it is not the step's usual one: `sendto`, `send`, `recvfrom` on UDP,
    `setblocking` or `settimeout` for an option step that sets no socket option.

    None for steps that call their usual method.
    """
    if chosen.action is Action.OPTION and args is not None and args.option is not None:
        method = args.option.option.method
        return None if method == chosen.action.call else method
    if not datagram:
        return None
    if chosen.action is Action.SEND:
        return "send" if connected else "sendto"
    if chosen.action in (Action.RECV, Action.RECV_ALL):
        return "recv" if connected else "recvfrom"
    if chosen.action is Action.BURST:
        return "sendto"
    return None


def _send_datagram(chosen: Step, args: StepArgs, name: str, connected: bool) -> str:
    """One datagram: to the last sender's `addr` (the server's reply), to the address (a client), or to the peer."""
    if args.bulk is not None:
        data = f"generated(0, {args.bulk})"
    elif args.payload is None:
        data = "data"
    else:
        data = show_bytes(args.payload, PAYLOAD_SHOWN)
    if connected:
        return f"{name}.send({data})"
    to = "addr" if chosen.side is Side.SERVER or args.endpoint is None else repr(args.endpoint.address)
    return f"{name}.sendto({data}, {to})"


def _drain(args: StepArgs, name: str) -> str:
    """The queued datagrams, read without waiting until none is left: what recv all does on UDP."""
    return (
        "datagrams = 0\nwhile True:\n    try:\n"
        f"        data, addr = {name}.recvfrom({args.bufsize}, socket.MSG_DONTWAIT)\n"
        "    except BlockingIOError:\n        break\n    datagrams += 1"
    )
