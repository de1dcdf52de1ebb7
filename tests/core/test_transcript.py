"""The session exported as server.py and client.py, which run against each other and move the same bytes."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys

import pytest
from helpers import free_port, listening, time_wait_on, wait_for

from sockviz.core import Side
from sockviz.core.model.options import option_setting
from sockviz.core.story.transcript import Transcript

HELLO = b"Hello, Wireshark. You are an amazing tool!"


def test_exported_scripts_run_against_each_other(loopback, tmp_path):
    transcript = Transcript(loopback.session)
    loopback.run("server-socket")
    loopback.run("server-bind")
    loopback.run("server-listen")
    loopback.run("client-socket")
    loopback.run("client-recv")  # a wrong order: kept, and shown as the same error when the script runs
    loopback.run("client-connect")
    loopback.run("server-accept")
    loopback.run("client-send", payload=HELLO)
    loopback.run("server-recv")
    loopback.run("server-send", payload=None)
    loopback.run("client-recv")
    loopback.run("client-send", bulk=300_000)
    loopback.run("server-recv-all", expect=300_000)
    loopback.run("client-close")
    loopback.run("server-close-conn")
    loopback.run("server-close")
    loopback.session.close()

    server_py, client_py = transcript.export(tmp_path, loopback.endpoint)
    assert server_py.name == "server.py" and "# step 4: accept()" in server_py.read_text()
    client, server_out, code = _run_pair(server_py, client_py, loopback.endpoint.port)
    assert client.returncode == 0 and code == 0, client.stderr
    assert f"received {HELLO!r}" in server_out
    assert "received 300000 bytes" in server_out
    assert "as in the session: OSError(107, 'Transport endpoint is not connected')" in client.stdout
    assert f"received {HELLO!r}" in client.stdout  # the echo came back


def test_a_script_imports_only_what_its_lines_use(loopback):
    transcript = Transcript(loopback.session)
    loopback.connected()
    loopback.run("client-send", payload=HELLO)
    loopback.run("server-recv")
    for side in Side:
        script = transcript.script(side, loopback.endpoint)
        assert "import socket\n\nHOST = " in script
        for unused in ("hashlib", "struct", "threading", "buffer", "generated"):
            assert unused not in script, (side, unused)
    loopback.run("client-send", bulk=1000)
    loopback.run("server-recv-all", expect=1000)
    loopback.run("client-option", option=option_setting("SO_LINGER", "1"))
    loopback.run("client-burst", count=2)
    client = transcript.script(Side.CLIENT, loopback.endpoint)
    server = transcript.script(Side.SERVER, loopback.endpoint)
    for used in ("import hashlib", "import struct", "import threading", "def generated("):
        assert used in client
    assert "buffer = bytearray(" in server and "hashlib" not in server
    compile(client, "client.py", "exec")
    compile(server, "server.py", "exec")


def test_a_call_woken_by_another_thread_is_left_as_a_comment(loopback):
    transcript = Transcript(loopback.session)
    loopback.server_listening()
    loopback.start("server-accept")
    loopback.blocked("server-accept")  # in accept(), as the kernel says: the queue is empty
    loopback.run("server-close")
    wait_for(lambda: loopback.events.finished("server-accept"), what="accept to wake")
    script = transcript.script(Side.SERVER, loopback.endpoint)
    assert "# conn, addr = s.accept()" in script
    assert "closing s here woke this call" in script
    compile(script, "server.py", "exec")


def test_notebooks_have_a_cell_per_step(loopback, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    transcript = Transcript(loopback.session)
    loopback.connected()
    loopback.run("client-send", payload=HELLO)
    loopback.run("server-recv")
    server_nb, client_nb = transcript.export_notebooks(tmp_path, loopback.endpoint)
    notebook = nbformat.read(str(server_nb), as_version=4)
    nbformat.validate(notebook)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert code[1:] == [
        "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # added by the export, not run in the session:\n"
        "# a server that closes first leaves its port in TIME_WAIT for 60 s, and without this the next run's bind() "
        "fails with EADDRINUSE",
        "s.bind((HOST, PORT))",
        "s.listen()",
        'conn, addr = s.accept()\nprint("connection from", addr)',
        'data = conn.recv(1024)\nprint("received", data)',
    ]
    assert "Step 4: accept()" in [cell.source for cell in notebook.cells]
    assert client_nb.name == "client.ipynb"


def _run_pair(server_py, client_py, port: int) -> tuple[subprocess.CompletedProcess, str, int]:
    server = subprocess.Popen([sys.executable, str(server_py)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        wait_for(lambda: listening(port) or server.poll() is not None, what="server.py to listen or end")
        client = subprocess.run([sys.executable, str(client_py)], capture_output=True, text=True, timeout=30)
        out, err = server.communicate(timeout=30)
    finally:
        server.kill()
    return client, out + err, server.returncode


def test_exported_server_runs_again_while_its_last_run_is_in_time_wait(loopback, tmp_path):
    """server.py sets SO_REUSEADDR, with the reason beside it, so a second run binds despite the first's TIME_WAIT."""
    transcript = Transcript(loopback.session)
    loopback.connected()
    loopback.run("client-send", payload=HELLO)
    loopback.run("server-recv")
    loopback.run("server-send", payload=None)
    loopback.run("server-close-conn")  # the server closes first: TIME_WAIT lands on the server's port
    loopback.run("client-recv")
    loopback.run("client-recv")  # b'': in the scripts too, the client closes only after the server has
    loopback.run("client-close")
    loopback.run("server-close")
    server_py, client_py = transcript.export(tmp_path, loopback.endpoint)
    text = server_py.read_text()
    assert "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # added by the export" in text
    assert "TIME_WAIT" in text
    port = free_port()  # the session's own TIME_WAIT (without the option) holds its port: run them on another
    for script in (server_py, client_py):
        script.write_text(script.read_text().replace(f"PORT = {loopback.endpoint.port}\n", f"PORT = {port}\n"))
    for run in (1, 2):
        client, server_out, code = _run_pair(server_py, client_py, port)
        assert code == 0 and client.returncode == 0, (run, server_out, client.stderr)
        assert f"received {HELLO!r}" in client.stdout
        assert time_wait_on(port), "the run's server closed first, so its port is in TIME_WAIT"


