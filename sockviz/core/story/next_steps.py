"""What to press next: the lesson's sensible next steps for the state the session is in.

A newcomer's first question is "what now?". This reads the session's sockets as the
kernel sees them (bound or not, LISTEN or ESTABLISHED, a call blocked) and names the
steps of the course that make sense from there, with their keys from the catalogue.
It only suggests: every step stays allowed, and wrong orders are part of the lesson.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from sockviz.core.engine.tracked import Role
from sockviz.core.engine.view import SessionView, SocketView
from sockviz.core.model.addresses import Endpoint
from sockviz.core.model.record import FrozenRecord
from sockviz.core.model.steps import Side, Target, step, steps_of
from sockviz.core.model.transport import TRANSPORT_KEY, Transport
from sockviz.core.story.reaching import FAMILY_KEY, elsewhere, server_address

WELCOME = (
    f"Welcome. Each step is a real call on a real socket. Start with the server (the left pane): "
    f"press {step('server-socket').key} for socket(), then {step('server-bind').key} for bind() and "
    f"{step('server-listen').key} for listen(); the table shows s in LISTEN. Then "
    f"{step('server-accept').key} (accept) waits for a client, and on the right "
    f"{step('client-socket').key} and {step('client-connect').key} connect one. "
    f"{TRANSPORT_KEY} switches to UDP; f1 lists every key; ctrl+p finds the built-in lessons."
)
"""The log's first line, before any step: what to press first and what will happen."""

WELCOME_UDP = (
    f"Welcome. Each step is a real call on a real socket, here a UDP one ({TRANSPORT_KEY} switches to TCP). "
    "Start with the "
    f"server (the left pane): press {step('server-socket').key} for socket(), then {step('server-bind').key} for "
    "bind(): a bound UDP socket receives at once, with no listen() and no accept(). Then "
    f"{step('server-recv').key} (recvfrom) waits for a datagram, and on the right {step('client-socket').key} "
    f"makes a client socket and {step('client-send').key} sends one with sendto(). f1 lists every key; ctrl+p "
    "finds the built-in lessons."
)
"""The first line when the switch says UDP: on UDP, listen() and accept() only fail."""


WELCOME_SERVER_ONLY = (
    "Welcome. Each step is a real call on a real socket. This is the server alone: the client is another "
    f"program. Press {step('server-socket').key} for socket(), then {step('server-bind').key} for bind() and "
    f"{step('server-listen').key} for listen(); the table shows s in LISTEN. Then {step('server-accept').key} "
    "(accept) waits until a client connects from outside (nc HOST PORT, the top bar's address). f1 lists every key."
)
"""`sockviz server`: there is no client pane, so the welcome names no client key."""

WELCOME_SERVER_ONLY_UDP = (
    "Welcome. Each step is a real call on a real UDP socket. This is the server alone: the client is another "
    f"program. Press {step('server-socket').key} for socket(), then {step('server-bind').key} for bind(): a bound "
    f"UDP socket receives at once. Then {step('server-recv').key} (recvfrom) waits for a datagram from outside "
    "(nc -u HOST PORT, type a line). f1 lists every key."
)

WELCOME_CLIENT_ONLY = (
    "Welcome. Each step is a real call on a real socket. This is the client alone: the server is another "
    "program, listening at the top bar's address (nc -l PORT, say). Press "
    f"{step('client-socket').key} for socket(), then {step('client-connect').key} to connect() to it (refused if "
    f"nobody listens there), {step('client-send').key} to send and {step('client-recv').key} to receive. "
    "f1 lists every key."
)
"""`sockviz client`: there is no server pane, so the welcome names no server key."""

WELCOME_CLIENT_ONLY_UDP = (
    "Welcome. Each step is a real call on a real UDP socket. This is the client alone: the server is another "
    "program at the top bar's address (nc -u -l PORT, say). Press "
    f"{step('client-socket').key} for socket(), then {step('client-send').key} to sendto() it a datagram (no "
    f"connect() needed) and {step('client-recv').key} to recvfrom() the answer. f1 lists every key."
)


