"""Options, half-close, cancel, bursts, bulk transfers and lingering connections, on real sockets."""

from __future__ import annotations

import socket

import pytest
from helpers import wait_for

from sockviz.core import Action, StepBlocked, StepCalled, StepFailed, StepReturned, Target, step
from sockviz.core.engine import calls
from sockviz.core.model.bulk import parse_size
from sockviz.core.model.options import option_setting
from sockviz.core.model.steps import Side
from sockviz.core.story.sentences import tell


def test_listen_backlog_is_the_kernels(loopback):
    loopback.run("server-socket")
    loopback.run("server-bind")
    done = loopback.run("server-listen", backlog=3)
    assert done.call.code == "s.listen(3)"
    assert loopback.session.current(Target.LISTENER).snapshot().kernel.queues == "0/3 queued"


def test_settimeout_zero_raises_blocking_io_error(loopback):
    loopback.server_listening()
    done = loopback.run("server-option", option=option_setting("settimeout", "0"))
    assert done.call.code == "s.settimeout(0.0)"
    failed = loopback.run("server-accept")
    assert isinstance(failed, StepFailed) and failed.error.exception == "BlockingIOError"
    assert failed.call.prediction.short == "raises"


def test_reuseaddr_lets_a_restarted_server_bind_past_time_wait(loopback):
    """The server closes first, so its side lingers in TIME_WAIT; a new bind needs SO_REUSEADDR on both."""
    loopback.run("server-socket")
    loopback.run("server-option", option=option_setting("SO_REUSEADDR", "1"))
    loopback.run("server-bind")
    loopback.run("server-listen")
    loopback.run("client-socket")
    loopback.run("client-connect")
    loopback.run("server-accept")
    loopback.run("server-close-conn")  # the server closes first: TIME_WAIT is on the server's port
    loopback.run("client-close")
    loopback.run("server-close")
    loopback.run("server-socket")
    refused = loopback.run("server-bind")
    assert refused.error.errno_name == "EADDRINUSE"
    assert "or set SO_REUSEADDR before bind()" in refused.error.reason  # here it would help: the old one had it
    loopback.run("server-socket")
    loopback.run("server-option", option=option_setting("SO_REUSEADDR", "1"))
    assert isinstance(loopback.run("server-bind"), StepReturned)


def test_a_bind_refused_despite_reuseaddr_does_not_say_to_set_it(loopback):
    """The earlier listener had no SO_REUSEADDR, so its connection's TIME_WAIT keeps the port from a new
    socket that has it: the reason must not send the student back to set what is already set."""
    loopback.connected()
    loopback.run("server-close-conn")  # the server closes first: TIME_WAIT on the server's port
    loopback.run("client-close")
    loopback.run("server-close")
    loopback.run("server-socket")
    loopback.run("server-option", option=option_setting("SO_REUSEADDR", "1"))
    refused = loopback.run("server-bind")
    assert isinstance(refused, StepFailed) and refused.error.errno_name == "EADDRINUSE"
    assert "this socket's SO_REUSEADDR does not get past it" in refused.error.reason
    assert "set SO_REUSEADDR before bind()" not in refused.error.reason


def test_time_wait_stays_visible_after_close_with_its_timer(loopback):
    loopback.connected()
    loopback.run("server-close-conn")
    loopback.run("client-close")
    conn = next(t for t in loopback.session.sockets if t.name == "conn")
    wait_for(lambda: loopback.session.read_lingering() or (conn.after_close and conn.after_close.state == "TIME_WAIT"),
             what="TIME_WAIT to show")  # fmt: skip
    assert 50 < conn.after_close.expires <= 60
    client = next(t for t in loopback.session.sockets if t.name == "c")
    assert client.gone and client.after_close is None  # the passive closer leaves nothing behind


