"""Socket options set before the call they change, each with its Python line."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

from sockviz.core.model.errors import InputError
from sockviz.core.model.record import FrozenRecord

Value = int | float | None


def _flag(text: str) -> int:
    if text.strip() not in ("0", "1"):
        raise InputError("value", "this option is 1 (on) or 0 (off)")
    return int(text)


def _byte_count(text: str) -> int:
    text = text.strip().replace("_", "")
    if not text.isdecimal() or not 1 <= int(text) <= 64 * 1024 * 1024:
        raise InputError("value", "a buffer size in bytes, from 1 to 67108864 (the kernel doubles it)")
    return int(text)


def parse_timeout(text: str) -> float | None:
    """A timeout in seconds, or None (typed `None`) to wait for ever; raises InputError with a reason."""
    return _timeout(text)


def _timeout(text: str) -> float | None:
    text = text.strip()
    if text.lower() == "none":
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise InputError("value", "seconds (like 2 or 0.5), or None to wait for ever") from None
    if not 0 <= seconds <= 3600:
        raise InputError("value", "seconds from 0 to 3600, or None")
    return seconds


def _set_int(level: int, name: int) -> Callable[[socket.socket, Value], None]:
    return lambda sock, value: sock.setsockopt(level, name, int(value or 0))


def _get_int(level: int, name: int) -> Callable[[socket.socket], str]:
    return lambda sock: str(sock.getsockopt(level, name))


def _set_linger(sock: socket.socket, value: Value) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1 if value else 0, 0))


def _get_linger(sock: socket.socket) -> str:
    on, seconds = struct.unpack("ii", sock.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))
    return f"({on}, {seconds})"


def _set_blocking(sock: socket.socket, value: Value) -> None:
    sock.setblocking(bool(value))


def _set_timeout(sock: socket.socket, value: Value) -> None:
    sock.settimeout(value)


@dataclass(frozen=True, repr=False, eq=False)
class Option(FrozenRecord):
    """One option: how it is written in Python, how its value is typed, what it changes."""

    name: str
    code: str
    """With `{sock}` and `{value}`."""
    parse: Callable[[str], Value]
    apply: Callable[[socket.socket, Value], None]
    read: Callable[[socket.socket], str]
    default: str
    explains: str
    method: str = "setsockopt"
    """The socket method the line calls, as the log names it: `setblocking()` is no setsockopt()."""

    def line(self, sock_name: str, value: Value) -> str:
        return self.code.format(sock=sock_name, value=value, on=1 if value else 0, flag=bool(value))


def _socket_level(name: str, parse: Callable[[str], Value], default: str, explains: str) -> Option:
    """An integer option of SOL_SOCKET: its line, setter and getter all follow from its name."""
    number = getattr(socket, name)
    code = f"{{sock}}.setsockopt(socket.SOL_SOCKET, socket.{name}, {{value}})"
    apply, read = _set_int(socket.SOL_SOCKET, number), _get_int(socket.SOL_SOCKET, number)
    return Option(name, code, parse, apply, read, default, explains)


OPTIONS: tuple[Option, ...] = (
    _socket_level(
        "SO_REUSEADDR",
        _flag,
        "1",
        "Lets bind() take a port whose old connections still linger in TIME_WAIT. Set it before bind().",
    ),
    _socket_level(
        "SO_RCVBUF",
        _byte_count,
        "16384",
        "The receive buffer. Small buffers fill fast, so a blocking sendall() is easy to see.",
    ),
    _socket_level(
        "SO_SNDBUF", _byte_count, "16384", "The send buffer: how much sendall() can hand to the kernel before it waits."
    ),
    Option(
        "SO_LINGER",
        "{sock}.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', {on}, 0))",
        _flag,
        _set_linger,
        _get_linger,
        "1",
        "With (1, 0), close() aborts the connection: it sends RST instead of FIN, and no TIME_WAIT follows.",
    ),
    Option(
        "setblocking",
        "{sock}.setblocking({flag})",
        _flag,
        _set_blocking,
        lambda sock: repr(sock.getblocking()),
        "0",
        "setblocking(False) makes the socket non-blocking: accept() and recv() with nothing waiting, connect() "
        "and a full sendall() raise BlockingIOError (EAGAIN) at once instead of waiting. True makes it wait again. "
        "Each socket has its own setting: a connection accept() returns is blocking whatever s is.",
        method="setblocking",
    ),
    Option(
        "settimeout",
        "{sock}.settimeout({value})",
        _timeout,
        _set_timeout,
        lambda sock: repr(sock.gettimeout()),
        "2",
        "0 makes the socket non-blocking (a call that would wait raises BlockingIOError); 2 waits at most "
        "2 s, then raises TimeoutError; None waits for ever. It applies to calls made after it.",
        method="settimeout",
    ),
)

OPTIONS_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}


@dataclass(frozen=True, repr=False, eq=False)
class OptionSetting(FrozenRecord):
    """An option with its parsed value, ready to run."""

    option: Option
    value: Value


def option_setting(name: str, text: str) -> OptionSetting:
    """Parse a typed value for an option; raises InputError with a reason."""
    option = OPTIONS_BY_NAME[name]
    return OptionSetting(option, option.parse(text))
