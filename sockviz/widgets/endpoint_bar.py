"""Where the server binds and the client connects: host, port, address family, and TCP or UDP."""

from __future__ import annotations

import socket
from typing import Unpack

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Label

from sockviz.core import Endpoint, InputError, check_host, parse_port, resolve
from sockviz.core.model.addresses import LOOPBACK
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.transport import Transport
from sockviz.widgets.family_toggle import FamilyToggle
from sockviz.widgets.field import Field
from sockviz.widgets.options import WidgetOptions
from sockviz.widgets.transport_toggle import TransportToggle

BRAND = Content.styled("sockviz", "bold $text-accent")
"""The bar's first word, left of the host field (whose margin is its room: seven cells and two)."""

_EXPOSED = (
    "A socket bound to 0.0.0.0 or :: takes connections on every network interface, so other machines "
    "can connect to it, not only this one. Bind to 127.0.0.1 or ::1 to keep it on this machine."
)


class BarNotes(Horizontal):
    """`#notes`: the bar's warning and its share's label, made the first time either has something to say (most
    sessions never have): its two widgets and these seven rules cost start-up nothing until then."""

    SCOPED_CSS = False  # the bar's rules, kept with the widget they are for
    DEFAULT_CSS = """
    EndpointBar.-two-lines {
        height: 2;
    }
    EndpointBar > #notes {
        width: auto;
        height: 1;
    }
    EndpointBar.-two-lines > #notes {
        dock: bottom;
        width: 1fr;
    }
    #notes > Label {
        width: auto;
    }
    #notes > #exposure.-exposed {
        color: $text-warning;
        text-style: bold;
        padding: 0 1;
    }
    #notes > #share {
        display: none;
        padding: 0 1;
        color: $text-accent;
    }
    #notes > #share.-exposed {
        color: $text-warning;
        text-style: bold;
    }
    """


