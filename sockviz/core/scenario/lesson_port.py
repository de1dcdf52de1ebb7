"""Where a lesson binds: the port it was given, unless the kernel still holds that port in a way the lesson's
own bind() cannot get past.

Every TCP lesson sets SO_REUSEADDR before its bind(), so that the TIME_WAIT a lesson leaves does not stop
the next one. It does not help against a TIME_WAIT left by a socket without SO_REUSEADDR (the echo done
by hand just before, in this app or another): bind() then fails with EADDRINUSE for up to 60 s, and the
lesson would stop at its first bind(). So before a lesson starts, a throwaway socket makes the bind() the
lesson's first one will make (same family, transport and SO_REUSEADDR); if the kernel refuses it, the
lesson moves to the next port that it accepts, and the front end says why, naming what the kernel holds.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass, replace

from sockviz.core.kernel.lingering import Ends, Lingering, held_on_port, listened_on
from sockviz.core.model.addresses import Endpoint, address_text
from sockviz.core.model.transport import Transport
from sockviz.core.scenario.language import Line, StepLine, UseTransport

TRIES = 20
"""Ports after the given one to try before giving up (and letting the lesson meet the error itself)."""


@dataclass(frozen=True)
class Place:
    """Where the lesson runs, and, when that is not where it was asked to, the sentence that says why."""

    endpoint: Endpoint
    moved: str | None = None
    line: int = 0
    """The line of the lesson's first bind(), where a moved lesson would have stopped."""


@dataclass(frozen=True)
class FirstBind:
    """The lesson's first server bind(): on what transport, and whether SO_REUSEADDR was set before it."""

    line: int
    transport: Transport
    reuse_address: bool


def first_bind(lines: list[Line]) -> FirstBind | None:
    """How the lesson's first server bind() is made, read from its lines; None when it binds nothing."""
    transport, reuse = Transport.TCP, False
    for line in lines:
        if isinstance(line, UseTransport):
            transport = line.transport
        elif isinstance(line, StepLine) and line.step.id == "server-option" and line.args.option is not None:
            if line.args.option.option.name == "SO_REUSEADDR":
                reuse = bool(line.args.option.value)
        elif isinstance(line, StepLine) and line.step.id == "server-bind":
            return FirstBind(line.line, transport, reuse)
    return None


def refused_bind(endpoint: Endpoint, bind: FirstBind) -> OSError | None:
    """Make the bind() the lesson will make, on a socket closed at once; the error, or None if it worked.

    A bound socket that never listens takes no connection and leaves no TIME_WAIT: closing it frees
    the port at once."""
    with socket.socket(endpoint.family, bind.transport.kind) as probe:
        if bind.reuse_address:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(endpoint.address)
        except OSError as error:
            return error
    return None


def place(lines: list[Line], endpoint: Endpoint) -> Place:
    """The endpoint the lesson should run on: `endpoint` itself, unless its first bind() would fail there on
    a closed connection the kernel still holds (TIME_WAIT and the like). A listener that holds the port is
    no earlier run's leftover but a server still running: the lesson meets it, and stops with the reason."""
    bind = first_bind(lines)
    if bind is None or bind.transport is not Transport.TCP:
        return Place(endpoint)  # UDP leaves no TIME_WAIT behind
    error = refused_bind(endpoint, bind)
    if error is None or error.errno != errno.EADDRINUSE:
        return Place(endpoint)  # a bind() that fails otherwise (a host not on this machine) is the lesson's to show
    try:
        held = held_on_port(endpoint.port)
        if not held or listened_on(endpoint.port):
            return Place(endpoint)
    except OSError:  # no answer from the kernel's table: nothing to say why, so no move
        return Place(endpoint)
    for port in range(endpoint.port + 1, min(endpoint.port + 1 + TRIES, 65536)):
        other = replace(endpoint, port=port)
        if refused_bind(other, bind) is None:
            return Place(other, _why_moved(endpoint, port, bind, held), bind.line)
    return Place(endpoint)


def _why_moved(endpoint: Endpoint, port: int, bind: FirstBind, held: list[tuple[Ends, Lingering]]) -> str:
    """What holds the port, as the kernel says it, and where the lesson runs instead."""
    (local, remote), first = held[0]
    left = f", {first.expires:.0f} s left" if first.expires is not None else ""
    more = f" (and {len(held) - 1} more)" if len(held) > 1 else ""
    holds = f"the kernel still holds {address_text(local)} ⇄ {address_text(remote)} in {first.state}{left}{more}"
    if bind.reuse_address:
        why = ("from a socket that had not set SO_REUSEADDR, so the lesson's own SO_REUSEADDR cannot get past it "
               "(a TIME_WAIT lets a new bind() through only if both sockets set it)")  # fmt: skip
    else:
        why = "and the lesson's bind() does not set SO_REUSEADDR, which a TIME_WAIT asks of both sockets"
    return (f"A test bind() to {address_text(endpoint.address)} as the lesson's first one failed with EADDRINUSE "
            f"(Address already in use): {holds}, {why}. So this lesson runs on port {port} instead.")  # fmt: skip
