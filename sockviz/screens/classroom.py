"""The session screen in a classroom: the lecturer's share (its bar, its narration to followers) and a
follower's screen (nothing runs, every step says why, the lecturer's notes in the log).

A follower's screen is the lecturer's screen fed by a `Mirror` instead of a `Session`; these are the few
places where it differs, as plain functions the screen's handlers call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sockviz.core import Session, steps_of
from sockviz.core.story.next_steps import next_line

if TYPE_CHECKING:
    from sockviz.core import Side
    from sockviz.core.engine.view import SessionView
    from sockviz.core.model.addresses import Endpoint
    from sockviz.share.server import ShareServer
    from sockviz.widgets.endpoint_bar import EndpointBar
    from sockviz.widgets.step_pane import StepPane
    from sockviz.widgets.wire_pane import WirePane

WIRE_NOT_YET = (
    "Nothing from the lecturer's wire yet: the lecturer's wire view (w) captures on the lecturer's machine, and "
    "its lines show here while it does (the frames themselves stay there)."
)


FOLLOWER_SWITCHES = {
    "toggle_family": "the lecturer chooses the address family, not a follower",
    "toggle_transport": "the lecturer chooses TCP or UDP, not a follower",
}
"""The top bar's switches, which a follower's keys do not turn (the bar shows the lecturer's), and why."""
UNUSED_BY_FOLLOWERS = frozenset({*FOLLOWER_SWITCHES, "reset_session", "restart_lesson", "export_pcap"})
"""The keys a follower can never use (the session, its address and its captured frames are the lecturer's): still
bound, so that pressing one says why, but not on its key line."""


class ClassAnswers:
    """The class's answers to the lecturer's open question, as the lecturer's question shows them."""

    def __init__(self, share: ShareServer) -> None:
        self.share = share

    def answers(self) -> tuple[dict[str, int], int, bool] | None:
        """The counts by choice, how many follow, and whether the histogram is hidden; None with no question."""
        found = self.share.tally()
        if found is None:
            return None
        tally, following = found
        return tally, following, self.share.hide_tally

    def toggle_hidden(self) -> None:
        """Hide the histogram until the reveal (peer instruction), or show it: to the class as to the lecturer."""
        self.share.hide_tally = not self.share.hide_tally
        self.share.show_tally(not self.share.hide_tally)


def class_answers(share: ShareServer | None) -> ClassAnswers | None:
    return None if share is None else ClassAnswers(share)


def follow_welcome(address: str) -> str:
    from sockviz.share.mirror import FOLLOWING  # share/ only on a follower's screen: not at start-up

    return (
        f"You follow the lecturer's session at {address}: every call they make shows here as it happens, "
        f"with the same table, log, timeline and wire. Your step keys run nothing ({FOLLOWING}); t (timeline), "
        "w (the lecturer's wire), v (projector), f1 (help), f2 (contrast) and the palette's themes are yours, and "
        "f3 and f4 export the lecturer's session so far."
    )


def sharing_text(share: ShareServer) -> tuple[str, bool]:
    """The lecturer's bar: where it shares, the join code, how many follow, and any frames dropped; or why the
    share stopped when nobody stopped it."""
    where = f"[{share.host}]:{share.port}" if ":" in share.host else f"{share.host}:{share.port}"
    if share.ended is not None:
        return f"⚠ not sharing on {where} any more: {share.ended}", True
    text = f"sharing {where} · code {share.code} · {share.followers} follow"
    dropped = sum(count for why, count in share.dropped.items() if why != "wrong code")
    if dropped:
        text += f" · {dropped} dropped"
    if share.exposed:
        text = f"⚠ {text}: other machines can follow"
    return text, share.exposed


def show_sharing(bar: EndpointBar, share: ShareServer | None, following: str | None) -> None:
    if share is not None:
        text, warn = sharing_text(share)
        bar.show_sharing(text, warn=warn)
    elif following is not None and not bar.sharing[0]:
        bar.show_sharing(f"following {following} · read-only")


def show_following(panes: dict[Side, StepPane]) -> None:
    """Every step of a follower is off, with the reason in its tooltip."""
    from sockviz.share.mirror import FOLLOWING

    for side, pane in panes.items():
        pane.show_refusals(dict.fromkeys((s.id for s in steps_of(side)), FOLLOWING))


def guide(
    session: SessionView, only: Side | None = None, target: Endpoint | None = None, *, telling: bool = True
) -> str:
    """The log's `next:` line: the lecturer's own, for a follower (their session, their next steps).
    A screen's session is its app's own `Session` or a follower's `Mirror` of the lecturer's. `target` is
    the top bar's address, where the client's connect() goes (None when the bar's fields are refused). Without
    `telling` (predict mode) the line does not say what the steps will do."""
    if isinstance(session, Session):  # the lecturer's own: share/ is not loaded for it
        return next_line(session, only, target, telling=telling)
    from sockviz.share.mirror import Mirror

    return session.guide() if isinstance(session, Mirror) else next_line(session, only, target, telling=telling)


def toggle_lecturers_wire(wire: WirePane) -> bool:
    """A follower's `w`: the pane shows the lecturer's wire lines (or says why there are none yet), or hides.
    Whether it shows now: then it is told its size once the layout settles."""
    wire.display = not wire.display
    if wire.display:
        wire.show_hidden()
        if not wire.lines_shown:
            wire.note(WIRE_NOT_YET)
    return wire.display
