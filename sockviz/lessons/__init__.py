"""The built-in lessons, as scenario files (see sockviz.core.scenario)."""
