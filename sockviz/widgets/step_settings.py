"""The step pane's "more settings": the fields a few steps read (shutdown's how, an option, sizes, a burst).

They are made the first time the settings open, as they would slow start-up by a quarter; until
then a step reads their defaults. A new setting for a step is a field here and a line in the
pane's `args_for`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TypeVar

from textual.app import ComposeResult
from textual.widgets import Label, Select

from sockviz.core import InputError, Side, parse_payload
from sockviz.core.model.bulk import parse_size
from sockviz.core.model.options import OPTIONS, OPTIONS_BY_NAME, parse_timeout
from sockviz.core.model.step_args import MAX_BURST, RECV_SIZE, SHUTDOWN_NAMES, parse_hold
from sockviz.widgets.field import Field

T = TypeVar("T")

DEFAULT_BURST = 10

_SELECT_CHOICES = [("reading", False), ("reading and writing", True)]
"""What select() watches the connections for: writing too makes it return at once while a buffer has room."""

_SHUTDOWN_CHOICES = [(SHUTDOWN_NAMES[how], how) for how in (socket.SHUT_WR, socket.SHUT_RD, socket.SHUT_RDWR)]


def optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    """A field that may be left empty: empty is None, anything else is parsed."""
    return lambda text: parse(text) if text.strip() else None


def whole(low: int, high: int, field: str) -> Callable[[str], int]:
    """A field that takes a whole number from `low` to `high`; `field` names it in the refusal."""

    def parse(text: str) -> int:
        text = text.strip()
        if not text.isdecimal() or not low <= int(text) <= high:
            raise InputError(field, f"a whole number from {low} to {high}")
        return int(text)

    return parse


RECV_SIZE_TIP = (
    f"The most bytes one recv() takes (empty: {RECV_SIZE}). On UDP a datagram longer than this is cut, and the "
    "rest of it is lost."
)
"""Said when the recv() size field is pointed at: its placeholder has room for the default alone at 80 columns."""


def settings_fields(pane_side: Side) -> ComposeResult:
    """The settings of one pane, with the ids its `args_for` reads (`server-how`, `client-size-field`...)."""
    side = pane_side.value
    server = pane_side is Side.SERVER
    yield Label("shutdown() how", classes="field-title")
    yield Select(_SHUTDOWN_CHOICES, value=socket.SHUT_WR, allow_blank=False, compact=True, id=f"{side}-how")
    yield Label("setsockopt", classes="field-title")
    yield Select([(o.name, o.name) for o in OPTIONS], value="SO_REUSEADDR", allow_blank=False,
                 compact=True, id=f"{side}-option-name")  # fmt: skip
    yield Field("value", "1", OPTIONS_BY_NAME["SO_REUSEADDR"].parse, input_id=f"{side}-option-value",
                id=f"{side}-option-value-field")  # fmt: skip
    if server:
        yield Field("listen() backlog", "", optional(whole(0, 4096, "backlog")), input_id="server-backlog",
                    placeholder="empty: default, 128", id="server-backlog-field")  # fmt: skip
    yield Field("sendall() size", "", optional(parse_size), input_id=f"{side}-size",
                placeholder="64k, 256M; empty: msg", id=f"{side}-size-field")  # fmt: skip
    yield Field("recv() size", "", optional(whole(1, 65536, "size")), input_id=f"{side}-bufsize",
                placeholder=f"empty: {RECV_SIZE}", tooltip=RECV_SIZE_TIP, id=f"{side}-bufsize-field")  # fmt: skip
    yield Field("recv all: expect", "", optional(parse_size), input_id=f"{side}-expect",
                placeholder="empty: until b''", id=f"{side}-expect-field")  # fmt: skip
    if server:
        yield Field("select() timeout", "", optional(parse_timeout), input_id="server-select-timeout",
                    placeholder="empty: None (waits)", id="server-select-timeout-field")  # fmt: skip
        yield Label("select() watches", classes="field-title")
        yield Select(_SELECT_CHOICES, value=False, allow_blank=False, compact=True, id="server-select-write")
    if not server:
        yield Field("burst clients", str(DEFAULT_BURST), whole(1, MAX_BURST, "clients"),
                    input_id="client-burst-count", id="client-burst-count-field")  # fmt: skip
        yield Field("burst: each sends", "", optional(parse_payload), input_id="client-burst-send",
                    placeholder="empty: connect only", id="client-burst-send-field")  # fmt: skip
        yield Field("burst: then keeps it (s)", "0.1", parse_hold, input_id="client-burst-hold",
                    id="client-burst-hold-field")  # fmt: skip
