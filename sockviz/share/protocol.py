"""The share protocol: how to reach a shared session, the join code, and the one thing a follower may say.

The lecturer sends text frames of lines: the first line of the first is the share's hello (with the
protocol's version), then the session so far and from then on as it happens, each line either a line of
the session format (events, sockets' rows, narration: the README's "The session format") or one of the
share's own, a JSON object with a `share` key (`facts`, `lesson`, `question`, `tally`, `reveal`,
`withdrawn`, and `clock`: the lecturer's session time as the share sent it, at a join and at each fresh
session, from which a follower reckons the lecturer's present). A follower sends one kind of frame, and only
while a question is open: `answer`. Anything else it sends (another type, bad JSON, a frame over
`MAX_FOLLOWER_FRAME`, more than `ANSWERS_PER_SECOND`) is dropped and counted by the share's process, and the
lecturer's session never hears of it. The share ends a follower's websocket with STOPPED when the lecturer stops
sharing; any other end is a loss, after which a follower joins again.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass

PROTOCOL_VERSION = 2
"""Raised when a frame changes meaning; a follower of another version is told so, not fed frames it misreads.
Version 2: the session format's version 2 (a socket's row after its first holds what changed in it)."""

DEFAULT_SHARE_PORT = 8765
FOLLOW_PATH = "/follow"
"""The websocket's path; the join code goes in its query (`/follow?code=K7QF3M`), so a wrong one is
refused before any frame of the session is sent."""

STOPPED = 4000
"""The websocket close code of a lecturer who stopped sharing: a follower does not try again."""
LET_GO = 4001
"""The close code of a follower let go because it fell too far behind: it joins again, and gets the state so far.
Any other end (the lecturer's machine gone, the network, the share's process) is a loss: a follower tries again."""

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I, so a code read off a projector is typed right."""
CODE_LENGTH = 6
"""32**6, about a billion codes: far more than a class can try, with failed tries slowed down by the server."""

MAX_FOLLOWER_FRAME = 4096
"""The biggest frame a follower may send, in bytes: an answer is about 60. A bigger one ends its connection."""

ANSWERS_PER_SECOND = 10
"""How many frames a second a follower may send (a burst of twice as many is let through): a student
answers with one key, so more is a flood, dropped and counted."""


def new_code() -> str:
    """A fresh join code: `K7QF3M`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def plain_code(text: str) -> str:
    """A code as typed (`k7qf-3m`) in the form it is given out (`K7QF3M`)."""
    return re.sub(r"[\s-]", "", text).upper()


def same_code(given: str, code: str) -> bool:
    """Whether a follower's code is the session's, in a time that does not tell how much of it was right."""
    return hmac.compare_digest(plain_code(given).encode(), code.encode())


def parse_address(text: str, default_port: int = DEFAULT_SHARE_PORT) -> tuple[str, int]:
    """`HOST[:PORT]` as `sockviz follow` takes it: `127.0.0.1`, `127.0.0.1:8765`, `[::1]:8765`, `::1`.

    Raises ValueError with the reason."""
    text = text.strip()
    if not text:
        raise ValueError("no address given: sockviz follow HOST[:PORT]")
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r} is not [IPv6]:PORT")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:  # a name, an IPv4 address, or a bare IPv6 address (several colons)
        host, port_text = text, ""
    if not host:
        raise ValueError(f"{text!r} has no host")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{port_text!r} is not a port (1 to 65535)")
    return host, int(port_text)


def follow_url(host: str, port: int, code: str) -> str:
    url_host = f"[{host}]" if ":" in host else host
    return f"http://{url_host}:{port}{FOLLOW_PATH}?code={plain_code(code)}"


def follow_command(host: str, port: int, code: str) -> str:
    """What students type: `sockviz follow 127.0.0.1:8765 --code K7QF3M`."""
    url_host = f"[{host}]" if ":" in host else host
    return f"sockviz follow {url_host}:{port} --code {code}"


@dataclass(frozen=True)
class Answer:
    """A follower's answer to the open question."""

    question: int
    choice: str


class Dropped(ValueError):
    """A follower's frame that the lecturer drops; its message is the reason, as counted."""


def read_answer(text: str | bytes, question: int | None, choices: tuple[str, ...]) -> Answer:
    """The answer in a follower's frame, or Dropped with why: the only frame a follower may send."""
    if isinstance(text, bytes):
        raise Dropped("not text")
    if len(text) > MAX_FOLLOWER_FRAME:
        raise Dropped("oversized")
    try:
        message = json.loads(text)
    except ValueError:
        raise Dropped("malformed") from None
    if not isinstance(message, dict) or message.get("type") != "answer":
        raise Dropped("not an answer")
    if question is None:
        raise Dropped("no open question")
    if message.get("question") != question:
        raise Dropped("another question")
    choice = message.get("choice")
    if not isinstance(choice, str) or choice not in choices:
        raise Dropped("not a choice")
    return Answer(question, choice)


def answer_frame(question: int, choice: str) -> str:
    return json.dumps({"type": "answer", "question": question, "choice": choice})


class RateLimit:
    """A token bucket: `ANSWERS_PER_SECOND` frames a second, bursts of twice as many."""

    def __init__(self, rate: float = ANSWERS_PER_SECOND, now: float = 0.0) -> None:
        self.rate = rate
        self.tokens = 2 * rate
        self.at = now

    def allow(self, now: float) -> bool:
        self.tokens = min(2 * self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
