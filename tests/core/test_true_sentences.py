"""Each sentence checked against what the kernel and the call really did, on real loopback sockets.

Each test here is a sentence that was once untrue: what the log says now is checked against the
kernel (TCP_INFO, SO_ACCEPTCONN, a real client) rather than against the sentence alone.
"""

from __future__ import annotations

import errno
import socket

import pytest
from helpers import wait_for

from sockviz.core import StepFailed, StepRefused, StepReturned, Target
from sockviz.core.kernel.tcp_info import read_kernel
from sockviz.core.model.options import option_setting
from sockviz.core.story.sentences import tell


def _accepting(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))


def _client_connects(loopback) -> bool:
    """A client from outside the session, as a student's second terminal would be."""
    probe = socket.socket(loopback.family, socket.SOCK_STREAM)
    try:
        probe.connect(loopback.endpoint.address)
    except ConnectionRefusedError:
        return False
    finally:
        probe.close()
    return True


def test_close_conn_with_no_connection_is_refused_and_the_listener_lives(loopback):
    loopback.server_listening()
    call = loopback.session.perform(lesson_step("server-close-conn"), loopback.args())
    assert call is None
    refused = loopback.events.last(StepRefused)
    assert "no connection has been accepted yet" in refused.reason and "close s (z)" in refused.reason
    listener = loopback.session.current(Target.LISTENER)
    assert not listener.closed and _accepting(listener.sock) and _client_connects(loopback)


def test_shutdown_with_no_connection_is_refused_and_the_listener_lives(loopback):
    loopback.server_listening()
    assert loopback.session.perform(lesson_step("server-shutdown"), loopback.args(how=socket.SHUT_RDWR)) is None
    assert "would stop it listening" in loopback.events.last(StepRefused).reason
    listener = loopback.session.current(Target.LISTENER)
    assert _accepting(listener.sock) and read_kernel(listener.sock).state == "LISTEN"


def test_cancel_of_accept_says_the_listener_stopped_and_listen_brings_it_back(loopback):
    loopback.server_listening()
    loopback.start("server-accept")
    loopback.blocked("server-accept")
    cancel = loopback.run("server-cancel")
    loopback.finished("server-accept")
    listener = loopback.session.current(Target.LISTENER)
    # The kernel's side of the story: the listener is no more.
    assert not _accepting(listener.sock) and read_kernel(listener.sock).state == "CLOSE"
    assert not _client_connects(loopback)
    # The log says so, and the socket carries the fact for the table.
    assert "stopped s listening" in cancel.result and "new clients are refused" in cancel.result
    assert "until s.listen() runs again" in cancel.result
    assert listener.lasting is not None and "not listening" in listener.lasting
    again = loopback.run("server-accept")
    assert isinstance(again, StepFailed) and again.error.errno == errno.EINVAL
    assert "shutdown() stopped it listening" in again.error.reason
    # As the sentence says: listen() again, and clients get in.
    assert isinstance(loopback.run("server-listen"), StepReturned)
    assert listener.lasting is None and _client_connects(loopback)


def test_after_a_cancel_listen_again_is_refused_while_an_accepted_connection_holds_the_port(loopback):
    """Measured: with no SO_REUSEADDR, listen() again after the shutdown fails with EADDRINUSE while a connection
    the listener accepted is open (or in TIME_WAIT); the log said so at the cancel, and the error says why."""
    loopback.connected()
    loopback.start("server-accept")
    loopback.blocked("server-accept")
    cancel = loopback.run("server-cancel")
    port = loopback.endpoint.port
    assert f"that listen() fails with EADDRINUSE while a connection s accepted still holds port {port}" in (
        cancel.result
    )
    again = loopback.run("server-listen")
    assert isinstance(again, StepFailed) and again.error.errno == errno.EADDRINUSE
    assert "a connection it accepted" in again.error.reason and "SO_REUSEADDR" in again.error.reason


def test_with_so_reuseaddr_listen_again_is_not_refused_and_the_log_says_no_more(loopback):
    loopback.run("server-socket")
    loopback.run("server-option", option=option_setting("SO_REUSEADDR", "1"))
    for step_id in ("server-bind", "server-listen", "client-socket", "client-connect", "server-accept"):
        loopback.run(step_id)
    loopback.start("server-accept")
    loopback.blocked("server-accept")
    cancel = loopback.run("server-cancel")
    assert cancel.result.endswith("until s.listen() runs again")
    assert isinstance(loopback.run("server-listen"), StepReturned)


def test_close_says_the_fd_is_released_not_free_for_the_next_socket(loopback):
    loopback.run("server-socket")
    fd = loopback.session.current(Target.LISTENER).sock.fileno()
    closed = loopback.run("server-close")
    assert "free for the next socket" not in closed.result
    assert f"fd {fd} is released" in closed.result and "sockviz's own included" in closed.result


