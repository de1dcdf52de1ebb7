"""UDP on real loopback sockets: the same steps make UDP's calls, and every sentence is true for UDP."""

from __future__ import annotations

import errno
import io
import subprocess
import sys

from helpers import wait_for

from sockviz.core import StepBlocked, StepFailed, StepReturned, Target
from sockviz.core.kernel.udp_info import read_datagram
from sockviz.core.model.options import option_setting
from sockviz.core.scenario import lessons
from sockviz.core.story.sentences import tell
from sockviz.core.story.transcript import Transcript
from sockviz.headless import run

HELLO = b"Hello, Wireshark. You are an amazing tool!"


def _server(udp) -> None:
    udp.run("server-socket")
    udp.run("server-bind")


def test_echo_over_udp_makes_udps_calls_and_says_only_what_they_know(udp):
    made = udp.run("server-socket")
    assert made.call.code == "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
    bound = udp.run("server-bind")
    assert "no listen() and no accept()" in bound.result
    udp.run("client-socket")
    sent = udp.run("client-send", payload=HELLO)
    address = ("127.0.0.1", udp.endpoint.port)
    assert sent.call.code == f"c.sendto({HELLO!r}, {address!r})"
    assert tell(sent).startswith("sendto() returned: one 42-byte datagram left")
    assert "whether anyone received it, UDP never tells" in sent.result
    got = udp.run("server-recv")
    assert got.call.code == "data, addr = s.recvfrom(1024)" and got.data == HELLO
    client = udp.session.current(Target.CLIENT)
    assert f"one datagram of 42 bytes from ('127.0.0.1', {client.sock.getsockname()[1]})" in got.result
    assert "this first send bound c to the ephemeral port" in sent.result
    echo = udp.run("server-send", payload=None)
    assert echo.call.code == "s.sendto(data, addr)" and echo.data == HELLO
    back = udp.run("client-recv")
    assert back.data == HELLO and back.call.label == "recvfrom()"


def test_listen_and_accept_run_for_real_and_fail_because_udp_has_no_connections(udp):
    _server(udp)
    listened = udp.run("server-listen")
    accepted = udp.run("server-accept")
    for failed in (listened, accepted):
        assert isinstance(failed, StepFailed)
        assert failed.error.errno == errno.EOPNOTSUPP and failed.error.exception == "OSError"
        assert "UDP has no connections" in failed.error.reason


def test_three_sendtos_are_three_recvfroms(udp):
    _server(udp)
    udp.run("client-socket")
    for message in (b"a", b"bb", b"ccc"):
        udp.run("client-send", payload=message)
    assert [udp.run("server-recv").data for _ in range(3)] == [b"a", b"bb", b"ccc"]


def test_a_datagram_longer_than_the_buffer_is_cut_and_the_log_says_how_much_was_lost(udp):
    _server(udp)
    udp.run("client-socket")
    udp.run("client-send", payload=HELLO)
    cut = udp.run("server-recv", bufsize=8)
    assert cut.call.code == "data, addr = s.recvfrom(8)"
    assert cut.data == HELLO[:8]
    assert "8 bytes of a 42-byte datagram" in cut.result and "MSG_TRUNC" in cut.result
    assert "the other 34 bytes are gone" in cut.result


def test_connect_sends_nothing_and_icmp_port_unreachable_comes_back_as_refused(udp):
    udp.run("client-socket")
    connected = udp.run("client-connect")  # nothing listens on the lesson's port
    assert isinstance(connected, StepReturned) and "nothing was sent" in connected.result
    sent = udp.run("client-send", payload=b"anyone?")
    assert sent.call.code == "c.send(b'anyone?')" and isinstance(sent, StepReturned)
    refused = udp.run("client-recv")
    assert refused.call.code == "data = c.recv(1024)"
    assert isinstance(refused, StepFailed) and refused.error.errno_name == "ECONNREFUSED"
    assert "ICMP port unreachable" in refused.error.reason


def test_a_blocked_recvfrom_is_woken_by_the_clients_sendto(udp):
    _server(udp)
    udp.start("server-recv")
    udp.blocked("server-recv")
    assert "it waits until a datagram arrives" in tell(udp.events.last(StepBlocked))
    udp.run("client-socket")
    udp.run("client-send", payload=b"ping")
    udp.finished("server-recv")
    woken = udp.events.finished("server-recv")[0]
    assert woken.blocked and woken.woken_by == "client c.sendto()"


def test_cancel_wakes_a_blocked_recvfrom(udp):
    _server(udp)
    udp.start("server-recv")
    udp.blocked("server-recv")
    udp.run("server-cancel")
    udp.finished("server-recv")
    woken = udp.events.finished("server-recv")[0]
    assert woken.cancelled and "shut down here" in woken.result


