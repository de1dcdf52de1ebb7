"""The session as code: every call's line of Python, and the session exported as two scripts.

`server.py` and `client.py` repeat the session's steps in order, one side each,
so a class can run them in two terminals (or on two machines, with HOST
changed). Calls that failed in the session are kept, wrapped so that the
script shows the same error and goes on; calls that another thread woke in
the session (a close or a cancel) are left as comments, since a script with
one thread would wait there for ever.

The export adds one line the session may not have run: SO_REUSEADDR on the server's
first socket, so that server.py can be run again while its last run's connection
lingers in TIME_WAIT. What the session itself still holds (a listener, or a
TIME_WAIT that the session's own socket left without SO_REUSEADDR) no option
can get past, so `how_to_run` asks the kernel and says what to close or wait for.
"""

from __future__ import annotations

import errno
import re
import threading
from pathlib import Path

from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.engine.view import SessionView
from sockviz.core.kernel.listening import reuses_address
from sockviz.core.kernel.port import bind_refused
from sockviz.core.model.addresses import Endpoint
from sockviz.core.model.bulk import CHUNK, PATTERN_SEED, PIECE
from sockviz.core.model.events import Call, Event, StepFailed, StepFinished, StepReturned
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord
from sockviz.core.model.steps import SERVE_ACTIONS, Action, Side

_TITLE = '"""{title}, as sockviz ran it: run server.py first, then client.py in another terminal."""\n'

_BULK = '''_PATTERN = hashlib.shake_128({seed!r}).digest({chunk}) * {repeat}  # covers {piece} bytes from any offset


def generated(offset, size):
    """The bytes a bulk send sends: a fixed pattern, so the receiver could check them."""
    start = offset % {chunk}
    return _PATTERN[start : start + size]
'''


_SERVERS = {
    "serve_blocking": '''def serve_blocking(s):
    """One client at a time: while this thread waits in one client's recv(), the next waits in the queue."""
    while True:
        conn, addr = s.accept()
        while data := conn.recv(1024):
            conn.sendall(data)
        conn.close()
''',
    "serve_threads": '''def echo(conn):
    """One connection's thread: its recv() waits on its own, so the other clients are served meanwhile."""
    while data := conn.recv(1024):
        conn.sendall(data)
    conn.close()


def serve_threads(s):
    while True:
        conn, addr = s.accept()
        threading.Thread(target=echo, args=(conn,)).start()
''',
    "serve_select": '''def serve_select(s):
    """One thread, and no call that waits: select() says which socket is ready."""
    conns = []
    while True:
        readable, writable, _ = select.select([s, *conns], [], [], None)
        for ready in readable:
            if ready is s:
                conn, addr = s.accept()
                conns.append(conn)
            elif data := ready.recv(1024):
                ready.sendall(data)
            else:
                conns.remove(ready)
                ready.close()
''',
    "echo_client": '''def echo_client(c, message, hold):
    """One client of a burst: connect, send, read until the echo is whole, keep the connection a while, close."""
    c.connect((HOST, PORT))
    c.sendall(message)
    received = b""
    while len(received) < len(message) and (data := c.recv(1024)):
        received += data
    time.sleep(hold)
    c.close()
''',
}
"""The helpers that a serve mode's or a working burst's line calls, written out as the script runs them."""


