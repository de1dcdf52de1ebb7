"""The built-in lessons: scenario files shipped in the package, found by name."""

from __future__ import annotations

from importlib import resources

SUFFIX = ".sockviz"


def names() -> list[str]:
    """The lessons there are, by name: `echo`, `blocking-order`, ..."""
    folder = resources.files("sockviz.core.scenario.lessons")
    return sorted(entry.name.removesuffix(SUFFIX) for entry in folder.iterdir() if entry.name.endswith(SUFFIX))


def text(name: str) -> str:
    """A lesson's scenario text; KeyError names the lessons there are."""
    if name not in names():
        raise KeyError(f"no lesson {name!r}: there are {', '.join(names())}")
    return (resources.files("sockviz.core.scenario.lessons") / f"{name}{SUFFIX}").read_text(encoding="utf-8")


def summary(name: str) -> str:
    """The first comment line of a lesson: what it teaches."""
    first = text(name).splitlines()[0]
    return first.lstrip("# ").strip()
