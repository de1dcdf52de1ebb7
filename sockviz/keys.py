"""Every key of the app, in one place: its bindings, grouped in sections, and the one way to describe them.

The app binds `APP_BINDINGS` and its session screen `SCREEN_BINDINGS`; the key bar,
the help screen, the lesson panel and the README's key table all read the keys from
bindings through this module, never from a list of their own, so no screen can name a
key that does not exist or miss one that does. `python -m sockviz.keys` prints the
README's key table; a test checks that the README holds exactly that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingType
from textual.keys import format_key

from sockviz.core import STEPS, Side
from sockviz.core.model.record import FrozenRecord
from sockviz.core.model.transport import TRANSPORT_KEY
from sockviz.core.story.predicting import Guess

SERVER_STEPS = Binding.Group("server")
CLIENT_STEPS = Binding.Group("client")
VIEWS = Binding.Group("views")
LESSON = Binding.Group("lesson")
SESSION = Binding.Group("session")
FILES = Binding.Group("save")
SCREEN = Binding.Group("screen")

PREDICT = Binding.Group("predict")

SECTIONS = (SCREEN, VIEWS, LESSON, PREDICT, SESSION, FILES)
"""The sections of the app's own keys, in the order the key bar and the help show them."""

LABELLED = (FILES,)
"""Sections whose name the key bar writes before their keys (`save f3 .py  f4 .ipynb`): their keys' own
names are too short to say it."""

LESSON_ACTIONS = ("play_pause", "step_scenario", "speed", "restart_lesson")
"""Keys that exist only while a lesson is loaded (so that space stays free otherwise)."""


def _step_bindings() -> list[Binding]:
    groups = {Side.SERVER: SERVER_STEPS, Side.CLIENT: CLIENT_STEPS}
    return [
        Binding(
            s.key,
            f"run_step('{s.id}')",
            f"{s.side.value} {s.label}",
            show=False,
            group=groups[s.side],
            tooltip=s.explains,
        )
        for s in STEPS
    ]


TIMELINE_KEY = Binding(
    "t", "toggle_timeline", "timeline", group=VIEWS, tooltip="a lane per socket against one time axis"
)
"""The timeline's key, live and in a replay."""


def _projector_key(more: str) -> Binding:
    """The projector layout's key, live and in a replay; `more` says what still works there."""
    return Binding(
        "v",
        "toggle_projector",
        "projector",
        group=VIEWS,
        show=False,  # the key bar is full at 130 columns; help, the README and the palette name it
        tooltip=f"for the back row: the table and the log take the panes' room{more}",
    )


SCREEN_BINDINGS: list[Binding] = [
    *_step_bindings(),
    TIMELINE_KEY,
    Binding("w", "toggle_wire", "wire", group=VIEWS, tooltip="the TCP segments on loopback (needs root)"),
    Binding("6", "toggle_family", "IPv4/IPv6", group=VIEWS, tooltip="switch the address family of new sockets"),
    Binding(
        TRANSPORT_KEY,
        "toggle_transport",
        "TCP/UDP",
        group=VIEWS,
        show=False,  # the key bar is full at 130 columns; the switch in the top bar names it, as help does
        tooltip="switch what socket() makes: TCP (SOCK_STREAM) or UDP (SOCK_DGRAM, and the steps call sendto() "
        "and recvfrom())",
    ),
    _projector_key("; the step keys still work"),
    Binding(
        "f5",
        "toggle_predict",
        "predict",
        group=PREDICT,
        show=False,  # the key bar is full at 130 columns; help, the README, the palette and --predict name it
        tooltip="predict mode: before each step that can block or fail, say what it will do; then see, and score",
    ),
    Binding("space", "play_pause", "play/pause", group=LESSON, tooltip="play the lesson, or pause it"),
    Binding("n", "step_scenario", "next line", group=LESSON, tooltip="run just the lesson's next line"),
    Binding("plus", "speed(2)", "faster", group=LESSON, show=False, tooltip="halve the lesson's pauses"),
    Binding("minus", "speed(0.5)", "slower", group=LESSON, show=False, tooltip="double the lesson's pauses"),
    Binding(
        "escape",
        "leave_field",
        "leave field",
        group=SCREEN,
        show=False,
        tooltip="leave a text field: while you are in one, letters type text",
    ),
]
"""The session screen's keys: the steps, the views, and the keys of a loaded lesson."""

PREDICT_ANSWERS: list[Binding] = [
    Binding(
        "w",
        f"answer('{Guess.WAITS}')",
        Guess.WAITS.asked,
        tooltip="the call will wait (block) until another step wakes it",
    ),
    Binding(
        "r", f"answer('{Guess.AT_ONCE}')", Guess.AT_ONCE.asked, tooltip="the call will return at once, with a result"
    ),
    Binding("f", f"answer('{Guess.FAILS}')", Guess.FAILS.asked, tooltip="the call will raise an error at once"),
    Binding("escape", "skip", "don't run it", tooltip="close the question: the step is not run"),
]
"""The keys of predict mode's question, one per answer."""