def welcome(transport: Transport, only: Side | None = None) -> str:
    """The log's first line for the transport the switch shows; in split mode (`only`), for that side alone."""
    udp = transport is Transport.UDP
    if only is Side.SERVER:
        return WELCOME_SERVER_ONLY_UDP if udp else WELCOME_SERVER_ONLY
    if only is Side.CLIENT:
        return WELCOME_CLIENT_ONLY_UDP if udp else WELCOME_CLIENT_ONLY
    return WELCOME_UDP if udp else WELCOME


@dataclass(frozen=True, repr=False, eq=False)
class Suggestion(FrozenRecord):
    """One sensible next step: its key and why it makes sense now; `before`, what to change first."""

    keys: str
    what: str
    before: str = ""
    foretold: str = ""
    """What the call will do (`it waits for one`): left out in predict mode, where the student says it first."""

    def __str__(self) -> str:
        return self.said(telling=True)

    def said(self, *, telling: bool) -> str:
        said = f"{self.keys} {self.what}" if self.keys else self.what
        if telling and self.foretold:
            said += f" ({self.foretold})"
        return f"{self.before}, then {said}" if self.before else said


def _going_to(server: SocketView | None, target: Endpoint | None, keys: str, what: str) -> Suggestion:
    """A step that sends a client to the top bar's address (connect(), sendto()): as it is when that reaches
    the server socket; with what to change first when it would not (a failed bind() left listen() an
    ephemeral port, or the bar changed since); with where the server is when the bar cannot be read."""
    if server is None:
        return Suggestion(keys, what)
    if target is None:
        where = server_address(server)
        return Suggestion(keys, f"{what} (if it goes to {where})" if where else what)
    away = elsewhere(server, target)
    if away is None:
        return Suggestion(keys, what)
    return Suggestion(keys, what, before=f"{away.change} ({server.name} is at {away.server})")


def _key(*step_ids: str) -> str:
    """The keys of steps to press one after the other: `S C`."""
    return " ".join(step(step_id).key for step_id in step_ids)


def _state(tracked: SocketView | None) -> str | None:
    """The kernel's TCP state of an open socket (LISTEN, ESTABLISHED...), None if closed or unknown."""
    if tracked is None or tracked.closed:
        return None
    kernel = tracked.snapshot(with_repr=False).kernel
    return kernel.state if kernel is not None else None


_FAMILIES = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}


def _families_apart(listener: SocketView | None, client: SocketView) -> str | None:
    """Why the client cannot reach the listener whatever it does: `c is IPv4 and s listens on IPv6 only`.

    None when they can meet: the same family, or an IPv6 listener on `::` that also takes IPv4 (dual stack)."""
    if listener is None:
        return None
    theirs_sock, ours_sock = getattr(listener, "sock", None), getattr(client, "sock", None)
    if not isinstance(theirs_sock, socket.socket) or not isinstance(ours_sock, socket.socket):
        return None  # a copy of a session (a follower's) has no socket to ask
    try:
        theirs, ours = theirs_sock.family, ours_sock.family
        if theirs == ours:
            return None
        dual_stack = theirs == socket.AF_INET6 and theirs_sock.getsockname()[0] == "::"
        if dual_stack and not theirs_sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY):
            return None
    except OSError:  # closed under our feet: nothing to say
        return None
    return (f"{client.name} is {_FAMILIES.get(ours, ours.name)} and {listener.name} listens on "
            f"{_FAMILIES.get(theirs, theirs.name)} only")  # fmt: skip


def _will(session: SessionView, step_id: str, waits: str) -> str:
    """What the step's call will do, from the kernel's hint: `waits` only if it would block now. A client queued
    before accept(), or bytes that came before recv(), are taken at once; a non-blocking socket raises instead of
    waiting. Nothing when the kernel cannot tell."""
    said = session.predict(step(step_id))
    if said is None:
        return ""
    return waits if said.blocks else said.why