def _preamble(title: str, endpoint: Endpoint, body: str) -> str:
    """The imports and helpers that this script's own lines use, and no more: a student reads from the top.

    The lines come from the step catalogue's templates, so a helper's name in them is a use of it.
    """
    uses_bulk = "generated(" in body
    imports = ["import hashlib"] if uses_bulk else []
    imports.append("import socket")
    if "echo_client(" in body:
        imports.append("import time")
    if "struct." in body:
        imports.append("import struct  # for SO_LINGER")
    helpers = [source for name, source in _SERVERS.items() if re.search(rf"\b{name}\b", body)]
    if "select." in body or "select.select" in "".join(helpers):
        imports.append("import select")
    if "threading." in body or "threading." in "".join(helpers):
        imports.append("import threading  # for a burst of clients, or a thread per connection")
    parts = [
        _TITLE.format(title=title),
        "\n".join(imports) + "\n",
        f"HOST = {endpoint.host!r}\nPORT = {endpoint.port}\n",
    ]
    if "buffer" in body:
        parts.append(f"buffer = bytearray({PIECE})  # what recv all reads into\n")
    if uses_bulk:
        parts.append(_BULK.format(seed=PATTERN_SEED, chunk=CHUNK, repeat=PIECE // CHUNK + 1, piece=PIECE))
    parts.extend(f"\n{source}" for source in helpers)
    return "\n".join(parts)


_AFTER = {
    Action.ACCEPT: 'print("connection from", addr)',
    Action.RECV: 'print("received", data)',
    Action.RECV_ALL: 'print("received", received, "bytes")',
}
_AFTER_DATAGRAM = {
    Action.RECV: 'print("received", data, "from", addr)',
    Action.RECV_ALL: 'print("received", datagrams, "datagrams")',
}
"""On UDP: recvfrom() says who sent the datagram, and recv all counts datagrams."""


_NOTEBOOK_METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}
"""So that Jupyter opens the notebooks with a Python kernel instead of asking which one."""


@lazy_dataclass(frozen=True, repr=False, eq=False)
class _Entry(FrozenRecord):
    finished: StepFinished


class Transcript:
    """Listens to a session and keeps each finished call, in order, to export it as scripts.

    The session may be a copy of another's (a follower's `Mirror` of the lecturer's): the scripts are then the
    lecturer's session as far as this copy heard it, from `first_seq` on."""

    def __init__(self, session: SessionView) -> None:
        self._session = session
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()
        self.first_seq: int | None = None
        """The first event heard: 1 when the transcript heard the session from its start (a follower who joined
        after the share had let the oldest lines go hears it from later on)."""
        session.subscribe(self._hear)

    def _hear(self, event: Event) -> None:
        if self.first_seq is None:
            self.first_seq = event.seq
        # A burst's clients are its one line; a serve mode's calls are its loop, written out in the preamble.
        if isinstance(event, StepFinished) and event.call.burst_of is None and event.call.serve_of is None:
            with self._lock:
                self._entries.append(_Entry(event))

    def _blocks(self, side: Side, endpoint: Endpoint) -> list[str]:
        """One side's calls as code, in the order they started."""
        with self._lock:
            entries = sorted((e for e in self._entries if e.finished.call.step.side is side),
                             key=lambda e: e.finished.call.started)  # fmt: skip
        reuse = self._needs_reuse([entry.finished.call for entry in entries]) if side is Side.SERVER else None
        blocks = []
        for entry in entries:
            block = self._block(entry.finished, endpoint)
            if entry.finished.call is reuse:
                name = entry.finished.call.socket_name
                block += (f"{name}.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # added by the export, "
                          "not run in the session:\n# a server that closes first leaves its port in TIME_WAIT "
                          "for 60 s, and without this the next run's bind() fails with EADDRINUSE\n")  # fmt: skip
            blocks.append(block)
        return blocks

    @staticmethod
    def _needs_reuse(calls: list[Call]) -> Call | None:
        """The server's first socket() call, if the session set no SO_REUSEADDR on that socket itself.

        Not for UDP: no connection lingers in TIME_WAIT after a UDP socket closes, so its port is free at once.
        """
        first = next((call for call in calls if call.step.id == "server-socket"), None)
        if first is None or first.datagram:
            return None
        named = (call for call in calls if call.socket_name == first.socket_name)
        return None if any("SO_REUSEADDR" in call.code for call in named) else first

    def how_to_run(self, endpoint: Endpoint, kind: str = "py", *, own: bool = True) -> str:
        """What to do to run the exported scripts now, asked of the kernel: free to run, or what holds the port.
        `kind`: "py" for server.py and client.py, "ipynb" for the notebooks, which bind the same way.

        Not `own` (a follower's copy of the lecturer's session): the scripts run on this machine, whose kernel
        is asked; the copy's sockets are the lecturer's, on the lecturer's machine, so they name nothing here.

        The probe binds as server.py will, with SO_REUSEADDR, so it is refused only where server.py
        would be: a socket that still listens there, or a TIME_WAIT left by a socket without the option.
        The time left in TIME_WAIT is the one the table shows (read off the UI thread by the front end).
        """
        with self._lock:
            datagram = any(
                e.finished.call.datagram and e.finished.call.step.id == "server-socket" for e in self._entries
            )
        refused = bind_refused(endpoint, datagram=datagram)
        server = f"server.{kind}"
        run = (f"run {server}, then client.py in another terminal" if kind == "py"
               else f"run {server}'s cells, then client.{kind}'s in another notebook")  # fmt: skip
        if refused is None:
            return run
        port = endpoint.port
        if not own:
            here = "the lecturer's session, if it runs on this machine"
            return (f"{server} cannot bind {endpoint.address} on this machine now ({refused}): a program here "
                    f"holds port {port} ({here}); {run} once it is free")  # fmt: skip
        holding = [t for t in self._session.sockets if t.role is not Role.CLIENT and not t.closed
                   and t.bound_port == port]  # fmt: skip
        waiting = [t.after_close.expires for t in self._session.sockets if t.after_close is not None
                   and t.after_close.state == "TIME_WAIT" and t.ends is not None and t.ends[0][1] == port]  # fmt: skip
        if holding:
            holders = ", ".join(t.name for t in holding)
            verb, them = ("holds", "it") if len(holding) == 1 else ("hold", "them")
            if waiting and not any(isinstance(t, TrackedSocket) and reuses_address(t.sock) for t in holding):
                # Closing the listener is not enough: the TIME_WAIT its connection left refuses server.py too.
                left = max(expires or 0 for expires in waiting)
                return (f"{holders} still {verb} port {port} in this session, and a closed connection holds "
                        f"the port in TIME_WAIT for about {left:.0f} s more ({holders} had no SO_REUSEADDR, so "
                        f"{server}'s cannot get past it): close {them} (or quit sockviz), wait, "
                        f"then {run}")  # fmt: skip
            return (f"{holders} still {verb} port {port} in this session: close {them} (or quit "
                    f"sockviz), then {run}")  # fmt: skip
        if refused.errno != errno.EADDRINUSE:
            return f"{server} cannot bind {endpoint.address} now ({refused}); {run} once it can"
        if waiting:
            left = max(expires or 0 for expires in waiting)
            return (f"a connection this session closed holds port {port} in TIME_WAIT for about {left:.0f} s more "
                    f"(it had no SO_REUSEADDR, so {server}'s cannot help): wait, then {run}")  # fmt: skip
        return (
            f"port {port} is in use now, by another program or a connection in TIME_WAIT: wait, or free it, then {run}"
        )

    def script(self, side: Side, endpoint: Endpoint, title: str = "A sockviz session") -> str:
        """One side's script: what its lines need, then each of its calls in the order they started."""
        blocks = self._blocks(side, endpoint)
        return "\n".join([_preamble(title, endpoint, "\n".join(blocks)), *blocks]).rstrip() + "\n"

    def export(self, folder: Path, endpoint: Endpoint, title: str = "A sockviz session") -> list[Path]:
        """Write server.py and client.py into `folder` (made if needed); returns their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for side in Side:
            path = folder / f"{side.value}.py"
            path.write_text(self.script(side, endpoint, title), encoding="utf-8")
            paths.append(path)
        return paths

    def export_notebooks(self, folder: Path, endpoint: Endpoint, title: str = "A sockviz session") -> list[Path]:
        """Write server.ipynb and client.ipynb: the same steps, one cell each, for a course run in Jupyter.

        Needs nbformat (`pip install 'sockviz[notebook]'`), imported only here.
        """
        import nbformat

        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for side in Side:
            blocks = self._blocks(side, endpoint)
            preamble = _preamble(title, endpoint, "\n".join(blocks)).rstrip()
            cells = [nbformat.v4.new_markdown_cell(f"# {title}: the {side.value}"), nbformat.v4.new_code_cell(preamble)]
            for block in blocks:
                heading, _, code = block.partition("\n")
                words = heading.lstrip("# ")
                cells.append(nbformat.v4.new_markdown_cell(words[:1].upper() + words[1:]))  # the rest keeps its case
                cells.append(nbformat.v4.new_code_cell(code.rstrip()))
            path = folder / f"{side.value}.ipynb"
            notebook = nbformat.v4.new_notebook(cells=cells, metadata=_NOTEBOOK_METADATA)
            nbformat.write(notebook, str(path))
            paths.append(path)
        return paths

    @staticmethod
    def _block(finished: StepFinished, endpoint: Endpoint) -> str:
        call = finished.call
        code = call.code.replace(repr(endpoint.address), "(HOST, PORT)")
        label = call.form.label
        heading = f"# step {call.step.course_step}: {label}" if call.step.course_step else f"# {label}"
        if call.step.action in SERVE_ACTIONS:
            return f"{heading}: it runs until you stop it (ctrl+c), as the session's ran until cancelled\n{code}\n"
        if finished.cancelled:
            commented = "\n".join(f"# {line}" for line in code.splitlines())
            why = f"in the session, {finished.woken_by} woke this call; one thread would wait for ever"
            return f"{heading}: {why}\n{commented}\n"
        if isinstance(finished, StepFailed):
            body = "\n".join(f"    {line}" for line in code.splitlines())
            report = "    print('as in the session:', repr(error))"
            raised = f"{heading}: in the session this raised {finished.error}"
            return f"{raised}\ntry:\n{body}\nexcept OSError as error:\n{report}\n"
        after = (_AFTER_DATAGRAM if call.datagram else {}).get(call.step.action) or _AFTER.get(call.step.action)
        if isinstance(finished, StepReturned) and after:
            code = f"{code}\n{after}"
        return f"{heading}\n{code}\n"
