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
_MAX_GAPS = 64
"""Gaps remembered per direction: enough for segments seen out of order, bounded if a capture drops."""

Address = tuple[str, int]


class Numbering:
    """Per direction: the base, and which sequence space the data has covered (to tell a resent segment).

    On a 2-core machine the capture can see a segment before one sent just ahead of it
    (the two arrive on different CPUs), so "below the highest byte seen" is not "sent again":
    the gaps left behind are remembered, and only bytes already covered count as resent.
    """

    def __init__(self) -> None:
        self._base: dict[tuple[Address, Address], int] = {}
        self._reached: dict[tuple[Address, Address], int] = {}
        self._gaps: dict[tuple[Address, Address], list[tuple[int, int]]] = {}

    def relative(
        self, src: Address, dst: Address, seq: int, ack: int, bits: int, length: int = 0
    ) -> tuple[int, int, int]:
        """(relative seq, relative ack, new payload bytes) of one segment, in capture order.

        New bytes are those of the payload not seen before in this direction: the rest was sent again.
        """
        key, back = (src, dst), (dst, src)
        if bits & _SYN:  # a SYN starts a connection's numbering again
            self._base[key] = seq
            self._forget(key)
            if not bits & _ACK:
                self._base.pop(back, None)
                self._forget(back)
        elif key not in self._base:
            self._base[key] = (seq - 1) % _MOD
        if bits & _ACK and back not in self._base:
            self._base[back] = (ack - 1) % _MOD
        rel_seq = (seq - self._base[key]) % _MOD
        rel_ack = (ack - self._base[back]) % _MOD if bits & _ACK else 0
        return rel_seq, rel_ack, self._cover(key, rel_seq, rel_seq + length) if length else 0

    def _forget(self, key: tuple[Address, Address]) -> None:
        self._reached.pop(key, None)
        self._gaps.pop(key, None)

    def _cover(self, key: tuple[Address, Address], start: int, end: int) -> int:
        """Mark [start, end) as seen; how many of its bytes had not been seen."""
        reached = self._reached.get(key)
        gaps = self._gaps.setdefault(key, [])
        if reached is None or start >= reached:
            if reached is not None and start > reached:
                gaps.append((reached, start))
                del gaps[:-_MAX_GAPS]
            self._reached[key] = end
            return end - start
        new = 0
        kept = []
        for low, high in gaps:
            overlap = min(high, end) - max(low, start)
            if overlap <= 0:
                kept.append((low, high))
                continue
            new += overlap
            if low < start:
                kept.append((low, start))
            if end < high:
                kept.append((end, high))
        self._gaps[key] = kept
        if end > reached:
            new += end - reached
            self._reached[key] = end
        return new