def _blocked(tracked: SocketView | None, action: str) -> bool:
    return tracked is not None and any(call.step.action.value == action for call in tracked.in_flight)


def _suggest_datagrams(listener: SocketView, client: SocketView | None, target: Endpoint | None) -> list[Suggestion]:
    """On UDP: bind, then datagrams both ways; no listen(), no accept(), no connection. A client with no
    peer of its own sends to the top bar's address: where the server socket is bound, or not."""
    found: list[Suggestion] = []

    def sending(keys: str, what: str) -> Suggestion:
        if client is not None and client.current_ends() is not None:
            return Suggestion(keys, what)  # connect() gave it its peer: send() goes there, not to the bar
        return _going_to(listener, target, keys, what)

    if listener.bound_port is None:
        found.append(Suggestion(_key("server-bind"), "bind() it: then datagrams sent there reach it"))
        return found
    if client is None:
        found.append(Suggestion(_key("client-socket"), "a client's socket(): UDP needs no connect()"))
    elif _blocked(listener, "recv"):
        found.append(sending(_key("client-send"), "the client's sendto(): recvfrom() wakes"))
    elif _blocked(client, "recv"):
        found.append(Suggestion(_key("server-send"), "the server's sendto() to the last sender: the client's wakes"))
    elif listener.datagrams_received == 0 and client.datagrams_sent:
        found.append(Suggestion(_key("server-recv"), "the server's recvfrom() reads what the client sent"))
    elif listener.datagrams_received == 0:
        found.append(sending(_key("client-send", "server-recv"), "the client sends a datagram, the server reads it"))
    elif listener.datagrams_sent == 0:
        found.append(
            Suggestion(_key("server-send", "client-recv"), "the server replies to the sender, the client reads")
        )
    else:
        found.append(Suggestion(_key("server-close", "client-close"), "close both sockets"))
    return found


def suggest(session: SessionView, target: Endpoint | None = None) -> list[Suggestion]:
    """The next steps that make sense now, server first; empty when nothing obvious is left to do.

    `target` is the top bar's address, where a client's connect() (or sendto()) goes: a step that sends the
    client there is named as it is only if the server socket is there too. None: the guide cannot know, and
    says where the server socket is instead."""
    found: list[Suggestion] = []
    listener = session.current(Target.LISTENER)
    if listener is not None and listener.datagram and not listener.closed:
        client = session.current(Target.CLIENT, Side.CLIENT)
        return _suggest_datagrams(listener, client if client is not None and not client.closed else None, target)
    conn = session.current(Target.CONNECTION)
    conn = conn if conn is not None and conn.role is Role.CONNECTION and not conn.closed else None
    client = session.current(Target.CLIENT, Side.CLIENT)
    client = client if client is not None and not client.closed else None
    listening = _state(listener) == "LISTEN"

    if listener is None or listener.closed:
        found.append(Suggestion(_key("server-socket"), "the server's socket()"))
    elif listener.bound_port is None and not listening:
        found.append(Suggestion(_key("server-bind"), "bind() it to the address in the top bar"))
    elif not listening and conn is None:
        found.append(Suggestion(_key("server-listen"), "listen(): then clients can connect"))

    if _blocked(listener, "accept"):
        found.append(
            _going_to(listener, target, _key("client-socket", "client-connect"), "a client connects: accept() wakes")
        )
    elif listening and conn is None:
        found.append(
            Suggestion(
                _key("server-accept"),
                "accept() takes a client",
                foretold=_will(session, "server-accept", "it waits for one"),
            )
        )

    if client is None:
        if listening and not _blocked(listener, "accept"):
            found.append(Suggestion(_key("client-socket"), "a client's socket()"))
    elif listening and _state(client) != "ESTABLISHED" and client.current_ends() is None and not client.in_flight:
        apart = _families_apart(listener, client)
        if apart:  # connect() from this client can only be refused: say why, and what would connect
            again = f"switch the family back ({FAMILY_KEY}), then a new client's socket() and connect()"
            found.append(
                Suggestion(
                    _key("client-socket", "client-connect"),
                    f"{apart}: {again}",
                    foretold=f"connect() from {client.name} is refused",
                )
            )
        else:
            found.append(_going_to(listener, target, _key("client-connect"), "connect() to the server"))

    if conn is not None and client is not None and _state(client) == "ESTABLISHED":
        if _blocked(conn, "recv"):
            found.append(Suggestion(_key("client-send"), "the client sends: recv() wakes"))
        elif _blocked(client, "recv"):
            found.append(Suggestion(_key("server-send"), "the server sends: the client's recv() wakes"))
        elif conn.bytes_received == 0 and client.bytes_sent == 0:
            found.append(Suggestion(_key("client-send", "server-recv"), "the client sends, the server receives"))
        elif conn.bytes_received == 0:  # the client's bytes wait in conn: an echo now has nothing to echo
            found.append(Suggestion(_key("server-recv"), "the server receives what the client sent"))
        elif conn.bytes_sent == 0:
            found.append(Suggestion(_key("server-send", "client-recv"), "the server echoes, the client receives"))
        elif client.bytes_received == 0:  # closing now, with the echo unread, would send RST instead of FIN
            found.append(Suggestion(_key("client-recv"), "the client receives the echo"))
        else:
            found.append(Suggestion(_key("server-close-conn", "client-close"), "close both ends"))
    elif conn is not None and client is None:
        found.append(Suggestion(_key("server-close-conn"), "close the server's end of the connection"))
    elif (
        conn is None
        and listening
        and client is None
        and session.sockets
        and any(t.role is Role.CONNECTION for t in session.sockets)
    ):
        found.append(Suggestion(_key("server-close"), "close s: then new clients are refused"))
    return found


