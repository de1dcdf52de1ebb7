"""The lecturer's question to the class, as the share's process keeps it: the choices and each follower's answer.

The lecturer numbers each question it asks; the share's process tallies the answers that come for it (one a
follower: a new answer replaces theirs) and hands the counts back to the lecturer's screen, which draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Question:
    """The question open to the class: which step, the choices, and the answers so far (one per follower)."""

    number: int
    step_id: str
    text: str
    choices: tuple[str, ...]
    answers: dict[int, str] = field(default_factory=dict)
    hidden: bool = False
    """Peer instruction: the class does not see the counts until the reveal."""

    def tally(self) -> dict[str, int]:
        counts = dict.fromkeys(self.choices, 0)
        for choice in self.answers.values():
            counts[choice] += 1
        return counts

    def message(self) -> dict[str, Any]:
        """The question as the class is sent it (again when its counts are shown or hidden)."""
        return {"share": "question", "question": self.number, "step": self.step_id, "text": self.text,
                "choices": list(self.choices), "tally": None if self.hidden else self.tally()}  # fmt: skip

    def reveal(self, answer: str, evidence: str) -> dict[str, Any]:
        """What every follower is sent when the step has run; each copy gets `yours` added."""
        return {"share": "reveal", "question": self.number, "answer": answer, "evidence": evidence,
                "tally": self.tally()}  # fmt: skip
