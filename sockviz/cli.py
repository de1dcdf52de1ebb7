"""The `sockviz` command: the app, or `sockviz run` to play a scenario with no screen."""

from __future__ import annotations

import argparse
import resource
import shutil
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from sockviz.core import DEFAULT_PORT, InputError, Side, check_host, parse_port
from sockviz.core.model.addresses import LOOPBACK, Endpoint
from sockviz.serve import DEFAULT_WEB_PORT, web_host_problem


def _port(text: str) -> int:
    try:
        return parse_port(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(error.reason) from None


def _address_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address the server binds and the client connects to "
                        "(default: 127.0.0.1, or ::1 with -6)")  # fmt: skip
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port, TCP or UDP (default: {DEFAULT_PORT}, the course's)"
    )
    parser.add_argument(
        "-6", "--ipv6", action="store_true", help="use IPv6: sockets are AF_INET6 and the host defaults to ::1"
    )


def _check_host(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.host is not None:
        try:
            check_host(args.host, socket.AF_INET6 if args.ipv6 else socket.AF_INET)
        except InputError as error:
            parser.error(f"--host: {error.reason}")


def parse_args(argv: Sequence[str] | None = None, prog: str = "sockviz") -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="See the life of a TCP socket: both ends of a real connection, one call per click. "
        "`sockviz server` and `sockviz client` play one side each (the peer may be nc, or another machine); "
        "`sockviz run --help` plays a scenario with no screen.",
    )
    _address_options(parser)
    parser.add_argument("--udp", action="store_true", help="start with UDP: socket() makes SOCK_DGRAM sockets, and "
                        "the steps call sendto() and recvfrom() (d switches in the app)")  # fmt: skip
    from sockviz.core.scenario import lessons

    lesson = parser.add_mutually_exclusive_group()
    lesson.add_argument("--scenario", type=Path, help="load a scenario file, ready to play (space plays)")
    lesson.add_argument("--lesson", choices=lessons.names(), help="load a built-in lesson, ready to play")
    parser.add_argument("--record", type=Path, metavar="FILE",
                        help="write the session to FILE in the session format, for `sockviz replay FILE`")  # fmt: skip
    parser.add_argument("--predict", action="store_true",
                        help="start in predict mode (f5): say what each step that can block or fail will do, "
                        "then see what it did, and keep the score")  # fmt: skip
    web = parser.add_argument_group("browser mode")
    web.add_argument("--serve", action="store_true",
                     help="serve the app to web browsers (each tab runs its own sockviz on this machine)")  # fmt: skip
    web.add_argument("--port-web", type=_port, default=DEFAULT_WEB_PORT, help=f"web port (default: {DEFAULT_WEB_PORT})")
    web.add_argument("--host-web", default="127.0.0.1",
                     help="address to serve the page on (default: 127.0.0.1); one that browsers can reach")  # fmt: skip
    args = parser.parse_args(argv)
    _check_host(parser, args)
    problem = web_host_problem(args.host_web)
    if args.serve and problem:
        parser.error(f"--host-web: {problem}")
    if args.serve and args.record:
        parser.error("--record: each browser tab runs a sockviz of its own; record from a terminal instead")
    return args


