"""Relative sequence and acknowledgement numbers, the way Wireshark shows them.

Wireshark subtracts a base per direction of a connection. A SYN sets the base to
its own sequence number, so the SYN is seq 0 and the first data byte is 1. A
capture that begins mid-connection has no SYN to go by: the first segment seen
in a direction is numbered 1 (base = its seq - 1), and until the other direction
has been seen, an acknowledgement number sets that direction's base (ack - 1).
(Checked against `tshark -T fields -e tcp.seq -e tcp.ack` on a capture started
mid-connection.)
"""

from __future__ import annotations

_SYN, _ACK = 0x02, 0x10
_MOD = 2**32
_HALF = 2**31
"""Sequence numbers compare as RFC 1982 says: within half the space ahead is after, within half behind before."""
_MAX_GAPS = 64
"""Gaps remembered per direction: enough for segments seen out of order, bounded if a capture drops."""

Address = tuple[str, int]


class _Direction:
    """One direction of one connection: its base, the highest byte reached, the gaps left behind.

    `reached` and the gaps count from the base without wrapping (past 4 GiB they pass 2**32): a segment's start is
    unwrapped to the one nearest `reached` before it is covered."""

    __slots__ = ("base", "gaps", "reached")

    def __init__(self) -> None:
        self.base: int | None = None
        self.reached: int | None = None
        self.gaps: list[tuple[int, int]] = []

    def forget(self) -> None:
        self.reached = None
        self.gaps = []

    def cover(self, start: int, end: int) -> int:
        """Mark [start, end) as seen; how many of its bytes had not been seen."""
        reached = self.reached
        if reached is None or start >= reached:
            if reached is not None and start > reached:
                gaps = self.gaps
                gaps.append((reached, start))
                del gaps[:-_MAX_GAPS]
            self.reached = end
            return end - start
        new = 0
        kept = []
        for low, high in self.gaps:
            overlap = min(high, end) - max(low, start)
            if overlap <= 0:
                kept.append((low, high))
                continue
            new += overlap
            if low < start:
                kept.append((low, start))
            if end < high:
                kept.append((end, high))
        self.gaps = kept
        if end > reached:
            new += end - reached
            self.reached = end
        return new


class Numbering:
    """Per direction: the base, and which sequence space the data has covered (to tell a resent segment).

    On a 2-core machine the capture can see a segment before one sent just ahead of it
    (the two arrive on different CPUs), so "below the highest byte seen" is not "sent again":
    the gaps left behind are remembered, and only bytes already covered count as resent.
    """

    def __init__(self) -> None:
        self._pairs: dict[tuple[Address, Address], tuple[_Direction, _Direction]] = {}
        """(this direction, the other) by (src, dst): one look-up a segment."""

    def pair(self, src: Address, dst: Address) -> Pair:
        """The directions of `src` to `dst` and back: the reader keeps them per connection, for `numbered`."""
        pair = self._pairs.get((src, dst))
        if pair is None:
            forward, back = _Direction(), _Direction()
            self._pairs[(src, dst)], self._pairs[(dst, src)] = (forward, back), (back, forward)
            pair = (forward, back)
        return pair

    def relative(
        self, src: Address, dst: Address, seq: int, ack: int, bits: int, length: int = 0
    ) -> tuple[int, int, int]:
        """(relative seq, relative ack, new payload bytes) of one segment, in capture order.

        New bytes are those of the payload not seen before in this direction: the rest was sent again.
        """
        return numbered(self.pair(src, dst), seq, ack, bits, length)


Pair = tuple[_Direction, _Direction]
"""A direction of a connection and the other one."""


def numbered(pair: Pair, seq: int, ack: int, bits: int, length: int) -> tuple[int, int, int]:
    """`Numbering.relative` of a segment whose directions are `pair`."""
    forward, back = pair
    if bits & _SYN:  # a SYN starts a connection's numbering again
        forward.base = seq
        forward.forget()
        if not bits & _ACK:
            back.base = None
            back.forget()
    elif forward.base is None:
        forward.base = (seq - 1) % _MOD
    if bits & _ACK and back.base is None:
        back.base = (ack - 1) % _MOD
    rel_seq = (seq - forward.base) % _MOD
    rel_ack = (ack - back.base) % _MOD if bits & _ACK and back.base is not None else 0
    if not length:
        return rel_seq, rel_ack, 0
    start, reached = rel_seq, forward.reached
    if reached is not None:  # the sequence space wraps every 4 GiB: the start nearest the data reached so far
        start = reached + (rel_seq - reached + _HALF) % _MOD - _HALF
    return rel_seq, rel_ack, forward.cover(start, start + length)