def _ss(port: int) -> list[str]:
    out = subprocess.run(["ss", "-uanH", f"( sport = :{port} )"], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_state_and_receive_queue_are_those_ss_shows(udp):
    _server(udp)
    udp.run("client-socket")
    for _ in range(5):
        udp.run("client-send", payload=HELLO)
    server = udp.session.current(Target.LISTENER)
    for _ in range(3):  # a read from a queue that stays non-empty frees its memory late: ss knows how late
        reading = read_datagram(server.sock)
        state, recv_q, send_q = _ss(udp.endpoint.port)[:3]
        assert (reading.state, reading.recv_queue, reading.send_queue) == (state, int(recv_q), int(send_q))
        assert reading.next_datagram == len(HELLO) and reading.queues.startswith(f"in {recv_q} · next 42B")
        udp.run("server-recv")
    udp.run("client-connect")
    client = udp.session.current(Target.CLIENT)
    assert read_datagram(client.sock).state == _ss(client.sock.getsockname()[1])[0] == "ESTAB"


def test_a_burst_into_a_small_buffer_loses_datagrams_and_the_kernel_counts_each_one(udp):
    _server(udp)
    udp.run("server-option", option=option_setting("SO_RCVBUF", "4096"))
    udp.run("client-socket")
    burst = udp.run("client-burst", count=200)
    assert burst.call.code == f"for i in range(200): c.sendto(b'datagram %d' % i, ('127.0.0.1', {udp.endpoint.port}))"
    server = udp.session.current(Target.LISTENER)
    with open("/proc/net/udp") as table:  # the drops column, the kernel's own count for the socket
        row = next(line.split() for line in table if line.split()[1].endswith(f":{udp.endpoint.port:04X}"))
    dropped = int(row[-1])
    assert dropped > 0 and read_datagram(server.sock).drops == dropped
    drained = udp.run("server-recv-all")
    received = server.datagrams_received
    assert received + dropped == 200 and received > 0
    assert (
        f"this session sent 200 here (c 200) and s has received {received}: {dropped} never arrived" in drained.result
    )
    assert f"the kernel counts exactly {dropped} dropped on s" in drained.result


def test_recv_all_with_nothing_queued_says_none_came_and_none_was_dropped(udp):
    """Not "0 datagrams were queued, one recvfrom() each", nor "0 dropped because its buffer was full"."""
    _server(udp)
    drained = udp.run("server-recv-all")
    assert drained.result.startswith("no datagram was queued, so it returned at once with none")
    assert "the kernel has dropped none on s" in drained.result and "was full" not in drained.result


def _udp_bound(port: int) -> bool:
    with open("/proc/net/udp") as table:
        return any(line.split()[1].endswith(f":{port:04X}") for line in list(table)[1:])


def test_exported_udp_scripts_run_against_each_other(udp, tmp_path):
    transcript = Transcript(udp.session)
    _server(udp)
    udp.run("server-listen")  # fails for real: kept, and the script shows the same error
    udp.run("client-socket")
    udp.run("client-send", payload=HELLO)
    udp.run("server-recv")
    udp.run("server-send", payload=None)
    udp.run("client-recv")
    udp.run("client-close")
    udp.run("server-close")
    udp.session.close()

    server_py, client_py = transcript.export(tmp_path, udp.endpoint)
    server_text = server_py.read_text()
    assert "socket.SOCK_DGRAM" in server_text and "# step 9: recvfrom()" in server_text
    assert "SO_REUSEADDR" not in server_text  # no TIME_WAIT after UDP: nothing to add
    assert "c.sendto(b'Hello, Wireshark. You are an amazing tool!', (HOST, PORT))" in client_py.read_text()
    server = subprocess.Popen([sys.executable, str(server_py)], stdout=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: _udp_bound(udp.endpoint.port), what="server.py to bind")
        client = subprocess.run([sys.executable, str(client_py)], capture_output=True, text=True, timeout=30)
        server_out, _ = server.communicate(timeout=30)
    finally:
        server.kill()
    assert client.returncode == 0 and server.returncode == 0, client.stderr
    assert "as in the session: OSError(95, 'Operation not supported')" in server_out
    assert f"received {HELLO!r} from ('127.0.0.1'," in server_out
    assert f"received {HELLO!r} from ('127.0.0.1', {udp.endpoint.port})" in client.stdout  # the echo came back
    notebooks = transcript.export_notebooks(tmp_path / "notebooks", udp.endpoint)
    assert "data, addr = s.recvfrom(1024)" in notebooks[0].read_text()


def _story(name: str, endpoint) -> str:
    out = io.StringIO()
    code = run(lessons.text(name), endpoint, speed=20, out=out)
    assert code == 0, out.getvalue()
    return out.getvalue()


def test_the_boundaries_lesson_shows_one_recv_of_three_sendalls_and_three_recvfroms_of_three_sendtos(udp):
    story = _story("boundaries", udp.endpoint)
    assert "recv() returned: 13 bytes: b'one two three'" in story
    for message in (b"one ", b"two ", b"three"):
        assert f"recvfrom() returned: one datagram of {len(message)} bytes from ('127.0.0.1'," in story
    assert "recvfrom() returned: 8 bytes of a 42-byte datagram" in story and "MSG_TRUNC" in story


def test_the_loss_lesson_accounts_for_every_datagram_with_the_kernels_drop_count(udp):
    story = _story("udp-loss", udp.endpoint)
    assert "this session sent 200 here (c 200)" in story and "the kernel counts exactly" in story


def test_the_refused_lesson_gets_econnrefused_only_on_the_connected_socket(udp):
    story = _story("udp-refused", udp.endpoint)
    assert "recv() failed: ConnectionRefusedError ECONNREFUSED (111)" in story
    assert "recvfrom() blocks: it waits until a datagram arrives" in story
    assert "shutdown() raised ENOTCONN (OSError 107), yet Linux marked it shut down" in story