def test_recv_after_own_shut_rd_says_so_not_that_the_peer_closed(loopback):
    loopback.connected()
    loopback.run("client-send", payload=b"waiting")
    loopback.finished("client-send")
    shut = loopback.run("server-shutdown", how=socket.SHUT_RD)
    assert "still returns what is waiting" in shut.result
    first = loopback.run("server-recv")
    assert first.data == b"waiting"  # SHUT_RD on Linux still hands over what waits
    second = loopback.run("server-recv")
    assert second.data == b"" and "shut down for reading here" in second.result
    assert "peer closed" not in tell(second)


def test_send_after_own_shut_wr_blames_this_side(loopback):
    loopback.connected()
    loopback.run("client-shutdown", how=socket.SHUT_WR)
    failed = loopback.run("client-send", payload=b"late")
    assert isinstance(failed, StepFailed) and failed.error.errno == errno.EPIPE
    assert "shut down for writing here" in failed.error.reason and "peer" not in failed.error.reason


@pytest.mark.parametrize(("asked", "doubled"), [(100, False), (65536, True)])
def test_buffer_size_sentence_matches_what_the_kernel_gave(loopback, asked, doubled):
    loopback.run("client-socket")
    done = loopback.run("client-option", option=option_setting("SO_RCVBUF", str(asked)))
    now = loopback.session.current(Target.CLIENT).sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    assert f"SO_RCVBUF is now {now}" in done.result
    assert (now == 2 * asked) is doubled
    assert ("within its own minimum and maximum" in done.result) is not doubled


def lesson_step(step_id: str):
    from sockviz.core import step

    return step(step_id)


def test_recv_all_does_not_call_a_transfer_unequal_while_the_sender_still_sends(loopback):
    """The receiver can have its bytes before the sender's sendall() returns and counts them."""
    loopback.connected()
    loopback.start("client-send", bulk=64 * 1024 * 1024)  # far more than the buffers hold: it blocks
    got = loopback.run("server-recv-all", expect=1024 * 1024)
    assert "1048576 bytes in all (all expected bytes came)" in got.result
    assert "c's sendall() has not returned yet" in got.result and "not equal" not in got.result
    loopback.run("client-close")  # wakes the blocked sendall()
    loopback.finished("client-send")


def test_hints_after_this_sides_own_shutdown_say_what_the_call_will_do(loopback):
    loopback.connected()
    loopback.run("server-shutdown", how=socket.SHUT_RD)
    hint = loopback.session.predict(lesson_step("server-recv"))
    assert hint.short == "EOF" and "shut down for reading" in hint.why and "peer" not in hint.why
    got = loopback.run("server-recv")
    assert got.data == b""  # as the hint said, and the peer has not closed:
    assert read_kernel(loopback.session.current(Target.CONNECTION).sock).state == "ESTABLISHED"

    loopback.run("client-shutdown", how=socket.SHUT_WR)
    hint = loopback.session.predict(lesson_step("client-send"), loopback.args(payload=b"late"))
    assert hint.short == "fails" and "BrokenPipeError" in hint.why
    failed = loopback.run("client-send", payload=b"late")
    assert isinstance(failed, StepFailed) and failed.error.errno == errno.EPIPE


def test_close_with_unread_data_says_it_sent_rst(loopback):
    loopback.connected()
    loopback.run("client-send", payload=b"never read")
    conn = loopback.session.current(Target.CONNECTION)
    wait_for(lambda: read_kernel(conn.sock).recv_queue, what="the bytes to arrive")
    closed = loopback.run("server-close-conn")
    assert "10 bytes were left unread, so the kernel sent RST instead of FIN" in closed.result
    failed = loopback.run("client-recv")
    assert isinstance(failed, StepFailed) and failed.error.errno == errno.ECONNRESET  # as the sentence said


def test_close_after_a_plain_exchange_claims_no_rst(loopback):
    loopback.connected()
    closed = loopback.run("client-close")
    assert "RST" not in closed.result


def test_listen_again_after_a_shutdown_says_when_the_ephemeral_port_changed(loopback):
    loopback.run("server-socket")
    loopback.session.current(Target.LISTENER).sock.bind(("127.0.0.1", 0))  # a port Linux picks, as listen() would
    loopback.run("server-listen")
    listener = loopback.session.current(Target.LISTENER)
    first = listener.sock.getsockname()[1]
    loopback.start("server-accept")
    loopback.blocked("server-accept")
    loopback.run("server-cancel")
    loopback.finished("server-accept")
    again = loopback.run("server-listen")
    now = listener.sock.getsockname()[1]
    if now == first:  # Linux may, rarely, pick the same port again: then there is nothing to say of it
        assert again.result.startswith("listening on")
    else:
        assert f"its ephemeral port {first} was given back" in again.result and str(now) in again.result
