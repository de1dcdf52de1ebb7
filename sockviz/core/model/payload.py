"""Bytes as the user types them and as the log shows them.

Typed messages accept the escapes of a Python bytes literal that people
actually use (\\n, \\r, \\t, \\0, \\\\ and \\xHH); anything else is refused
with a reason rather than guessed at. Bytes from the network are shown the
way Python's repr() shows them, which escapes every control character, so
nothing a peer sends can style or move the terminal.
"""

from __future__ import annotations

import re

from sockviz.core.model.errors import InputError

MAX_TYPED_BYTES = 65536
PREVIEW_BYTES = 200

_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[nrt0\\]|x.{0,2}|.|$)", re.DOTALL)
_SIMPLE = {"n": b"\n", "r": b"\r", "t": b"\t", "0": b"\0", "\\": b"\\"}


def parse_payload(text: str, field: str = "message") -> bytes:
    """Turn a typed message into the bytes to send; raise InputError for a bad escape."""
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(text):
        out += text[position : match.start()].encode("utf-8")
        code = match.group(1)
        if code in _SIMPLE:
            out += _SIMPLE[code]
        elif len(code) == 3 and code[0] == "x" and all(c in "0123456789abcdefABCDEF" for c in code[1:]):
            out += bytes([int(code[1:], 16)])
        elif code.startswith("x"):
            raise InputError(field, f"\\{code} is not a byte: write \\x and two hex digits, like \\x41")
        elif code == "":
            raise InputError(field, "the message ends with a lone backslash: write \\\\ for a backslash")
        else:
            raise InputError(field, f"\\{code} is not an escape sockviz knows: use \\n \\r \\t \\0 \\\\ or \\xHH")
        position = match.end()
    out += text[position:].encode("utf-8")
    if len(out) > MAX_TYPED_BYTES:
        raise InputError(field, f"{len(out)} bytes is more than a typed message may hold ({MAX_TYPED_BYTES})")
    return bytes(out)


def show_bytes(data: bytes, limit: int = PREVIEW_BYTES) -> str:
    """A safe, one-line picture of bytes: Python's repr, cut at `limit` bytes."""
    if len(data) <= limit:
        return repr(data)
    return f"{data[:limit]!r}… ({len(data) - limit} more bytes)"
