"""Scenarios: lessons written as plain text, parsed, played against a session, and the built-in lessons."""