def parse_run_args(argv: Sequence[str]) -> argparse.Namespace:
    from sockviz.core.scenario import lessons

    parser = argparse.ArgumentParser(
        prog="sockviz run",
        description="Play a scenario (one step per line) with no screen, print the story, and exit 1 if an "
        "`expect` line fails (2 if the scenario is malformed).",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", type=Path, help="a scenario file")
    source.add_argument("--lesson", choices=lessons.names(), help="a built-in lesson")
    parser.add_argument(
        "--json",
        action="store_true",
        help='print the session format (JSON lines, the README\'s "The session format") instead of text',
    )
    parser.add_argument("--record", type=Path, metavar="FILE",
                        help="write the session format to FILE, for `sockviz replay FILE`")  # fmt: skip
    parser.add_argument("--speed", type=float, default=1.0, help="divide every pause by this (default 1)")
    parser.add_argument("--timeline", action="store_true", help="end with the timeline: a lane per socket in time")
    _address_options(parser)
    args = parser.parse_args(argv)
    _check_host(parser, args)
    return args


def _allow_many_sockets() -> None:
    """A burst of 1,000 clients and their 1,000 accepted connections needs more than the usual 1,024 fds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def run_main(argv: Sequence[str]) -> int:
    from sockviz.core import resolve
    from sockviz.core.scenario import lessons
    from sockviz.headless import run

    args = parse_run_args(argv)
    family = socket.AF_INET6 if args.ipv6 else socket.AF_INET
    try:
        text = lessons.text(args.lesson) if args.lesson else args.file.read_text(encoding="utf-8")
    except OSError as error:
        sys.stderr.write(f"sockviz: cannot read the scenario: {error}\n")
        return 2
    try:
        host = resolve(args.host or LOOPBACK[family], family)
    except InputError as error:
        sys.stderr.write(f"sockviz: --host: {error.reason}\n")
        return 2
    width = shutil.get_terminal_size((100, 24)).columns if args.timeline else None
    try:
        record = args.record.open("w", encoding="utf-8") if args.record else None
    except OSError as error:
        sys.stderr.write(f"sockviz: --record: cannot write {args.record}: {error.strerror}\n")
        return 2
    try:
        return run(text, Endpoint(family, host, args.port), as_json=args.json, record=record, speed=args.speed,
                   timeline_width=width)  # fmt: skip
    finally:
        if record is not None:
            record.close()


def parse_replay_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sockviz replay",
        description="Play back a session recorded with --record (or printed by `sockviz run --json`), read-only: "
        "space plays, n shows the next moment, ← the one before. It opens no socket.",
    )
    parser.add_argument("file", type=Path, help="a recording in the session format")
    return parser.parse_args(argv)


def replay_main(argv: Sequence[str]) -> int:
    from sockviz.core.story.recording.format import FormatError
    from sockviz.replay import ReplayApp, read_playback

    args = parse_replay_args(argv)
    try:
        playback = read_playback(args.file)
    except OSError as error:
        sys.stderr.write(f"sockviz: cannot read {args.file}: {error.strerror}\n")
        return 2
    except FormatError as error:
        sys.stderr.write(f"sockviz: not replayed: {error}\n")
        return 2
    app = ReplayApp(playback, args.file.name)
    app.run()
    return app.return_code or 0


def _app_argv(args: argparse.Namespace, only: Side | None) -> list[str]:
    """The options of this command that the served app takes, for each browser tab's sockviz."""
    argv = [] if only is None else [str(only)]
    argv += ["--port", str(args.port)] + (["--host", args.host] if args.host else []) + (["-6"] if args.ipv6 else [])
    argv += ["--udp"] if args.udp else []
    if args.predict:
        argv.append("--predict")
    if args.lesson:
        argv += ["--lesson", args.lesson]
    elif args.scenario:
        argv += ["--scenario", str(args.scenario.resolve())]
    return argv


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    _allow_many_sockets()
    if argv[:1] == ["run"]:
        sys.exit(run_main(argv[1:]))
    if argv[:1] == ["replay"]:
        sys.exit(replay_main(argv[1:]))
    only = None
    if argv[:1] in (["server"], ["client"]):
        only, argv = Side(argv[0]), argv[1:]
    args = parse_args(argv, prog=f"sockviz {only.value}" if only else "sockviz")
    if args.serve:
        from sockviz.serve import serve

        serve(_app_argv(args, only), args.host_web, args.port_web)
        return
    scenario = None
    if args.lesson:
        from sockviz.core.scenario import lessons

        scenario = (f"lesson: {args.lesson}", lessons.text(args.lesson))
    elif args.scenario:
        try:
            scenario = (f"scenario: {args.scenario.name}", args.scenario.read_text(encoding="utf-8"))
        except OSError as error:
            sys.exit(f"sockviz: cannot read the scenario: {error}")
    from sockviz import ending

    if ending.served():
        ending.follow_the_server()  # a browser tab's app ends with its server, however the server ends
    from sockviz.app import SockvizApp  # after argument checks, so --help stays fast

    try:
        record = args.record.open("w", encoding="utf-8") if args.record else None
    except OSError as error:
        sys.exit(f"sockviz: --record: cannot write {args.record}: {error.strerror}")
    app = SockvizApp(host=args.host, port=args.port, ipv6=args.ipv6, scenario=scenario, only=only, udp=args.udp,
                     record=record, predict=args.predict)  # fmt: skip
    try:
        app.run()
    finally:
        if record is not None:
            record.close()
    sys.exit(app.return_code or 0)  # Textual sets 1 when it ended the app on an error: the shell must hear it
