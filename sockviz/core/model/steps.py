"""The catalogue of steps: one entry per clickable step, key, code line and help text.

Everything that shows or runs a step (the panes, the keys, the log, the help
screen, a scripted run) reads it from here, so adding a step is one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from sockviz.core.model.record import FrozenRecord
from sockviz.core.model.transport import Transport


class Side(StrEnum):
    """Which end of the connection a step belongs to."""

    SERVER = "server"
    CLIENT = "client"


class Action(StrEnum):
    """The socket call a step makes."""

    SOCKET = "socket"
    BIND = "bind"
    LISTEN = "listen"
    ACCEPT = "accept"
    CONNECT = "connect"
    SEND = "send"
    RECV = "recv"
    SHUTDOWN = "shutdown"
    CLOSE = "close"
    OPTION = "option"
    CANCEL = "cancel"
    RECV_ALL = "recv-all"
    BURST = "burst"
    SELECT = "select"
    SERVE_BLOCKING = "serve-blocking"
    SERVE_THREADS = "serve-threads"
    SERVE_SELECT = "serve-select"

    @property
    def call(self) -> str:
        """The socket method the step runs, as the log names it."""
        return _CALL_NAMES.get(self, self.value)


_CALL_NAMES = {
    Action.SEND: "sendall",
    Action.OPTION: "setsockopt",
    Action.CANCEL: "shutdown",
    Action.RECV_ALL: "recv",
    Action.BURST: "burst",
    Action.SERVE_BLOCKING: "serve_blocking",
    Action.SERVE_THREADS: "serve_threads",
    Action.SERVE_SELECT: "serve_select",
}

SERVE_ACTIONS = (Action.SERVE_BLOCKING, Action.SERVE_THREADS, Action.SERVE_SELECT)
"""The serve modes: each runs until cancelled, and makes every call it needs as a call of the session."""


class Target(StrEnum):
    """Which socket a step acts on; the session picks the current one of that kind."""

    NEW = "new"
    """The step makes a new socket."""
    LISTENER = "listener"
    """The server's own socket, `s`: the one that binds, listens and accepts."""
    CONNECTION = "connection"
    """The connection that accept() returned (or `s` while there is none)."""
    CLIENT = "client"
    """The client's socket, `c`."""
    BUSY = "busy"
    """The newest socket of the step's side with a call in progress."""


@dataclass(frozen=True, repr=False, eq=False)
class Form(FrozenRecord):
    """How a step reads on one transport: its button's label, its Python line, what it waits for, its help.

    A step's UDP form says what differs on a UDP socket: `recv()` is `recvfrom()` there, and waits for
    a datagram rather than for a peer that sends or closes; listen() and accept() never wait, they fail.
    """

    label: str
    code: str
    blocks_until: str | None
    explains: str
    target: Target | None = None
    """The socket the step acts on, where it differs from TCP's (a UDP burst sends from `c`)."""


@dataclass(frozen=True, repr=False, eq=False)
class Step(FrozenRecord):
    """One step of a socket's life, as the user sees and runs it."""

    id: str
    """Stable widget id, also used by scripts: `server-accept`."""
    side: Side
    action: Action
    target: Target
    key: str
    """The key that runs the step from anywhere in the app."""
    label: str
    course_step: int | None
    """The step number in the course notebooks, where they number it."""
    code: str
    """The Python line, with placeholders (`{sock}`, `{new}`, `{send}`, ...) that code_lines.py lists and fills."""
    blocks_until: str | None
    """Plain words for what a blocked call waits for; None if it never waits."""
    explains: str
    """One or two sentences for the help screen."""
    udp: Form | None = None
    """The step on a UDP socket, where it reads otherwise; None: as on TCP."""

    @property
    def title(self) -> str:
        """The course's step number (if it has one) and the call, as the pane shows them."""
        return self.title_on(Transport.TCP)

    def title_on(self, transport: Transport) -> str:
        """The title on a transport: `9 recvfrom()` on UDP."""
        number = str(self.course_step) if self.course_step else "·"
        return f"{number:>2} {self.on(transport).label}"

    def on(self, transport: Transport) -> Form:
        """The step's form on a transport: its UDP form on UDP where it has one, its own otherwise."""
        if transport is Transport.UDP and self.udp is not None:
            return self.udp
        return self._own_form

    @cached_property
    def _own_form(self) -> Form:
        """Its own (TCP's) form, made once: the panes ask for it at each refresh, 170 times before the first frame."""
        return Form(self.label, self.code, self.blocks_until, self.explains, self.target)

    def target_on(self, transport: Transport) -> Target:
        """The socket the step acts on, on that transport."""
        return self.on(transport).target or self.target


