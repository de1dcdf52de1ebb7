"""A labelled input that refuses bad values with a reason, using the core's own parsers.

The reason shows under the field as plain text (never as markup: a typed
`[bold]` stays literal), and nothing is sent to a socket until the value parses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from sockviz.core import InputError
from sockviz.widgets.styled_once import StyledOnceShown

T = TypeVar("T")


class ParsedBy(Validator):
    """Accepts what a core parser accepts; the parser's reason becomes the failure text."""

    def __init__(self, parse: Callable[[str], object]) -> None:
        super().__init__()
        self.parse = parse

    def validate(self, value: str) -> ValidationResult:
        try:
            self.parse(value)
        except InputError as error:
            return self.failure(error.reason, value)
        return self.success()


class FieldInput(StyledOnceShown, Input):
    """A field's input: Textual's Input, restyled only once its screen is shown (`StyledOnceShown`)."""


class FieldNote(Label):
    """What a field says under (or beside) its input: a refusal's reason, or a remark. Made the first time a field
    has something to say, and its rules with it: Textual reads a widget's rules when the first one is mounted, and
    most sessions show no note (five rules fewer to read at start-up)."""

    SCOPED_CSS = False  # the fields' rules, kept with the widget they are for
    DEFAULT_CSS = """
    Field > .field-note {
        display: none;
        width: 100%;
        color: $text-muted;
        text-style: italic;
    }
    Field > .field-note.-shown {
        display: block;
    }
    Field > .field-note.-refused {
        color: $text-error;
        text-style: bold;
    }
    StepPane .field-note {
        width: 100%;
        padding: 0;
    }
    EndpointBar > Field > .field-note {
        width: auto;
        padding: 0 0 0 1;
    }
    """


class Field(Vertical, Generic[T]):
    """Title, input and the reason it refuses a value.

    The title is drawn by the field itself (`render`), in its first cells, which its input leaves free: above it
    (the input's top margin), or beside it where the field is a row (the top bar's margin). A Label for it was
    one widget more per field, four on the first screen, each of which costs start-up."""

    DEFAULT_CSS = """
    Field {
        width: 100%;
        height: auto;
        layout: vertical;
        color: $text-muted;  /* its title's */
    }
    Field > Input {
        width: 100%;
        margin: 1 0 0 0;
    }
    """
    DEFAULT_CLASSES = "field"

    def __init__(
        self,
        title: str,
        value: str,
        parse: Callable[[str], T],
        *,
        input_id: str,
        placeholder: str = "",
        tooltip: str | None = None,
        id: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(id=id)
        self._title = title
        self._parse = parse
        self._input = FieldInput(
            value,
            placeholder=placeholder,
            id=input_id,
            compact=True,
            validators=[ParsedBy(lambda text: self._parse(text))],
            disabled=disabled,
        )
        self._input.tooltip = tooltip
        self._note: FieldNote | None = None
        """What the field says under itself, made the first time it has something to say: most fields never
        do, and every widget on the first screen costs start-up."""
        self._last_value = value
        """The value the last `Input.Changed` carried (or the first value)."""

    def render(self) -> Content:
        return Content(self._title)  # never parsed as markup

    def compose(self) -> ComposeResult:
        yield self._input
        if self._note is not None:
            yield self._note

    def _say(self, text: str, *, refused: bool) -> None:
        note = self._note
        if note is None:
            if not text:
                return
            note = self._note = FieldNote(text, classes="field-note -shown" + " -refused" * refused, markup=False)
            if self.is_mounted:
                self.mount(note)
            return
        note.set_class(refused, "-refused")
        note.set_class(bool(text), "-shown")
        note.update(text)

    @property
    def value(self) -> str:
        return self._input.value

    @value.setter
    def value(self, text: str) -> None:
        self._input.value = text

    def set_parser(self, parse: Callable[[str], T]) -> None:
        """Change the rule (the host rule depends on the family) and check the value again."""
        self._parse = parse
        self._show(self._input.validate(self._input.value))

    def note(self, text: str) -> None:
        """Show a remark under the field that is not a refusal (a looked-up address, say)."""
        self._say(text, refused=False)

    def parsed(self, *, quiet: bool = False) -> T:
        """The value as the parser reads it; raises InputError, and (unless quiet) shows why, if it is bad."""
        try:
            return self._parse(self._input.value)
        except InputError as error:
            if not quiet:
                self.refuse(error.reason)
            raise

    def refuse(self, reason: str) -> None:
        self._input.set_class(True, "-invalid")
        self._say(reason, refused=True)

    @on(Input.Changed)
    def _check(self, event: Input.Changed) -> None:
        """A changed value is checked here and told on. Textual also posts a Changed for the value an input
        starts with, when it mounts: nothing has changed then, and the screen would work out again at start-up
        which steps can run, once for each field."""
        if event.value == self._last_value:
            event.stop()
            return
        self._last_value = event.value
        self._show(event.validation_result)

    def _show(self, result: ValidationResult | None) -> None:
        if result is None or result.is_valid:
            self.note("")
        else:
            self.refuse(result.failure_descriptions[0])