def test_closing_with_unread_data_sends_rst(loopback):
    loopback.connected()
    loopback.run("client-send", payload=b"never read")
    conn = loopback.session.current(Target.CONNECTION)
    wait_for(lambda: conn.snapshot().kernel.recv_queue, what="the bytes to wait, unread, in conn's buffer")
    loopback.run("server-close-conn")
    failed = loopback.run("client-recv")
    assert failed.error.exception == "ConnectionResetError" and failed.error.errno_name == "ECONNRESET"
    conn = next(t for t in loopback.session.sockets if t.name == "conn")
    loopback.session.read_lingering()
    assert conn.gone  # RST: no TIME_WAIT follows


def test_so_linger_zero_aborts_with_rst_and_accepted_sockets_inherit_it(loopback):
    loopback.run("server-socket")
    done = loopback.run("server-option", option=option_setting("SO_LINGER", "1"))
    assert done.call.code == "s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))"
    assert done.result == "SO_LINGER is now (1, 0)"
    for step_id in ("server-bind", "server-listen", "client-socket", "client-connect", "server-accept"):
        loopback.run(step_id)
    loopback.run("server-close-conn")
    failed = loopback.run("client-recv")
    assert failed.error.exception == "ConnectionResetError"


def test_cancel_wakes_recv_with_shut_rd_and_the_connection_still_sends(loopback):
    loopback.connected()
    loopback.start("server-recv")
    wait_for(lambda: loopback.events.of(StepBlocked), what="recv to block")
    done = loopback.run("server-cancel")
    assert done.call.code == "conn.shutdown(socket.SHUT_RD)"
    wait_for(lambda: loopback.events.finished("server-recv"), what="recv to wake")
    woken = loopback.events.finished("server-recv")[0]
    assert woken.cancelled and woken.data == b"" and woken.woken_by == "cancelling it with conn.shutdown()"
    loopback.run("server-send", payload=b"still here")
    assert loopback.run("client-recv").data == b"still here"


def test_a_cancelled_recv_all_says_it_was_cut_short_here(loopback):
    loopback.connected()
    loopback.start("server-recv-all")
    loopback.blocked("server-recv-all")
    loopback.run("server-cancel")
    loopback.finished("server-recv-all")
    woken = loopback.events.finished("server-recv-all")[0]
    assert woken.cancelled and "0 bytes in all (cut short: this socket was shut down here)" in woken.result
    assert "peer closed" not in woken.result


def test_a_wake_that_comes_after_accept_has_its_connection_does_not_cancel_it(loopback, monkeypatch):
    """The session closes the listener in the instant after the kernel handed accept() a connection."""
    accept = calls.CALLS[Action.ACCEPT]

    def accept_then_closed(ctx):
        outcome = accept(ctx)
        ctx.site.wake_calls_on(ctx.tracked, why="the session ending", except_call=None, how=socket.SHUT_RDWR)
        return outcome

    monkeypatch.setitem(calls.CALLS, Action.ACCEPT, accept_then_closed)
    loopback.server_listening()
    loopback.start("server-accept")
    loopback.blocked("server-accept")
    loopback.run("client-socket")
    loopback.run("client-connect")
    loopback.finished("server-accept")
    returned = loopback.events.finished("server-accept")[0]
    assert isinstance(returned, StepReturned) and not returned.cancelled
    assert returned.woken_by == "client c.connect()" and "(woken by client c.connect())" in tell(returned)


def test_cancel_with_nothing_running_is_refused(loopback):
    loopback.connected()
    assert loopback.session.perform(step("client-cancel")) is None


def test_half_close_states(loopback):
    loopback.connected()
    loopback.run("client-shutdown", how=socket.SHUT_WR)
    client = loopback.session.current(Target.CLIENT)
    conn = loopback.session.current(Target.CONNECTION)
    wait_for(lambda: client.snapshot().kernel.state == "FIN_WAIT2", what="FIN_WAIT2")
    assert conn.snapshot().kernel.state == "CLOSE_WAIT"
    got = loopback.run("server-recv")
    assert got.data == b"" and "peer closed its side" in got.result


