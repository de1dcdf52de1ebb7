"""Why a step cannot run now: the sentence a StepRefused carries, so that no socket call is made.

The session asks it before every call; a front end asks `nothing_to_echo` too, to refuse at the
message field the same thing the session would refuse in the log, in the same words.
"""

from __future__ import annotations

from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.model.bulk import PIECE
from sockviz.core.model.step_args import MAX_BURST, StepArgs
from sockviz.core.model.steps import Action, Side, Step, Target, step


def refusal(chosen: Step, args: StepArgs, tracked: TrackedSocket | None) -> str | None:
    """Why `chosen` cannot run on `tracked` with these arguments, or None when it can."""
    who = chosen.side.value
    target = chosen.target_on(args.transport)
    if target is Target.BUSY and tracked is None:
        return f"no {who} call is running, so there is nothing to cancel"
    if target is not Target.NEW and tracked is None:
        return f"there is no {who} socket yet: run {who} socket() first (in Python this line would be a NameError)"
    on_listener = chosen.target is Target.CONNECTION and tracked is not None and tracked.role is Role.SERVER
    if on_listener and chosen.action in (Action.CLOSE, Action.SHUTDOWN):
        assert tracked is not None
        return _no_connection(chosen, tracked)
    if chosen.action in (Action.BIND, Action.CONNECT, Action.BURST) and args.endpoint is None:
        return f"{chosen.action.call}() needs an address"
    if chosen.action is Action.OPTION and args.option is None:
        return "choose an option and its value first"
    if chosen.action is Action.BURST and not 1 <= args.count <= MAX_BURST:
        return f"a burst opens from 1 to {MAX_BURST} clients"
    if chosen.action is Action.SEND:
        return nothing_to_echo(args, tracked) or _no_address(chosen, args, tracked)
    return None


def _no_address(chosen: Step, args: StepArgs, tracked: TrackedSocket | None) -> str | None:
    """Why a UDP send has nowhere to go, or a datagram that could not even be made: None if it can be sent."""
    if tracked is None or not tracked.datagram or tracked.closed:
        return None
    if args.bulk is not None and args.bulk > PIECE:
        return (f"a datagram of {args.bulk} bytes cannot even be made here (sockviz makes at most {PIECE}); "
                "UDP's own limit is 65,507 bytes over IPv4: try 70000 to see the kernel refuse it")  # fmt: skip
    if tracked.current_ends() is not None:
        return None  # connected: send() goes to the peer
    if chosen.side is Side.SERVER and tracked.last_sender is None:
        return (f"nothing has been received on {tracked.name} yet, so there is no address to reply to: "
                "recvfrom() gives it (in Python, addr would not exist yet)")  # fmt: skip
    if chosen.side is Side.CLIENT and args.endpoint is None:
        return "sendto() needs an address: the host and port of the top bar"
    return None


def nothing_to_echo(args: StepArgs, tracked: TrackedSocket | None) -> str | None:
    """A send with no message echoes what its socket last received: why it cannot, if nothing was."""
    if args.payload is None and args.bulk is None and tracked is not None and tracked.last_received is None:
        return f"nothing has been received on {tracked.name} yet, so there is nothing to echo: type a message"
    return None


def _no_connection(chosen: Step, listener: TrackedSocket) -> str:
    """Why a connection's close or shutdown is not run on the listener it would otherwise fall back to.

    recv() and sendall() there show the kernel's own error, but these two would silently act on
    the listener: close it, or stop it listening.
    """
    if chosen.action is Action.CLOSE:
        closer = step(f"{chosen.side.value}-close")
        return (f"no connection has been accepted yet, so there is no connection to close; "
                f"{closer.label} ({closer.key}) closes the listening socket {listener.name}")  # fmt: skip
    return (f"no connection has been accepted yet, so there is no connection to shut down; on the listening "
            f"socket {listener.name}, shutdown() would stop it listening")  # fmt: skip
