"""Sentences a newcomer read as untrue or alarming (qa's report, "Left for owners"), each checked on real sockets."""

from __future__ import annotations

import io
import socket

from helpers import Background, Recorder, free_port, wait_for

from sockviz.core import Call, Endpoint, Session, Side, StepArgs, StepCalled, StepFailed, StepReturned, step
from sockviz.core.model.options import option_setting
from sockviz.core.model.transport import Transport
from sockviz.core.story.next_steps import next_line, welcome
from sockviz.core.story.sentences import reason, tell
from sockviz.headless import Printer


def test_setblocking_is_told_as_setblocking_not_setsockopt(loopback):
    loopback.run("server-socket")
    done = loopback.run("server-option", option=option_setting("setblocking", "0"))
    assert tell(done).startswith("setblocking() returned"), tell(done)
    assert "setsockopt" not in tell(done)


def test_an_accept_that_waited_too_briefly_to_be_told_blocked_is_not_said_not_to_have_waited():
    session = Session(block_after=30.0)  # far longer than the wait below: the call is never told as blocked
    events, background = Recorder(session), Background(session)
    endpoint = Endpoint(socket.AF_INET, "127.0.0.1", free_port())
    args = StepArgs(endpoint=endpoint)
    for step_id in ("server-socket", "server-bind", "server-listen"):
        assert session.perform(step(step_id), args) is not None
    background.start("server-accept", args)
    wait_for(lambda: any(e.call.step.id == "server-accept" for e in events.of(StepCalled)), what="accept() called")
    client = socket.create_connection(endpoint.address)  # after accept() began, with its queue empty
    try:
        wait_for(lambda: events.finished("server-accept"), what="accept() returns")
        done = events.finished("server-accept")[0]
        assert isinstance(done, StepReturned) and not done.blocked and done.call.prediction.blocks
        line = tell(done)
        assert "it did not" not in line and "it waited" in line, line
    finally:
        client.close()
        assert session.close()
        assert not background.join()


def test_recv_all_of_a_typed_message_says_nothing_of_the_bulk_pattern(loopback):
    loopback.connected()
    loopback.run("client-send", payload=b"question")
    loopback.run("client-shutdown", how=socket.SHUT_WR)
    got = loopback.run("server-recv-all")
    assert "8 bytes in all" in got.result and "pattern" not in got.result, got.result


def test_the_welcome_in_split_mode_names_only_that_sides_keys():
    server_key, client_key = step("server-socket").key, step("client-socket").key
    for transport in Transport:
        alone = welcome(transport, Side.CLIENT)
        assert "left pane" not in alone and f"press {server_key} " not in alone and f"Press {client_key} " in alone
        alone = welcome(transport, Side.SERVER)
        assert "on the right" not in alone and f" {client_key} " not in alone and f"Press {server_key} " in alone
    assert "left pane" in welcome(Transport.TCP)  # both panes: the welcome is as before


def test_the_guide_does_not_suggest_a_connect_across_families_without_saying_it_is_refused(loopback6):
    loopback6.server_listening()  # on ::1
    v4 = StepArgs(family=socket.AF_INET, endpoint=Endpoint(socket.AF_INET, "127.0.0.1", loopback6.endpoint.port))
    assert loopback6.session.perform(step("client-socket"), v4) is not None
    guide = next_line(loopback6.session)
    assert "refused" in guide and "IPv4" in guide and "IPv6" in guide, guide
    call = loopback6.session.perform(step("client-connect"), v4)  # and it is refused, as the guide says
    failed = next(e for e in loopback6.events.finished("client-connect") if e.call.id == call.id)
    assert isinstance(failed, StepFailed) and "ECONNREFUSED" in str(failed.error)


def test_a_multi_line_code_cell_is_indented_under_the_text_column():
    code = "while True:\n    data = conn.recv(65536)\n    if not data:\n        break"
    call = Call(1, step("server-recv-all"), "conn", code, 0.0)
    out = io.StringIO()
    Printer(out).event(StepCalled(seq=1, at=0.0, call=call))
    first, *rest = out.getvalue().splitlines()
    column = first.index("while")
    assert rest and all(line[:column].strip() == "" and line[column:].lstrip() for line in rest), out.getvalue()


def test_the_why_of_eagain_says_the_socket_is_non_blocking(loopback):
    loopback.server_listening()
    loopback.run("server-option", option=option_setting("setblocking", "0"))
    failed = loopback.run("server-accept")
    assert isinstance(failed, StepFailed)
    why = reason(failed)
    assert why is not None and "non-blocking" in why and "set not to wait" not in why, why


def test_socket_returned_tells_the_socket_as_made_even_if_bind_came_first(loopback):
    """socket()'s line is the socket as socket() made it: a bind() typed right after it, in its own thread,
    may run before socket()'s thread writes its result, and that address is bind()'s, not socket()'s."""
    session = loopback.session
    real_adopt = session.adopt

    def adopt_then_bind(sock, role, **kwargs):
        tracked = real_adopt(sock, role, **kwargs)
        sock.bind(("127.0.0.1", 0))  # what another step's thread can do the moment the socket is adopted
        return tracked

    session.adopt = adopt_then_bind
    made = loopback.run("server-socket")
    assert "laddr=('0.0.0.0', 0)" in made.result, made.result