def test_a_burst_fills_a_small_backlog_and_the_rest_wait_in_syn_sent(loopback):
    loopback.run("server-socket")
    loopback.run("server-bind")
    loopback.run("server-listen", backlog=2)
    done = loopback.run("client-burst", count=8)
    assert done.call.code == (
        "for c in [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(8)]: "
        f"threading.Thread(target=c.connect, args=(('127.0.0.1', {loopback.endpoint.port}),)).start()"
    )
    compile(done.call.code, "burst", "exec")  # the line shown is Python that runs
    clients = [t for t in loopback.session.sockets if t.role.value == "client"]
    assert len(clients) == 8

    def states() -> list[str]:
        return sorted(c.snapshot().kernel.state for c in clients)

    # listen(2) lets 3 complete; the other 5 wait in SYN_SENT (each thread starts its connect when it runs)
    wait_for(lambda: states() == ["ESTABLISHED"] * 3 + ["SYN_SENT"] * 5, what="3 established, 5 in SYN_SENT")
    assert loopback.session.current(Target.LISTENER).snapshot().kernel.queues == "3/2 queued"
    for _ in range(6):  # three at once, three more once the waiting clients retry their SYN (about 1 s)
        loopback.run("server-accept")
    wait_for(lambda: len([e for e in loopback.events.of(StepReturned) if e.call.burst_of == done.call.id]) == 8,
             timeout=10, what="every connect to return")  # fmt: skip
    connects = [e for e in loopback.events.of(StepReturned) if e.call.burst_of == done.call.id]
    assert sum(e.blocked for e in connects) == 5  # the five that waited for a SYN retry (about 1 s)
    assert all(c.snapshot().kernel.state == "ESTABLISHED" for c in clients)


def test_bulk_send_and_recv_all_move_every_byte(loopback):
    loopback.connected()
    size = parse_size("8M")
    loopback.start("client-send", bulk=size)
    got = loopback.run("server-recv-all", expect=size)
    assert f"{size} bytes in all (all expected bytes came)" in got.result
    assert f"c has sent {size} in all, conn received {size}: equal" in got.result
    assert "every byte matches the generated pattern" in got.result
    assert loopback.background.join(5) == []


def test_recv_all_until_eof(loopback):
    loopback.connected()
    loopback.run("client-send", bulk=100_000)
    assert loopback.session.last_transfer(Side.CLIENT) == (100_000, 100_000)  # it stays once the send is done
    loopback.run("client-shutdown", how=socket.SHUT_WR)
    got = loopback.run("server-recv-all")
    assert got.call.code == "received = sum(iter(lambda: conn.recv_into(buffer), 0))"
    assert "100000 bytes in all (the peer closed its side)" in got.result
    assert loopback.session.last_transfer(Side.SERVER) is None  # no size was expected, so there is no bar


def test_the_last_transfer_is_the_newest_send_even_a_message(loopback):
    loopback.connected()
    loopback.run("client-send", bulk=300_000)
    loopback.run("server-recv-all", expect=300_000)
    assert loopback.session.last_transfer(Side.SERVER) == (300_000, 300_000)
    loopback.run("client-send", payload=b"hello")
    assert loopback.session.last_transfer(Side.CLIENT) is None  # a bar would show the bulk send's figures as news


def test_sendall_blocks_on_full_small_buffers_and_the_hint_says_so(loopback):
    loopback.connected()
    loopback.run("client-option", option=option_setting("SO_SNDBUF", "16384"))
    loopback.run("server-option", option=option_setting("SO_RCVBUF", "16384"))
    loopback.start("client-send", bulk=4_000_000)
    wait_for(lambda: loopback.events.of(StepBlocked), what="sendall to block")
    wait_for(lambda: any(done for done, _ in loopback.session.progress().values()), what="the first pieces counted")
    client = loopback.session.current(Target.CLIENT)
    assert client.snapshot().kernel.send_queue > 0
    progress = list(loopback.session.progress().values())
    assert progress and 0 < progress[0][0] < 4_000_000 and progress[0][1] == 4_000_000
    assert loopback.session.predict(step("client-send"), loopback.args(payload=b"x")).short == "full"
    loopback.run("server-recv-all", expect=4_000_000)