def test_the_export_says_what_holds_the_port(loopback):
    transcript = Transcript(loopback.session)
    loopback.server_listening()
    note = transcript.how_to_run(loopback.endpoint)
    assert note.startswith(f"s still holds port {loopback.endpoint.port} in this session: close it")
    notebooks = transcript.how_to_run(loopback.endpoint, "ipynb")  # the notebooks bind the same way
    assert notebooks.endswith("close it (or quit sockviz), then run server.ipynb's cells, then client.ipynb's in "
                              "another notebook")  # fmt: skip
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    with pytest.raises(OSError) as refused:  # what server.py would meet now
        probe.bind(loopback.endpoint.address)
    probe.close()
    assert refused.value.errno == errno.EADDRINUSE
    loopback.run("client-socket")
    loopback.run("client-connect")
    loopback.run("server-accept")
    loopback.run("server-close-conn")  # server first, and the session set no SO_REUSEADDR
    loopback.run("client-close")
    loopback.session.read_lingering()
    note = transcript.how_to_run(loopback.endpoint)  # closing s alone would not do: conn's TIME_WAIT refuses too
    assert note.startswith(f"s still holds port {loopback.endpoint.port} in this session, and a closed connection")
    assert "in TIME_WAIT for about" in note and "close it (or quit sockviz), wait, then run server.py" in note
    loopback.run("server-close")
    loopback.session.read_lingering()
    note = transcript.how_to_run(loopback.endpoint)
    assert f"holds port {loopback.endpoint.port} in TIME_WAIT for about" in note and "wait, then run server.py" in note


def test_the_export_says_run_when_the_port_is_free(loopback):
    transcript = Transcript(loopback.session)
    loopback.connected()
    loopback.run("client-close")  # the client closes first: TIME_WAIT lands on its own ephemeral port
    loopback.run("server-close-conn")
    loopback.run("server-close")
    assert transcript.how_to_run(loopback.endpoint) == "run server.py, then client.py in another terminal"


def test_notebook_text_keeps_its_case_and_names_a_python_kernel(loopback, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    transcript = Transcript(loopback.session)
    loopback.run("client-socket")
    loopback.run("client-recv")  # ENOTCONN: the heading names the exception as Python does
    _, client_nb = transcript.export_notebooks(tmp_path, loopback.endpoint)
    notebook = nbformat.read(str(client_nb), as_version=4)
    text = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    assert any("raised OSError ENOTCONN (107)" in line for line in text), text
    assert notebook.metadata.kernelspec.name == "python3" and notebook.metadata.kernelspec.language == "python"