def answer_button(choice: str) -> str:
    """An answer's button, `r  return at once`: the same on the lecturer's question and on a follower's, whose
    answers come over the share in the words of `Guess` (`returns at once`)."""
    binding = next(b for b in PREDICT_ANSWERS if b.action == f"answer('{Guess(choice)}')")
    return f"{key_display(binding)}  {binding.description}"


REPLAY = Binding.Group("replay")

REPLAY_OFF = "a replay runs nothing: it shows what the recorded session did"
"""Why a replay's step keys and buttons do nothing (the log says it, the buttons' tooltips too)."""


def _refused_step_bindings() -> list[Binding]:
    """The steps' keys in a replay: each says why it runs nothing, so no key falls through to something else."""
    return [
        Binding(
            b.key,
            b.action.replace("run_step(", "refuse_step(", 1),
            b.description,
            show=False,
            group=b.group,
            tooltip=REPLAY_OFF,
        )
        for b in _step_bindings()
    ]


REPLAY_BINDINGS: list[Binding] = [
    *_refused_step_bindings(),
    Binding("space", "play_pause", "play/pause", group=REPLAY, tooltip="play the recording at its own pace, or pause"),
    Binding("n", "moment(1)", "next", group=REPLAY, tooltip="the next moment: the next line of the log"),
    Binding(
        "left",
        "moment(-1)",
        "back",
        group=REPLAY,
        priority=True,  # before the table's and the timeline's own ←: in a replay, the timeline follows the moment
        tooltip="the moment before: the table and log as they were",
    ),
    # priority: before the focused table's own home and end, which scrolled the table instead
    Binding(
        "home", "first_moment", "first", group=REPLAY, show=False, priority=True, tooltip="the recording's first moment"
    ),
    Binding(
        "end", "last_moment", "last", group=REPLAY, show=False, priority=True, tooltip="the recording's last moment"
    ),
    TIMELINE_KEY,
    Binding("w", "toggle_wire", "wire", group=VIEWS, tooltip="the wire view's lines, as the recording app drew them"),
    _projector_key(""),
]
"""The replay screen's keys: the recording's moments and the views; the step keys say why they do nothing."""

APP_BINDINGS: list[Binding] = [
    Binding("f1,question_mark", "help", "help", group=SCREEN, tooltip="every key, and what each step does"),
    Binding("f2", "toggle_contrast", "contrast", group=SCREEN, tooltip="high contrast, for a projector"),
    Binding(
        "ctrl+p",
        "command_palette",
        "palette",
        group=SCREEN,
        show=False,
        priority=True,
        tooltip="type to find a lesson, reset the session, change the theme",
    ),
    Binding("ctrl+q", "quit", "quit", group=SCREEN, priority=True, tooltip="wake every blocked call and quit"),
    Binding(
        "ctrl+r",
        "restart_lesson",
        "restart",
        group=LESSON,
        tooltip="reset the session and load the lesson again, at its first line",
    ),
    Binding(
        "0",
        "reset_session",
        "reset",
        group=SESSION,
        tooltip="close every socket and start a fresh session: table, log and timeline start over",
    ),
    Binding("f3", "export_scripts", ".py", group=FILES, tooltip="the session so far as server.py and client.py"),
    Binding(
        "f4",
        "export_notebooks",
        ".ipynb",
        group=FILES,
        tooltip="the session so far as server.ipynb and client.ipynb (needs nbformat)",
    ),
    Binding(
        "p",
        "export_pcap",
        ".pcapng",
        group=FILES,
        tooltip="the wire view's capture as a .pcapng file, with each call as a packet comment",
    ),
    Binding(
        "P",
        "export_pcap(True)",
        "plain .pcap",
        group=FILES,
        show=False,
        tooltip="the wire view's capture as a plain .pcap file, for tools that need one",
    ),
    Binding("f12", "save_picture", ".svg", group=FILES, tooltip="an SVG picture of the screen, for slides"),
]
"""The app's own keys, which replace or outlast a session screen: help, themes, reset, exports."""

ON_A_QUESTION: list[Binding] = [
    Binding(b.key, f"app.{b.action}", b.description, show=False, group=b.group, tooltip=b.tooltip)
    for b in APP_BINDINGS
    if b.action in ("save_picture", "toggle_contrast")
]
"""The app's keys that also work while a question is open (predict mode's, the class's). Textual gives a modal
screen none of the app's bindings, so f12 saved no picture of the question (for slides) until the question
bound them itself."""

ALL_BINDINGS = [*SCREEN_BINDINGS, *APP_BINDINGS]
"""Every key sockviz binds itself, in the order the key bar and the README show them within a section."""

BAR_IMPORTANCE = (
    "help",
    "quit",
    "play_pause",
    "step_scenario",
    "toggle_timeline",
    "reset_session",
    "restart_lesson",
    "toggle_wire",
    "toggle_predict",
    "toggle_contrast",
    "export_scripts",
    "toggle_family",
    "export_notebooks",
    "save_picture",
    "export_pcap",
)
"""Which keys the key bar keeps when it cannot show them all: the first ones. Help shows every key."""


