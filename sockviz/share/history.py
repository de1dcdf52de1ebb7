"""What a follower who joins late is sent first: the lecturer's session so far, as lines of the session format.

Kept in the share's process, which reads the format only as far as it must, by each line's start and as
plain JSON: it imports none of the lecturer's session. The header and the current session's first line are
kept apart; every other line of the session is kept in order, but the sockets' rows, of which only each
socket's newest matters (a late follower's table starts from it): those are merged, by the socket's `id`,
into one `sockets` record of whole rows, read as of the newest row's `at` and `after`. A row after a socket's
first holds only what changed (the session format's version 2), so it is merged into the row so far, an object
in both (the snapshot, its kernel) field by field, as the follower's reader applies it.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

HISTORY_LINES = 200_000
"""Lines of the current session kept for followers who join late (a burst of a thousand clients makes
about 5,000); beyond, the oldest go, and a late follower's log starts later."""
CATCH_UP_LINES = 2000
"""Lines per frame of a late follower's catch-up: big enough to be quick, small enough to interleave."""
SOCKETS_LINE = '{"record":"sockets"'
SESSION_LINE = '{"record":"session"'
HEADER_LINE = '{"record":"header"'


class History:
    """The current session's lines for those who join later (a reset starts it afresh)."""

    def __init__(self, lines: int = HISTORY_LINES) -> None:
        self.header = ""
        self.session = ""
        self._lines: deque[str] = deque(maxlen=lines)
        self._latest: dict[int, dict[str, Any]] = {}
        self._read_at: tuple[float, int] = (0.0, 0)

    def keep(self, line: str) -> None:
        if line.startswith(SOCKETS_LINE):
            try:
                record = json.loads(line)
                for row in record["sockets"]:
                    number = int(row["id"])
                    before = self._latest.get(number)
                    self._latest[number] = row if before is None else merged(before, row)
                self._read_at = (float(record["at"]), int(record["after"]))
            except (ValueError, KeyError, TypeError):  # the lecturer's own line: only a later format could do this
                self._lines.append(line)
        elif line.startswith(HEADER_LINE):
            self.header = line
        elif line.startswith(SESSION_LINE):
            self.session = line
            self._lines.clear()
            self._latest.clear()
        else:
            self._lines.append(line)

    def catch_up(self, hello: str, lesson: str, last: list[str]) -> list[str]:
        """The frames for a follower who joins now: the hello, the session's first lines, the lesson's panel
        (it takes its room beside the log before the log's lines are written), the session so far, then `last`
        (the facts, the open question)."""
        lines = [line for line in (hello, self.header, self.session, lesson) if line]
        lines += self._lines
        if self._latest:
            at, after = self._read_at
            rows = {"record": "sockets", "at": at, "after": after, "sockets": list(self._latest.values())}
            lines.append(json.dumps(rows, separators=(",", ":")))
        lines += (line for line in last if line)
        return ["\n".join(lines[i : i + CATCH_UP_LINES]) for i in range(0, len(lines), CATCH_UP_LINES)]


def merged(row: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """A socket's row with a change applied: each field the change has replaces the row's, but an object in
    both, which is merged the same way."""
    found = dict(row)
    for key, value in change.items():
        old = found.get(key)
        found[key] = merged(old, value) if isinstance(value, dict) and isinstance(old, dict) else value
    return found