@pytest.mark.parametrize(
    ("setup", "step_id", "fields", "blocks"),
    [
        ("listening", "server-accept", {}, True),
        ("queued", "server-accept", {}, False),
        ("connected", "server-recv", {}, True),
        ("data", "server-recv", {}, False),
        ("peer closed", "server-recv", {}, False),
        ("connected", "client-send", {"payload": b"hi"}, False),
        ("listening", "client-connect", {}, False),
    ],
)
def test_every_hint_matches_what_the_call_then_does(loopback, setup, step_id, fields, blocks):
    loopback.server_listening()
    if setup != "listening" or step_id == "client-connect":
        loopback.run("client-socket")
    if setup != "listening":
        loopback.run("client-connect")
    if setup in ("connected", "data", "peer closed"):
        loopback.run("server-accept")
    if setup == "data":
        loopback.run("client-send", payload=b"waiting")
        wait_for(lambda: loopback.session.current(Target.CONNECTION).snapshot().kernel.recv_queue, what="bytes")
    if setup == "peer closed":
        loopback.run("client-shutdown", how=socket.SHUT_WR)
        conn = loopback.session.current(Target.CONNECTION)
        wait_for(lambda: conn.snapshot().kernel.state == "CLOSE_WAIT", what="the FIN to arrive")
    predicted = loopback.session.predict(step(step_id), loopback.args(**fields))
    assert predicted is not None and predicted.blocks is blocks, predicted
    loopback.start(step_id, **fields)
    if blocks:
        wait_for(lambda: loopback.events.of(StepBlocked), what="the predicted block")
        assert "(as the kernel's state before the call said it would)" in tell(loopback.events.of(StepBlocked)[0])
    else:
        wait_for(lambda: loopback.events.finished(step_id), what="the call to return")
        assert not loopback.events.finished(step_id)[0].blocked  # at once, as the kernel said


def test_connect_into_a_full_backlog_is_predicted(loopback):
    loopback.run("server-socket")
    loopback.run("server-bind")
    loopback.run("server-listen", backlog=0)
    loopback.run("client-socket")
    loopback.run("client-connect")  # listen(0) still lets one complete
    loopback.run("client-socket")
    predicted = loopback.session.predict(step("client-connect"), loopback.args())
    assert predicted.blocks and predicted.short == "full"
    loopback.start("client-connect")
    wait_for(lambda: loopback.events.of(StepBlocked), what="connect to wait in SYN_SENT")
    assert loopback.session.current(Target.CLIENT).snapshot().kernel.state == "SYN_SENT"
    loopback.run("server-accept")
    wait_for(lambda: loopback.events.finished("client-connect")[1:], timeout=5, what="the waiting connect")


def test_busy_target_is_per_side(loopback):
    loopback.server_listening()
    loopback.start("server-accept")
    wait_for(lambda: loopback.events.of(StepBlocked), what="accept to block")
    assert loopback.session.current(Target.BUSY, Side.SERVER).name == "s"
    assert loopback.session.current(Target.BUSY, Side.CLIENT) is None


def test_every_line_the_log_shows_is_python(loopback):
    """The code lines are what a student copies into a notebook: each must at least parse."""
    loopback.run("server-socket")
    loopback.run("server-option", option=option_setting("SO_LINGER", "0"))
    loopback.run("server-option", option=option_setting("settimeout", "None"))
    loopback.run("server-bind")
    loopback.run("server-listen", backlog=4)
    loopback.run("client-socket")
    loopback.run("client-connect")
    loopback.run("server-accept")
    loopback.run("client-send", bulk=1000)
    loopback.run("server-recv-all", expect=1000)
    loopback.run("client-send", payload=b"\x00[x]\n")
    loopback.run("server-recv")
    loopback.run("server-send", payload=None)
    loopback.run("client-recv")
    loopback.run("client-shutdown", how=socket.SHUT_WR)
    loopback.run("server-recv-all")
    loopback.start("client-recv")
    wait_for(lambda: loopback.events.of(StepBlocked), what="recv to block")
    loopback.run("client-cancel")
    loopback.run("client-close")
    loopback.run("client-burst", count=2)
    loopback.run("server-close")
    for event in loopback.events.of(StepCalled):
        compile(event.call.code, event.call.step.id, "exec")