def key_display(binding: Binding) -> str:
    """A key as sockviz writes it everywhere: `^p`, `f1`, `space`, `+`, `?`."""
    if binding.key_display:
        return binding.key_display
    modifiers, key = binding.parse_key()
    shown = format_key(key)
    if "ctrl" in modifiers:
        modifiers.remove("ctrl")
        shown = f"^{shown}"
    return "+".join([*modifiers, shown])


@dataclass(frozen=True, repr=False, eq=False)
class KeyRow(FrozenRecord):
    """One thing to do and every key that does it."""

    keys: tuple[str, ...]
    action: str
    description: str
    tooltip: str

    @property
    def shown_keys(self) -> str:
        return " or ".join(self.keys)


IN_OUR_WORDS = {
    "app.focus_next": ("next control", "the focus moves on, in the screen's order (left to right, then down)"),
    "app.focus_previous": ("previous control", "the focus moves back one control"),
    "screen.copy_text": ("copy", "copy the text selected with the mouse"),
    "press": ("run the step", "the step the focus is on makes its call, as its key does"),
}
"""Textual's own bindings (a screen's tab, a button's enter), said as sockviz says its own: by their action, so
a key Textual adds or moves still shows, and its name and what it does read like every other line of help."""


def rows(bindings: Iterable[BindingType]) -> list[KeyRow]:
    """Bindings as rows, one per action: `f1,question_mark` is one row with two keys. Order is kept.
    Textual's own bindings are described in sockviz's words (`IN_OUR_WORDS`)."""
    found: dict[str, KeyRow] = {}
    for binding in Binding.make_bindings(bindings):  # one Binding per key
        shown = key_display(binding)
        row = found.get(binding.action)
        if row is None:
            description, tooltip = IN_OUR_WORDS.get(binding.action, (binding.description, binding.tooltip))
            found[binding.action] = KeyRow((shown,), binding.action, description, tooltip)
        elif shown not in row.keys:
            found[binding.action] = KeyRow((*row.keys, shown), row.action, row.description, row.tooltip)
    return list(found.values())


def step_id(action: str) -> str | None:
    """The step a `run_step('server-bind')` action runs, or None for any other action."""
    if action.startswith("run_step(") and action.endswith(")"):
        return action[len("run_step(") : -1].strip("'\"")
    return None


def section_of(binding: Binding) -> str:
    """The section a binding belongs to: its group, or `screen` for Textual's own keys."""
    return binding.group.description if binding.group is not None else SCREEN.description


def markdown(widget_sections: Iterable[tuple[str, Iterable[BindingType]]]) -> str:
    """The README's key table: the steps side by side, then each section of the app's keys and of the widgets'."""
    from sockviz.core import step as find_step

    lines = ["| key | server | key | client |", "| --- | --- | --- | --- |"]
    sides: dict[str, list[tuple[str, str]]] = {"server": [], "client": []}
    for row in rows(b for b in ALL_BINDINGS if step_id(b.action)):
        chosen = find_step(str(step_id(row.action)))
        number = f"{chosen.course_step} " if chosen.course_step else ""
        sides[chosen.side.value].append((f"`{row.shown_keys}`", f"{number}{chosen.label}"))
    server, client = sides["server"], sides["client"]
    for index in range(max(len(server), len(client))):
        left = server[index] if index < len(server) else ("", "")
        right = client[index] if index < len(client) else ("", "")
        lines.append(f"| {left[0]} | {left[1]} | {right[0]} | {right[1]} |".replace("|  |", "| |"))
    sections: list[tuple[str, list[BindingType]]] = [
        (group.description, [b for b in ALL_BINDINGS if b.group is group]) for group in SECTIONS
    ]
    sections += [(title, list(bindings)) for title, bindings in widget_sections]
    for title, bindings in sections:
        lines += ["", f"| key | {title} |", "| --- | --- |"]
        lines += [f"| {_code(row.shown_keys)} | {explain(row)} |" for row in rows(bindings)]
    return "\n".join(lines) + "\n"


def explain(row: KeyRow) -> str:
    """What a key does, in a few words: its name, then its tooltip where it has one."""
    return f"{row.description}: {row.tooltip}" if row.tooltip and row.tooltip != row.description else row.description


def _code(keys: str) -> str:
    return " or ".join(f"`{key}`" for key in keys.split(" or "))


def readme_markdown() -> str:
    """The key table as the README holds it, with the widgets' keys of the main screen."""
    from textual.screen import Screen
    from textual.widgets import Button

    from sockviz.widgets.step_button import StepButton
    from sockviz.widgets.timeline_view import TimelineView

    return markdown(
        [
            ("moving around", Screen.BINDINGS[:2]),
            ("a pane's steps (after tab)", [*StepButton.BINDINGS, *Button.BINDINGS]),
            ("the timeline (after t)", TimelineView.BINDINGS),
            ("sockviz replay FILE", [b for b in REPLAY_BINDINGS if b.group is REPLAY]),
        ]
    )


if __name__ == "__main__":
    print(readme_markdown(), end="")
