"""Sharing a session with a class: the lecturer's `sockviz --share`, the students' `sockviz follow`.

The lecturer's app writes its session in the session format (events, each socket's row when it changes,
narration) and the share's own lines (facts, lesson panel, the class's question) down a pipe to the share's
process (`server`, `link`), which serves them, read-only, over websockets to every follower (`process`,
`followers`, `history`, `question`: aiohttp's server, off the lecturer's GIL). A follower rebuilds the
session from them (`client`, `mirror`) and shows it on the same screen. Nothing here imports Textual: the
benchmark's headless followers use this code as it is.
"""