# fmt: off
STEPS: tuple[Step, ...] = (
    # ----- server ----------------------------------------------------------
    Step("server-socket", Side.SERVER, Action.SOCKET, Target.NEW, "s", "socket()", 1,
         "{new} = socket.socket({family}, socket.SOCK_STREAM)", None,
         "Asks the kernel for a new TCP socket. It gets a file descriptor but no address yet, "
         "and nobody can reach it.",
         Form("socket()", "{new} = socket.socket({family}, socket.SOCK_DGRAM)", None,
              "Asks the kernel for a new UDP socket. It gets a file descriptor but no address yet, so no "
              "datagram can reach it.")),
    Step("server-bind", Side.SERVER, Action.BIND, Target.LISTENER, "b", "bind()", 2,
         "{sock}.bind({address})", None,
         "Gives the socket its local address and port (laddr). A port that a listener holds cannot "
         "be bound again (EADDRINUSE), nor one in TIME_WAIT unless both sockets set SO_REUSEADDR.",
         Form("bind()", "{sock}.bind({address})", None,
              "Gives the socket its address and port. From then on every datagram sent there waits in its "
              "receive buffer, whoever sent it: UDP needs no listen() and no accept().")),
    Step("server-listen", Side.SERVER, Action.LISTEN, Target.LISTENER, "l", "listen()", 3,
         "{sock}.listen({backlog})", None,
         "Turns the socket into a listener: from now on the kernel completes clients' handshakes "
         "on its own and queues them until accept(): Linux finishes the backlog's number plus one, and "
         "the other clients wait in SYN_SENT.",
         Form("listen()", "{sock}.listen({backlog})", None,
              "On a UDP socket listen() runs for real and fails with EOPNOTSUPP: UDP has no connections, "
              "so there is nothing to listen for.")),
    Step("server-accept", Side.SERVER, Action.ACCEPT, Target.LISTENER, "a", "accept()", 4,
         "{new}, addr = {sock}.accept()", "a client connects",
         "Takes the next finished connection from the listener's queue and returns it as a new "
         "socket with its own fd. With the queue empty it waits. Press it again for the next client.",
         Form("accept()", "{new}, addr = {sock}.accept()", None,
              "On a UDP socket accept() runs for real and fails with EOPNOTSUPP: no connection ever comes. "
              "Each datagram lands on s itself, and recvfrom() says who sent it.")),
    Step("server-recv", Side.SERVER, Action.RECV, Target.CONNECTION, "r", "recv()", 9,
         "data = {sock}.recv({bufsize})", "the client sends data or closes",
         "Returns the bytes waiting in the connection's receive buffer, at most 1024. With none "
         "waiting it waits; b'' means the peer closed its side (or this side shut down reading).",
         Form("recvfrom()", "{recv}", "a datagram arrives",
              "Returns the next datagram whole, with its sender's address: one call never returns two. "
              "Of a datagram longer than the buffer (1024) it returns the start; the kernel sets MSG_TRUNC "
              "and the rest is lost.")),
    Step("server-send", Side.SERVER, Action.SEND, Target.CONNECTION, "e", "sendall()", 10,
         "{send}", "the client's receive buffer has room",
         "Copies the message (or, with the field empty, the last data received) into the kernel's "
         "send buffer. It waits only when the buffers are full.",
         Form("sendto()", "{send}", "the send buffer has room",
              "Sends the message (or, with the field empty, the data last received) as one datagram to the "
              "last sender: the addr that recvfrom() returned. It returns once the datagram has left; "
              "whether anyone got it, UDP never says.")),
    Step("server-recv-all", Side.SERVER, Action.RECV_ALL, Target.CONNECTION, "g", "recv all", None,
         "{recv_all}", "the client has sent everything",
         "Calls recv() again and again, counting the bytes, until the expected size has arrived or "
         "the peer closes; then compares the count with what was sent.",
         Form("recv all", "{recv_all}", None,
              "Calls recvfrom() without waiting (MSG_DONTWAIT) for as long as datagrams are queued, and "
              "counts them against what was sent here and what the kernel dropped.")),
    Step("server-shutdown", Side.SERVER, Action.SHUTDOWN, Target.CONNECTION, "h", "shutdown()", None,
         "{sock}.shutdown({how})", None,
         "Closes one direction of the connection but keeps the socket: SHUT_WR sends FIN (the "
         "peer's recv() returns b''); after SHUT_RD, recv() here returns b'' whenever nothing is waiting."),
    Step("server-option", Side.SERVER, Action.OPTION, Target.LISTENER, "o", "setsockopt", None,
         "{option}", None,
         "Sets the chosen option on s: SO_REUSEADDR before bind(), buffer sizes before listen() "
         "(accepted connections inherit them), a timeout before the call it should limit."),
    Step("server-cancel", Side.SERVER, Action.CANCEL, Target.BUSY, "k", "cancel", None,
         "{sock}.shutdown({how})", None,
         "Wakes a blocked server call the only way Linux allows: shutdown() of its socket. accept() "
         "and recv() need only SHUT_RD; connect() and sendall() need SHUT_RDWR. On a listener the "
         "shutdown also stops it listening, until listen() again (refused while a connection it accepted "
         "holds the port, unless it set SO_REUSEADDR)."),
    Step("server-close-conn", Side.SERVER, Action.CLOSE, Target.CONNECTION, "x", "close conn", 11,
         "{sock}.close()", None,
         "Closes the connection: the kernel sends FIN (RST if received data was left unread) and "
         "the fd is released. The listening socket stays open and can accept the next client.",
         Form("close conn", "{sock}.close()", None,
              "UDP has no connections: with none accepted there is nothing for this step to close. "
              "close s (z) closes the UDP socket itself.")),
    Step("server-close", Side.SERVER, Action.CLOSE, Target.LISTENER, "z", "close s", 13,
         "{sock}.close()", None,
         "Closes the listening socket. New clients are now refused; connections already accepted "
         "live on.",
         Form("close s", "{sock}.close()", None,
              "Closes the UDP socket: a datagram sent to its port from now on is answered with an ICMP "
              "port unreachable, and the datagrams still queued are dropped.")),
    Step("server-select", Side.SERVER, Action.SELECT, Target.LISTENER, "y", "select()", None,
         "{select}", "one of its sockets is ready",
         "Waits until one of the server's open sockets (s and every connection) is ready, and says which: "
         "s is readable when a client waits to be accepted, a connection when bytes or the peer's FIN wait. "
         "The next accept() or recv() on a ready socket then returns at once. Empty timeout: wait for ever."),
    Step("server-serve-blocking", Side.SERVER, Action.SERVE_BLOCKING, Target.LISTENER, "u", "serve blocking", None,
         "serve_blocking({sock})", None,
         "Serves clients one at a time in one thread: accept(), then recv() and sendall() back until the "
         "client closes, then the next. While it serves one, the others' bytes wait in the kernel. Runs "
         "until cancelled (k)."),
    Step("server-serve-threads", Side.SERVER, Action.SERVE_THREADS, Target.LISTENER, "j", "serve threads", None,
         "serve_threads({sock})", None,
         "accept() in a loop, and a new thread for each connection that echoes until its client closes: "
         "every recv() blocks on its own thread, so clients are served together. Runs until cancelled (k)."),
    Step("server-serve-select", Side.SERVER, Action.SERVE_SELECT, Target.LISTENER, "m", "serve select", None,
         "serve_select({sock})", None,
         "One thread and a select() loop: accept() when s is readable, recv() and sendall() back for each "
         "readable connection, so no call waits and clients are served together. Runs until cancelled (k)."),
    # ----- client ----------------------------------------------------------
    Step("client-socket", Side.CLIENT, Action.SOCKET, Target.NEW, "S", "socket()", 5,
         "{new} = socket.socket({family}, socket.SOCK_STREAM)", None,
         "Makes a client socket. A client needs no bind: connect() picks a free ephemeral port "
         "for it. Press it again for another client.",
         Form("socket()", "{new} = socket.socket({family}, socket.SOCK_DGRAM)", None,
              "Makes a UDP client socket. It needs no bind() and no connect(): its first sendto() binds it "
              "to a free ephemeral port.")),
    Step("client-connect", Side.CLIENT, Action.CONNECT, Target.CLIENT, "C", "connect()", 6,
         "{sock}.connect({address})", "the listener's queue has room",
         "Runs the three-way handshake with the listener. It returns as soon as the kernel on the "
         "server side answers, before the server calls accept().",
         Form("connect()", "{sock}.connect({address})", None,
              "On UDP connect() sends nothing (no handshake): the kernel only records the peer. Then send() "
              "and recv() need no address, datagrams from anyone else are dropped, and an ICMP port "
              "unreachable from that port makes the next call raise ConnectionRefusedError.")),
    Step("client-send", Side.CLIENT, Action.SEND, Target.CLIENT, "E", "sendall()", 7,
         "{send}", "the server's receive buffer has room",
         "Copies the message into the kernel's send buffer; the kernel delivers it. Returning does "
         "not mean the server has read it.",
         Form("sendto()", "{send}", "the send buffer has room",
              "Sends the message as one datagram to host and port (send() once connected). Returning means "
              "the datagram left, not that anyone got it; a datagram holds at most 65,507 bytes.")),
    Step("client-recv", Side.CLIENT, Action.RECV, Target.CLIENT, "R", "recv()", 8,
         "data = {sock}.recv({bufsize})", "the server sends data or closes",
         "Returns the bytes waiting for the client, at most 1024. With none waiting it waits; b'' "
         "means the server closed its side (or the client shut down reading).",
         Form("recvfrom()", "{recv}", "a datagram arrives",
              "Returns the next datagram whole, with its sender's address (recv() once connected). On a "
              "connected socket, an ICMP port unreachable that came back for an earlier datagram raises "
              "ConnectionRefusedError here.")),
    Step("client-recv-all", Side.CLIENT, Action.RECV_ALL, Target.CLIENT, "G", "recv all", None,
         "{recv_all}", "the server has sent everything",
         "Calls recv() until the expected size has arrived or the server closes, counting as it goes.",
         Form("recv all", "{recv_all}", None,
              "Calls recvfrom() without waiting (MSG_DONTWAIT) for as long as datagrams are queued, and "
              "counts them.")),
    Step("client-shutdown", Side.CLIENT, Action.SHUTDOWN, Target.CLIENT, "H", "shutdown()", None,
         "{sock}.shutdown({how})", None,
         "Closes one direction: SHUT_WR tells the server 'no more data' while the client can still "
         "receive the answer."),
    Step("client-option", Side.CLIENT, Action.OPTION, Target.CLIENT, "O", "setsockopt", None,
         "{option}", None,
         "Sets the chosen option on the client's socket: a small SO_SNDBUF makes sendall() block "
         "sooner; settimeout(0) makes every waiting call raise instead."),
    Step("client-cancel", Side.CLIENT, Action.CANCEL, Target.BUSY, "K", "cancel", None,
         "{sock}.shutdown({how})", None,
         "Wakes a blocked client call with shutdown() of its socket."),
    Step("client-burst", Side.CLIENT, Action.BURST, Target.NEW, "B", "burst", None,
         "{burst}", None,
         "Opens many clients at once, each connecting in its own thread. With a small backlog the "
         "listener's queue fills, and the extra clients wait in SYN_SENT until the server accepts.",
         Form("burst", "{burst}", None,
              "Sends many datagrams at once from the client's socket, one sendto() each. With a small "
              "SO_RCVBUF on the server, the kernel drops those that do not fit, and counts them.",
              Target.CLIENT)),
    Step("client-close", Side.CLIENT, Action.CLOSE, Target.CLIENT, "X", "close()", 12,
         "{sock}.close()", None,
         "Closes the client's socket. Make a new socket to connect again: a TCP socket connects "
         "only once.",
         Form("close()", "{sock}.close()", None,
              "Closes the client's UDP socket. A new one can send at once (and a UDP socket may connect() "
              "again, to another peer).")),
)
# fmt: on

STEPS_BY_ID: dict[str, Step] = {step.id: step for step in STEPS}


def steps_of(side: Side) -> tuple[Step, ...]:
    """The steps of one side, in the order the course uses them."""
    return tuple(step for step in STEPS if step.side is side)


def step(step_id: str) -> Step:
    """Look a step up by its id; a KeyError names the unknown id."""
    return STEPS_BY_ID[step_id]
