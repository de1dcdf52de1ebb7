"""Recording a session: the versioned JSON-lines format of its events and snapshots, its writer and its reader.

`format` encodes and decodes each line; `sockets` is a socket as the table showed it, with no socket behind it;
`recorder` writes a live session; `playback` tells what the screen showed at any moment of a recording.
"""
