"""The error that front ends show at a field: input refused before any socket call."""

from __future__ import annotations


class InputError(ValueError):
    """A value typed by the user that sockviz will not pass to a socket call."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
