"""What an interactive proof session shows: goals, a step's outcome, search hits. Advice, never a verdict.

A session (``checking/proof_sessions.py``) applies one tactic at a time in a checker's context; the
proof it leads to is checked as any other proof is, with every integrity layer.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict


class Hypothesis(BaseModel):
    """An assumption of a goal: its label (often empty) and statement."""

    model_config = ConfigDict(frozen=True)

    label: str
    term: str


class Goal(BaseModel):
    """One goal still to prove, and the proof system's own printing of it (assumptions included)."""

    model_config = ConfigDict(frozen=True)

    hyps: tuple[Hypothesis, ...]
    goal: str
    text: str


class StepOutcome(BaseModel):
    """What a step (or opening, undo, reading the goals) did: the goals now, or why the state did not change.

    ``status`` and ``reason`` use the verdicts' words (FAIL tactic-failed, TIMEOUT wall-timeout, CHEATING
    forbidden-construct...), and ERROR for the session itself (gone, too many, a goal that does not parse).
    """

    model_config = ConfigDict(frozen=True)

    ok: bool
    goals: tuple[Goal, ...] = ()
    steps: int = 0  # tactics applied so far (after this one, if it was applied)
    status: str = "OK"
    reason: str = ""
    messages: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def solved(self) -> bool:
        """No goal is left: the steps so far make a proof (which a check still has to pass)."""
        return self.ok and not self.goals


class SearchHit(BaseModel):
    """A theorem the context has, by name, with its statement."""

    model_config = ConfigDict(frozen=True)

    name: str
    statement: str


class SearchResult(BaseModel):
    """The theorems found (at most a bounded number), and how many more matched."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    hits: tuple[SearchHit, ...] = ()
    more: int = 0
    messages: tuple[str, ...] = ()


SearchBy = Literal["name", "term"]


class LiveSession(Protocol):
    """One proof session as a checker keeps it (a verifier's ``open_session`` returns one)."""

    @property
    def steps(self) -> int:
        """Tactics applied so far."""
        ...

    def step(self, tactic: str) -> StepOutcome:
        """Apply ``tactic`` to the first goal; on any failure the state stays as it was."""
        ...

    def undo(self) -> StepOutcome:
        """Go back one step."""
        ...

    def goals(self) -> StepOutcome:
        """The goals now."""
        ...

    def search(self, by: SearchBy, text: str) -> SearchResult:
        """Theorems of the context by name (a substring) or by a term pattern."""
        ...

    def close(self) -> None:
        """End the session in its checker."""
        ...