def _suggest_server_only(session: SessionView, target: Endpoint | None) -> list[Suggestion]:
    """`sockviz server`: the client is another program (nc, another machine), so no client key is named."""
    listener = session.current(Target.LISTENER)
    conn = session.current(Target.CONNECTION)
    conn = conn if conn is not None and conn.role is Role.CONNECTION and not conn.closed else None
    client_keys = {each.key for each in steps_of(Side.CLIENT)}
    found = [s for s in suggest(session, target) if not client_keys.intersection(s.keys.split())]
    if listener is not None and listener.datagram and not listener.closed:
        if _blocked(listener, "recv"):
            found.append(Suggestion("", "the peer sends a datagram (nc -u HOST PORT, type a line): recvfrom() wakes"))
        elif listener.bound_port is not None and listener.datagrams_received == 0:
            found.append(
                Suggestion(
                    _key("server-recv"),
                    "recvfrom() a datagram from the peer",
                    foretold=_will(session, "server-recv", "it waits for one"),
                )
            )
        elif listener.datagrams_received and listener.datagrams_sent == 0:
            found = [Suggestion(_key("server-send"), "sendto() the reply to the peer that sent last")]
        return found
    if conn is not None:  # what suggest() says of a connection assumes this session's own client
        found = [s for s in found if s.keys != _key("server-close-conn")]
        if _blocked(conn, "recv"):
            found.append(Suggestion("", "the peer sends (type a line in nc): recv() wakes"))
        elif conn.bytes_received == 0:
            found.append(
                Suggestion(
                    _key("server-recv"),
                    "recv() what the peer sends",
                    foretold=_will(session, "server-recv", "it waits for it"),
                )
            )
        elif conn.bytes_sent == 0:
            found.append(Suggestion(_key("server-send"), "the server echoes what it received"))
        else:
            found.append(Suggestion(_key("server-close-conn"), "close the server's end of the connection"))
    elif _blocked(listener, "accept"):
        port = listener.bound_port if listener is not None else None
        to = f"nc HOST {port}" if port else "nc HOST PORT"  # the port listen() gave it, not the bar's
        found.append(Suggestion("", f"a peer connects from outside ({to}): accept() wakes"))
    return found


