"""Read-only questions to Linux: TCP_INFO and queues, snapshots, connections kept after close,
predictions of whether a call would block, and the packet capture on loopback.
"""
