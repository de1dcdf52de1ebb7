"""Hosts, ports and families as typed by the user, checked before any socket call."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

from sockviz.core.model.errors import InputError
from sockviz.core.model.record import FrozenRecord

DEFAULT_PORT = 12354
"""The course's port."""

LOOPBACK = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}
FAMILY_NAMES = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}

_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")


@dataclass(frozen=True, repr=False, eq=False)
class Endpoint(FrozenRecord):
    """A checked address to bind or connect to."""

    family: socket.AddressFamily
    host: str
    """A numeric address of `family`."""
    port: int

    @property
    def address(self) -> tuple[str, int]:
        """The tuple that bind() and connect() take, written as the course writes it."""
        return (self.host, self.port)

    @property
    def all_interfaces(self) -> bool:
        """True when binding here would accept clients from every network, not only this machine."""
        return is_wildcard(self.host)


def is_wildcard(host: str) -> bool:
    """Whether a numeric address is 0.0.0.0 or ::, the address of every interface at once."""
    return ipaddress.ip_address(host.split("%")[0]).is_unspecified


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach a server on `host`: `localhost`, or a numeric loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def plain_host(host: str) -> str:
    """One spelling per host: an IPv6 socket sees an IPv4 peer as `::ffff:127.0.0.1`, and a scoped address
    carries its zone (`fe80::1%lo`); the kernel's tables and the capture write neither."""
    return host.removeprefix("::ffff:").split("%")[0]


def same_host(a: str, b: str) -> bool:
    """Whether two numeric addresses name one host, however each is spelled (see `plain_host`)."""
    return plain_host(a) == plain_host(b)


def same_ends(ends: tuple, wanted: tuple) -> bool:
    """Whether two ((host, port), (host, port)) pairs name one connection, however each spells its hosts."""
    return all(a[1] == b[1] and same_host(a[0], b[0]) for a, b in zip(ends, wanted, strict=True))


def on_this_machine(host: str) -> bool:
    """Whether a numeric address is this machine's: loopback, or the wildcard (which connect() takes as loopback)."""
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def parse_port(text: str) -> int:
    """A port number from 1 to 65535, or an InputError saying what is wrong."""
    text = text.strip()
    if not text:
        raise InputError("port", "enter a port number from 1 to 65535")
    if not text.isdecimal():
        raise InputError("port", f"{text!r} is not a whole number: a port is a number from 1 to 65535")
    port = int(text)
    if port == 0:
        raise InputError("port", "port 0 lets the kernel pick one, and the client would not know it: use 1 to 65535")
    if port > 65535:
        raise InputError("port", f"{port} is too large: TCP ports go up to 65535")
    return port


def check_host(text: str, family: socket.AddressFamily) -> str | None:
    """Check a host's form for `family`: its numeric address, or None if it is a name to look up."""
    host = text.strip()
    if not host:
        raise InputError("host", f"enter a host, such as {LOOPBACK[family]}")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise InputError("host", f"{host!r} is neither an IP address nor a host name") from None
        return None
    if family == socket.AF_INET6 and address.version == 4:
        raise InputError("host", f"{host} is an IPv4 address; in IPv6 mode use ::1, or switch to IPv4")
    if family == socket.AF_INET and address.version == 6:
        raise InputError("host", f"{host} is an IPv6 address; in IPv4 mode use 127.0.0.1, or switch to IPv6")
    return str(address)


def resolve(text: str, family: socket.AddressFamily) -> str:
    """The numeric address of a host for `family`.

    A name is looked up, which may wait on a name server: call it off the UI thread.
    """
    numeric = check_host(text, family)
    if numeric is not None:
        return numeric
    host = text.strip()
    try:
        infos = socket.getaddrinfo(host, None, family, socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise InputError(
            "host", f"{host!r} does not resolve to an {FAMILY_NAMES[family]} address ({error.strerror})"
        ) from None
    return str(infos[0][4][0])


def endpoint(host: str, port: str, family: socket.AddressFamily) -> Endpoint:
    """Check and resolve host and port together, as a scripted run wants them."""
    return Endpoint(family, resolve(host, family), parse_port(port))


def address_text(address: object) -> str:
    """An address as `ss` writes it: `127.0.0.1:47001`, `[::1]:47001` (`[fe80::1%2]:47001` with a scope). The
    family column says which family it is, and `print(s)` under the table shows Python's own tuple; the
    tuple's `('127.0.0.1', 47001)` took 20 cells a column, and at 130 columns the columns after it went off."""
    if not isinstance(address, tuple | list) or len(address) < 2:
        return str(address)
    host, port = address[0], address[1]
    if ":" not in str(host):
        return f"{host}:{port}"
    scope = address[3] if len(address) > 3 and address[3] else None
    return f"[{host}%{scope}]:{port}" if scope else f"[{host}]:{port}"