class EndpointBar(Horizontal):
    """Host, port, family and transport, checked as they are typed; names are looked up off the UI thread."""

    DEFAULT_CSS = """
    EndpointBar {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    EndpointBar > #host-field {
        margin: 0 0 0 9;  /* after the brand, which the bar draws itself (`render`): "sockviz" and two cells */
    }
    EndpointBar > Field {
        width: auto;
        height: 1;
        layout: horizontal;
        padding: 0 1 0 0;
    }
    EndpointBar > Field > Input {
        margin: 0 0 0 5;  /* beside the title its field draws: "host" or "port", and a cell */
    }
    EndpointBar #host {
        width: 22;
    }
    EndpointBar #port {
        width: 8;
    }
    EndpointBar > FamilyToggle, EndpointBar > TransportToggle {
        margin: 0 1 0 0;
    }
    """

    family: reactive[socket.AddressFamily] = reactive(socket.AF_INET, init=False)
    transport: reactive[Transport] = reactive(Transport.TCP, init=False)
    """What socket() makes now: the screen tells the panes, whose buttons then name UDP's calls."""
    listening_everywhere: reactive[tuple[str, ...]] = reactive((), init=False)
    """The sockets that listen on every interface now, whatever the host field says."""
    sharing: reactive[tuple[str, bool]] = reactive(("", False), init=False)
    """What the bar says of sharing (`sharing on 127.0.0.1:8765 · code K7QF3M · 3 follow`), and whether it
    warns (a share other machines can reach); a follower's bar says whom it follows."""

    def __init__(
        self,
        host: str,
        port: int,
        family: socket.AddressFamily,
        transport: Transport = Transport.TCP,
        *,
        read_only: bool = False,
        **kwargs: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**kwargs)
        self.read_only = read_only
        """A follower's bar: it shows the lecturer's address, and its fields and switches take no input."""
        self._start = (host, port, family)
        self._looked_up: dict[tuple[str, socket.AddressFamily], str | InputError] = {}
        self._host_exposed = False
        self.set_reactive(EndpointBar.family, family)
        self.set_reactive(EndpointBar.transport, transport)

    def render(self) -> Content:
        """The brand, drawn by the bar under its first cells, where its fields leave room for it: a Label for it
        was one widget more on the first screen (each costs start-up)."""
        return BRAND

    def compose(self) -> ComposeResult:
        host, port, family = self._start
        yield Field("host", host, self._check_host, input_id="host", id="host-field", disabled=self.read_only)
        yield Field("port", str(port), parse_port, input_id="port", id="port-field", disabled=self.read_only)
        yield FamilyToggle(family, id="family", disabled=self.read_only)
        yield TransportToggle(self.transport, id="transport", disabled=self.read_only)
        # `#notes` (BarNotes) comes with the first warning or share to tell of.

    def _notes(self) -> BarNotes:
        """`#notes`, with its `#exposure` label, made and mounted now if it was not."""
        found = self.query("#notes")
        if found:
            return found.only_one(BarNotes)
        notes = BarNotes(id="notes")
        self.mount(notes)  # registered at once, and so is the label mounted into it: both can be queried now
        notes.mount(Label("", id="exposure", markup=False))
        return notes

    def on_mount(self) -> None:
        self._host_changed()

    @property
    def host_field(self) -> Field[str | None]:
        return self.query_one("#host-field", Field)

    def _check_host(self, text: str) -> str | None:
        return check_host(text, self.family)

    def endpoint(self, *, quiet: bool = False) -> Endpoint:
        """The checked address; raises InputError (shown at its field unless quiet) if host or port is bad."""
        port = self.query_one("#port-field", Field).parsed(quiet=quiet)
        numeric = self.host_field.parsed(quiet=quiet)
        if numeric is None:
            key = (self.host_field.value.strip(), self.family)
            found = self._looked_up.get(key)
            if found is None:
                raise InputError("host", f"still looking up {key[0]!r}")
            if isinstance(found, InputError):
                if not quiet:
                    self.host_field.refuse(found.reason)
                raise found
            numeric = found
        return Endpoint(self.family, numeric, port)

    def show_port(self, port: int) -> None:
        """Put a port in the port field, as if typed: a lesson moved off a port the kernel still holds."""
        self.query_one("#port-field", Field).value = str(port)

    def toggle_family(self) -> None:
        self.family = socket.AF_INET6 if self.family == socket.AF_INET else socket.AF_INET

    @on(FamilyToggle.Switched, "#family")
    def _family_switched(self) -> None:
        self.toggle_family()

    def toggle_transport(self) -> None:
        self.transport = Transport.UDP if self.transport is Transport.TCP else Transport.TCP

    @on(TransportToggle.Switched, "#transport")
    def _transport_switched(self) -> None:
        self.toggle_transport()

    def watch_transport(self, transport: Transport) -> None:
        self.query_one(TransportToggle).transport = transport

    def watch_family(self, old: socket.AddressFamily, new: socket.AddressFamily) -> None:
        self.query_one(FamilyToggle).family = new
        if self.host_field.value.strip() == LOOPBACK[old]:
            self.host_field.value = LOOPBACK[new]
        self.host_field.set_parser(self._check_host)
        self._host_changed()

    @on(Input.Changed, "#host")
    def _host_typed(self) -> None:
        self._host_changed()

    def _host_changed(self) -> None:
        try:
            numeric = check_host(self.host_field.value, self.family)
        except InputError:
            self._show_exposure(None)
            return
        if numeric is not None:
            self._show_exposure(numeric)
            return
        key = (self.host_field.value.strip(), self.family)
        found = self._looked_up.get(key)
        if found is None:
            self.host_field.note(f"looking up {key[0]}…")
            self._look_up(*key)
        else:
            self._show_looked_up(key, found)

    @lazy_dataclass
    class LookedUp(Message, bubble=False):
        """What a name lookup found for (host, family): an address, or why there is none."""

        key: tuple[str, socket.AddressFamily]
        found: str | InputError

    @work(thread=True, exclusive=True, group="resolve", exit_on_error=False, description="look up host")
    def _look_up(self, host: str, family: socket.AddressFamily) -> None:
        """getaddrinfo may wait on a name server: never on the UI thread. The answer comes back as a
        message, as every thread's results do."""
        try:
            found: str | InputError = resolve(host, family)
        except InputError as error:
            found = error
        self.post_message(self.LookedUp((host, family), found))

    @on(LookedUp)
    def _looked_up_done(self, message: LookedUp) -> None:
        key, found = message.key, message.found
        self._looked_up[key] = found
        if key == (self.host_field.value.strip(), self.family):
            self._show_looked_up(key, found)

    def _show_looked_up(self, key: tuple[str, socket.AddressFamily], found: str | InputError) -> None:
        if isinstance(found, InputError):
            self.host_field.refuse(found.reason)
            self._show_exposure(None)
        else:
            self.host_field.note(f"{key[0]} is {found}")
            self._show_exposure(found)

    def show_address(self, host: str, port: int, family: socket.AddressFamily) -> None:
        """Put an address in the fields (a follower shows the lecturer's)."""
        self.family = family
        self.host_field.value = host
        self.query_one("#port-field", Field).value = str(port)

    def show_sharing(self, text: str, *, warn: bool = False) -> None:
        self.sharing = (text, warn)

    def watch_sharing(self, sharing: tuple[str, bool]) -> None:
        text, warn = sharing
        found = self.query("#share")
        if not found and not text:
            return
        if found:
            label = found.only_one(Label)
        else:  # made the first time there is a share to tell of: most sessions have none
            label = Label("", id="share", markup=False)
            self._notes().mount(label)
        label.update(text)
        label.display = bool(text)
        label.set_class(warn, "-exposed")
        self._fit_notes()

    def show_listening_everywhere(self, names: list[str]) -> None:
        self.listening_everywhere = tuple(names)

    def watch_listening_everywhere(self) -> None:
        self._show_warning()

    def _show_exposure(self, numeric: str | None) -> None:
        self._host_exposed = numeric is not None and Endpoint(self.family, numeric, 1).all_interfaces
        self._show_warning()

    def _show_warning(self) -> None:
        names = self.listening_everywhere
        if names:
            verb = "is" if len(names) == 1 else "are"
            text = f"⚠ {', '.join(names)} {verb} open to other hosts (all interfaces)"
        elif self._host_exposed:
            text = "⚠ all interfaces: other hosts could connect"
        else:
            text = ""
        found = self.query("#exposure")
        if not found and not text:
            return  # nothing to warn of, and never was
        label = found.only_one(Label) if found else self._notes().query_one("#exposure", Label)
        label.set_class(bool(text), "-exposed")
        label.update(text)
        label.tooltip = _EXPOSED if text else None
        self._fit_notes()

    def on_resize(self, event: Resize) -> None:
        self._fit_notes()

    def _fit_notes(self) -> None:
        """The warning and the share's label (how many follow, the join code, whom a follower follows) must be
        read whole, so when they do not fit beside the fields (an 80-column terminal), the bar takes a second line
        for them, rather than cutting them off at the edge. Measured after the layout, when the fields are placed."""
        if self.is_mounted:
            self.call_after_refresh(self._fit_notes_now)

    def _fit_notes_now(self) -> None:
        notes = [label for label in self.query("#notes > Label").results(Label) if label.display]
        texts = [str(label.render()) for label in notes]
        needed = sum(cell_len(text) + 2 for text in texts if text)
        row = [child for child in self.children if child.id != "notes" and child.display]
        fields_end = max((child.region.right for child in row), default=self.content_region.x)
        room = self.content_region.right - fields_end
        self.set_class(needed > 0 and needed > room, "-two-lines")  # a long field note alone never takes a line