def _suggest_client_only(session: SessionView) -> list[Suggestion]:
    """`sockviz client`: the server is another program, listening (or not) at the top bar's address."""
    client = session.current(Target.CLIENT, Side.CLIENT)
    if client is None or client.closed:
        return [Suggestion(_key("client-socket"), "the client's socket()")]
    if client.datagram:  # UDP: no connect() needed, and nothing says whether the server is there
        if _blocked(client, "recv"):
            return [Suggestion("", "the server sends a datagram: recvfrom() wakes (if nobody is there, none comes)")]
        if client.datagrams_sent == 0:
            return [Suggestion(_key("client-send"), "sendto() the message to the top bar's address")]
        if client.datagrams_received == 0:
            return [
                Suggestion(
                    _key("client-recv"),
                    "recvfrom() the server's answer",
                    foretold=_will(session, "client-recv", "it waits for one"),
                )
            ]
        return [Suggestion(_key("client-close"), "close the client's socket")]
    if _state(client) != "ESTABLISHED":
        if client.in_flight:
            return []
        return [Suggestion(_key("client-connect"), "connect() to the server at the top bar's address")]
    if _blocked(client, "recv"):
        return [Suggestion("", "the server sends: recv() wakes")]
    if client.bytes_sent == 0:
        return [Suggestion(_key("client-send"), "send the message to the server")]
    if client.bytes_received == 0:
        return [
            Suggestion(
                _key("client-recv"),
                "recv() the server's answer",
                foretold=_will(session, "client-recv", "it waits for it"),
            )
        ]
    return [Suggestion(_key("client-close"), "close the client's socket")]


def next_line(
    session: SessionView, only: Side | None = None, target: Endpoint | None = None, *, telling: bool = True
) -> str:
    """The guide's line: `next: a accept() takes a client (it waits for one) · S a client's socket()`. With
    `only` (split mode: the peer is another program), it names only that side's keys. `target`: the top bar's
    address (see `suggest`). Without `telling` (predict mode) it names the steps but not what they will do."""
    if only is Side.SERVER:
        found = _suggest_server_only(session, target)
    elif only is Side.CLIENT:
        found = _suggest_client_only(session)
    else:
        found = suggest(session, target)
    if not found:
        return "next: any step you like (f1 lists them), or a lesson from ctrl+p"
    return "next: " + " · ".join(s.said(telling=telling) for s in found)


def _without_asides(part: str) -> str:
    """A suggestion without its bracketed asides (what the call will do, where the server is, the lesson's keys),
    brackets inside them and all; a call's own `()` stays."""
    kept: list[str] = []
    depth = 0
    for index, char in enumerate(part):
        if depth == 0 and char == "(" and part[index - 1 : index] == " ":
            kept.pop()  # the space before the aside
            depth = 1
        elif depth and char in "()":
            depth += 1 if char == "(" else -1
        elif not depth:
            kept.append(char)
    return "".join(kept)


def fitted(line: str, room: int) -> str:
    """The guide's line in `room` characters (the log's bottom border, 80 columns less the lesson panel's): whole
    if it fits; else as many of its suggestions as fit, first ones first; else those without their bracketed
    asides; only then cut, with `…`. A line cut by the border mid-word said half a step (`· E the client sends:
    recv() …`)."""
    if len(line) <= room:
        return line
    prefix = "next: " if line.startswith("next: ") else ""
    whole = line[len(prefix) :].split(" · ")
    shorter = line
    for parts in (whole, [_without_asides(part) for part in whole]):
        for count in range(len(parts), 0, -1):
            shorter = prefix + " · ".join(parts[:count])
            if len(shorter) <= room:
                return shorter
    return shorter[: max(room - 1, 0)].rstrip() + "…"
