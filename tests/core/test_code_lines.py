"""The Python line of a call, written from the step's template and arguments alone (no socket)."""

from __future__ import annotations

import socket

from sockviz.core import STEPS, Endpoint, StepArgs, step
from sockviz.core.model.code_lines import code_line
from sockviz.core.model.options import OPTIONS_BY_NAME, OptionSetting

HERE = Endpoint(socket.AF_INET6, "::1", 12354)


def line(step_id: str, args: StepArgs | None = None, name: str = "s", *, new: str | None = None, piece: int = 4096,
         in_flight: bool = False) -> str:  # fmt: skip
    return code_line(step(step_id), args or StepArgs(), name, new=new or name, piece=piece, in_flight=in_flight)


def test_every_placeholder_of_the_catalogue_is_filled():
    option = OptionSetting(OPTIONS_BY_NAME["SO_REUSEADDR"], True)
    args = StepArgs(endpoint=HERE, option=option, payload=b"hi")
    for chosen in STEPS:
        written = code_line(chosen, args, "s", new="conn", piece=4096, in_flight=False)
        assert "{" not in written and "}" not in written, written


def test_accept_names_the_new_connection_and_socket_the_new_socket():
    assert line("server-accept", name="s", new="conn2") == "conn2, addr = s.accept()"
    assert line("client-socket", StepArgs(family=socket.AF_INET6), name="c2") == (
        "c2 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)"
    )


def test_a_bulk_send_is_written_in_pieces_of_the_size_given():
    written = line("client-send", StepArgs(bulk=100_000), name="c", piece=8192)
    assert written == "for i in range(0, 100000, 8192): c.sendall(generated(i, min(8192, 100000 - i)))"


def test_send_echoes_without_a_message_and_writes_the_message_escaped():
    assert line("server-send", name="conn") == "conn.sendall(data)"
    assert line("server-send", StepArgs(payload=b"a\x00b"), name="conn") == "conn.sendall(b'a\\x00b')"


def test_close_with_calls_in_flight_first_shuts_the_socket_down():
    assert line("client-close", name="c") == "c.close()"
    assert line("client-close", name="c", in_flight=True) == "c.shutdown(socket.SHUT_RDWR); c.close()"


def test_listen_without_a_backlog_leaves_the_default_and_shutdown_names_its_direction():
    assert line("server-listen") == "s.listen()"
    assert line("server-shutdown", StepArgs(how=socket.SHUT_WR), name="conn") == "conn.shutdown(socket.SHUT_WR)"
