"""A step's fields read into `StepArgs`: for a click, for a hint, and to say why a step would not run now.

The three read the same fields (the address bar's endpoint where the step needs one, then the pane's own);
they differ in what a bad field does: a click shows the refusal at the field and runs nothing, a hint
leaves the value out, a why-not names the field in the button's tooltip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sockviz.core import Action, InputError, Side, Step, StepArgs, steps_of
from sockviz.core.engine.refusals import nothing_to_echo

if TYPE_CHECKING:
    from sockviz.core import Session
    from sockviz.core.engine.view import SessionView
    from sockviz.widgets.endpoint_bar import EndpointBar
    from sockviz.widgets.step_pane import StepPane

NEEDS_ENDPOINT = (Action.BIND, Action.CONNECT, Action.BURST)
"""The actions that read the address bar: where to bind, where to connect, where a burst connects."""


def read_fields(
    chosen: Step, bar: EndpointBar, pane: StepPane, *, quiet: bool = False, session: SessionView | None = None
) -> StepArgs:
    """Everything the step needs from the fields; raises InputError (shown at the field at fault unless quiet).

    A client's send on a UDP socket reads the address too: sendto() names where its datagram goes."""
    base = StepArgs(family=bar.family, transport=bar.transport)
    if chosen.action in NEEDS_ENDPOINT or (session is not None and sends_datagram_to_address(chosen, session)):
        base.endpoint = bar.endpoint(quiet=quiet)
    return pane.args_for(chosen, base, quiet=quiet)


def sends_datagram_to_address(chosen: Step, session: SessionView) -> bool:
    """Whether the step is a client's send from a UDP socket that connect() gave no peer: a sendto()."""
    if chosen.action is not Action.SEND or chosen.side is not Side.CLIENT:
        return False
    tracked = session.current(chosen.target, chosen.side)
    return tracked is not None and tracked.datagram and not tracked.closed and tracked.current_ends() is None


def args_for(chosen: Step, bar: EndpointBar, pane: StepPane, session: Session) -> StepArgs:
    """The arguments a click runs the step with; raises InputError, shown at the field at fault.
    An echo with nothing received to echo is refused at the message field."""
    args = read_fields(chosen, bar, pane, session=session)
    if chosen.action is Action.SEND:
        reason = nothing_to_echo(args, session.current(chosen.target, chosen.side))
        if reason:
            pane.refuse("message", reason)
    return args


def hint_args(chosen: Step, bar: EndpointBar, pane: StepPane) -> StepArgs:
    """The step's arguments for a would-it-block hint: a bad field only leaves its value out.
    Only connect() needs the address for its hint (is anyone listening there?)."""
    base = StepArgs(family=bar.family, transport=bar.transport)
    try:
        if chosen.action is Action.CONNECT:
            base.endpoint = bar.endpoint(quiet=True)
        return pane.args_for(chosen, base, quiet=True)
    except InputError:
        return base


def why_not(chosen: Step, bar: EndpointBar, pane: StepPane, session: SessionView) -> str | None:
    """Why the step would not run now: a field it reads is refused, or the session would refuse it."""
    try:
        args = read_fields(chosen, bar, pane, quiet=True, session=session)
    except InputError as error:
        return f"the {error.field} field: {error.reason}"
    no_bytes = chosen.action is Action.SEND and args.payload is None and args.bulk is None
    if no_bytes and chosen.side is Side.CLIENT and session.current(chosen.target, chosen.side) is not None:
        return "type the bytes to send in the message field"
    return session.refusal(chosen, args)


def show_refusals(session: SessionView, bar: EndpointBar, panes: dict[Side, StepPane]) -> None:
    """Mark on each pane the steps that cannot run now, each with its reason."""
    for side, pane in panes.items():
        pane.show_refusals({s.id: why_not(s, bar, pane, session) for s in steps_of(side)})


def show_hints_and_progress(
    session: SessionView, bar: EndpointBar, panes: dict[Side, StepPane], *, hints: bool = True
) -> None:
    """Tell each pane whether its waiting steps would block now, and how far its last transfer got.
    Without `hints` (predict mode: the user says first) the hints are left off."""
    for side, pane in panes.items():
        waiting = [s for s in steps_of(side) if s.blocks_until]
        pane.show_hints({s.id: session.predict(s, hint_args(s, bar, pane)) if hints else None for s in waiting})
    show_progress(session, panes)


def show_progress(session: SessionView, panes: dict[Side, StepPane]) -> None:
    """How far each pane's last transfer got: all that a refresh shows while a transfer moves bytes."""
    for side, pane in panes.items():
        pane.show_progress(session.last_transfer(side))
