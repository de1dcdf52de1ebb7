"""The `sockviz` command."""

from __future__ import annotations

import argparse
import resource
import socket
from collections.abc import Sequence

from sockviz.core import DEFAULT_PORT, InputError, check_host, parse_port


def _port(text: str) -> int:
    try:
        return parse_port(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(error.reason) from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sockviz",
        description="See the life of a TCP socket: both ends of a real connection, one call per click.",
    )
    parser.add_argument(
        "--host", help="address the server binds and the client connects to (default: 127.0.0.1, or ::1 with -6)"
    )
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"TCP port (default: {DEFAULT_PORT}, the course's)"
    )
    parser.add_argument(
        "-6", "--ipv6", action="store_true", help="use IPv6: sockets are AF_INET6 and the host defaults to ::1"
    )
    args = parser.parse_args(argv)
    if args.host is not None:
        try:
            check_host(args.host, socket.AF_INET6 if args.ipv6 else socket.AF_INET)
        except InputError as error:
            parser.error(f"--host: {error.reason}")
    return args


def _allow_many_sockets() -> None:
    """A burst of 1,000 clients and their 1,000 accepted connections needs more than the usual 1,024 fds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    _allow_many_sockets()
    from sockviz.app import SockvizApp  # after argument checks, so --help stays fast

    SockvizApp(host=args.host, port=args.port, ipv6=args.ipv6).run()
