"""The kernel filter: a classic BPF program that keeps the session's TCP and UDP ports and cuts each frame short.

tcpdump compiles `tcp port P` into the same kind of program; the one needed here
is a list of ports, so it is written out directly (no libpcap). The kernel runs
it on every frame of lo before anything is copied, so a transfer on another
port costs the capture nothing, and a 64 KiB segment is cut to its headers and
preview. ICMP and ICMPv6 are kept whatever their ports (the reader keeps only a port
unreachable, the answer to a datagram nobody listens for): on lo they come only as answers.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable

from sockviz.core.kernel.capture.frames import ETHER_HEADER, SNAP_LENGTH

SO_ATTACH_FILTER = 26
MAX_FILTER_PORTS = 400
"""Past this many ports the kernel keeps every TCP frame on lo (still cut short) and the reader picks."""

Instruction = tuple[int, int, int, int]

_LD_H_ABS, _LD_B_ABS, _LDX_B_MSH, _LD_H_IND = 0x28, 0x30, 0xB1, 0x48
_JEQ_K, _JSET_K, _JA, _RET_K = 0x15, 0x45, 0x05, 0x06


def bpf_program(ports: Iterable[int] | None, snap: int = SNAP_LENGTH) -> list[Instruction]:
    """Classic BPF for `(tcp or udp) and (port P or port Q ...) or icmp or icmp6` on an Ethernet frame,
    keeping `snap` bytes.

    None for ports keeps every TCP frame. Each port test is a `jeq` and a long jump to the accepting
    return (a conditional jump reaches only 255 instructions), so the program has 4 instructions
    per port, well under the kernel's 4,096 for MAX_FILTER_PORTS.
    """
    wanted = sorted(set(ports)) if ports is not None else None
    code: list[Instruction] = []
    accept: list[int] = []  # indexes of jumps to patch to the accepting return
    drop: list[int] = []

    def emit(op: int, jt: int = 0, jf: int = 0, k: int = 0) -> int:
        code.append((op, jt, jf, k))
        return len(code) - 1

    def port_tests(load: int, load_at: int) -> None:
        emit(load, k=load_at)
        if wanted is None:
            accept.append(emit(_JA))
            return
        for port in wanted:
            emit(_JEQ_K, 0, 1, port)
            accept.append(emit(_JA))

    emit(_LD_H_ABS, k=12)  # the ethertype: each test jumps long, as the IPv4 part is 8 instructions a port
    emit(_JEQ_K, 0, 1, 0x0800)
    ipv4 = emit(_JA)
    emit(_JEQ_K, 0, 1, 0x86DD)
    ipv6 = emit(_JA)
    drop.append(emit(_JA))
    code[ipv4] = (_JA, 0, 0, len(code) - ipv4 - 1)
    emit(_LD_B_ABS, k=ETHER_HEADER + 9)  # IPv4: protocol
    emit(_JEQ_K, 4, 0, socket.IPPROTO_TCP)  # to the fragment test, past the four below
    emit(_JEQ_K, 3, 0, socket.IPPROTO_UDP)
    emit(_JEQ_K, 0, 1, socket.IPPROTO_ICMP)
    accept.append(emit(_JA))
    drop.append(emit(_JA))
    emit(_LD_H_ABS, k=ETHER_HEADER + 6)  # a later fragment has no TCP or UDP header
    emit(_JSET_K, 0, 1, 0x1FFF)
    drop.append(emit(_JA))
    emit(_LDX_B_MSH, k=ETHER_HEADER)  # X = the IPv4 header's length
    port_tests(_LD_H_IND, ETHER_HEADER)
    port_tests(_LD_H_IND, ETHER_HEADER + 2)
    drop.append(emit(_JA))
    code[ipv6] = (_JA, 0, 0, len(code) - ipv6 - 1)
    emit(_LD_B_ABS, k=ETHER_HEADER + 6)  # IPv6: next header
    emit(_JEQ_K, 4, 0, socket.IPPROTO_TCP)  # to the port tests, past the four below
    emit(_JEQ_K, 3, 0, socket.IPPROTO_UDP)
    emit(_JEQ_K, 0, 1, socket.IPPROTO_ICMPV6)
    accept.append(emit(_JA))
    drop.append(emit(_JA))
    port_tests(_LD_H_ABS, ETHER_HEADER + 40)
    port_tests(_LD_H_ABS, ETHER_HEADER + 42)
    drop.append(emit(_JA))
    dropping = emit(_RET_K, k=0)
    accepting = emit(_RET_K, k=snap)
    for index in accept:
        code[index] = (_JA, 0, 0, accepting - index - 1)
    for index in drop:
        code[index] = (_JA, 0, 0, dropping - index - 1)
    return code


def program_for(ports: frozenset[int]) -> tuple[list[Instruction], bool]:
    """The program for the session's ports, and whether it keeps every TCP frame (too many ports)."""
    if len(ports) > MAX_FILTER_PORTS:
        return bpf_program(None), True
    return bpf_program(ports), False


def attach_filter(raw: socket.socket, program: list[Instruction]) -> None:
    """SO_ATTACH_FILTER: the kernel swaps the old program for the new one at once."""
    import ctypes  # only the capture needs it

    instructions = b"".join(struct.pack("HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(instructions)
    fprog = struct.pack("HL", len(program), ctypes.addressof(buffer))  # struct sock_fprog
    raw.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
