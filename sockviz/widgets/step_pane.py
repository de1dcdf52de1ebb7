"""One side of the lesson: a button per step, and the values those steps send."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Label, Select

from sockviz.core import InputError, Side, Step, parse_payload, steps_of
from sockviz.widgets.field import Field

DEFAULT_CLIENT_MESSAGE = "Hello, Wireshark. You are an amazing tool!"
"""The course's message."""

_SHUTDOWN_CHOICES = [
    ("SHUT_WR", socket.SHUT_WR),
    ("SHUT_RD", socket.SHUT_RD),
    ("SHUT_RDWR", socket.SHUT_RDWR),
]


def _optional_payload(text: str) -> bytes | None:
    return parse_payload(text) if text else None


def step_label(step: Step) -> Text:
    """Key, course number and call: `a   4 accept()`. Plain Text, so nothing in it is read as markup."""
    return Text.assemble((f"{step.key}  ", "dim"), step.title)


class StepPane(Vertical):
    """The server's or the client's steps, and the fields they read."""

    @dataclass
    class StepPressed(Message):
        """The user asked for a step from this pane."""

        step: Step

    @dataclass
    class ConnectionChosen(Message):
        """The user chose which accepted connection the server's steps act on."""

        socket_id: int

    def __init__(self, side: Side, *, message: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.side = side
        self._message = message
        self.border_title = side.value

    def compose(self) -> ComposeResult:
        for step in steps_of(self.side):
            yield Button(step_label(step), id=step.id, compact=True, classes="step")
        side = self.side.value
        if self.side is Side.SERVER:
            yield Label("connection", classes="field-title")
            yield Select[int]([], prompt="none accepted yet", compact=True, id="server-conn")
            placeholder = "empty: echo what recv() got"
        else:
            placeholder = "bytes to send"
        yield Field(
            "message",
            self._message,
            _optional_payload,
            input_id=f"{side}-message",
            placeholder=placeholder,
            id=f"{side}-message-field",
        )
        yield Label("shutdown() how", classes="field-title")
        yield Select(_SHUTDOWN_CHOICES, value=socket.SHUT_WR, allow_blank=False, compact=True, id=f"{side}-how")

    @on(Button.Pressed, ".step")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        step = next(s for s in steps_of(self.side) if s.id == event.button.id)
        self.post_message(self.StepPressed(step))

    def payload(self) -> bytes | None:
        """The typed message as bytes; None when empty (the server echoes). Raises InputError."""
        field: Field[bytes | None] = self.query_one(f"#{self.side.value}-message-field", Field)
        payload = field.parsed()
        if payload is None and self.side is Side.CLIENT:
            field.refuse("type the bytes to send")
            raise InputError("message", "type the bytes to send")
        return payload

    def refuse_message(self, reason: str) -> None:
        self.query_one(f"#{self.side.value}-message-field", Field).refuse(reason)

    def how(self) -> int:
        value = self.query_one(f"#{self.side.value}-how", Select).value
        return value if isinstance(value, int) else socket.SHUT_RDWR

    def show_connections(self, choices: list[tuple[str, int]], chosen: int | None) -> None:
        """List the accepted connections; `chosen` is the one steps act on now."""
        if self.side is not Side.SERVER:
            return
        select: Select[int] = self.query_one("#server-conn", Select)
        with self.prevent(Select.Changed):
            select.set_options(choices)
            if chosen is not None:
                select.value = chosen

    @on(Select.Changed, "#server-conn")
    def _connection_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, int):
            self.post_message(self.ConnectionChosen(event.value))
