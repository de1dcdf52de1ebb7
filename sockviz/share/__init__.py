"""Sharing a session with a class: the lecturer's `sockviz --share`, the students' `sockviz follow`.

The lecturer's app publishes its session's event stream and, four times a second, a picture of its
sockets (their snapshots and what the session knows of them), read-only, over websockets (aiohttp's
server and client). A follower rebuilds the session from them (`mirror.Mirror`) and shows it on the
same screen. Nothing here imports Textual: the benchmark's headless followers use this code as it is.
"""
