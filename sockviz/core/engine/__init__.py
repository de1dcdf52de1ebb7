"""The engine: the session that owns every socket and runs each step's real call, in the caller's thread."""
