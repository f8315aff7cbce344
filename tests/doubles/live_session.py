"""A scripted proof session DOUBLE, for tests of what carries sessions (the service's routes), not of HOL Light.

Goals are names. ``SPLIT`` replaces the first goal by two, ``DONE`` closes it, ``DIE`` is a checker that
died, ``WAIT`` holds until the test releases it; any other tactic fails and changes nothing. Real sessions
on real HOL Light: tests/integration/test_proof_sessions_real.py and test_service_sessions_real.py.
"""

from __future__ import annotations

import threading

from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Problem
from provebench.core.proof_states import Goal, LiveSession, SearchBy, SearchHit, SearchResult, StepOutcome
from tests.doubles.verifier import Script, ScriptedVerifierDouble


def _goal(name: str) -> Goal:
    return Goal(hyps=(), goal=name, text=f"`{name}`")


class LiveSessionDouble:
    """One scripted session; ``states`` holds the goals after each step (the first: the problem's goal)."""

    def __init__(self, goal: str, release: threading.Event) -> None:
        self.states: list[tuple[str, ...]] = [(goal,)]
        self.release = release
        self.closed = False

    @property
    def steps(self) -> int:
        return len(self.states) - 1

    def _now(self) -> StepOutcome:
        return StepOutcome(ok=True, goals=tuple(_goal(g) for g in self.states[-1]), steps=self.steps)

    def step(self, tactic: str) -> StepOutcome:
        if tactic == "DIE":
            self.closed = True
            raise VerifierUnavailable("the checker's container is gone")
        if tactic == "WAIT":
            self.release.wait(30)
        first, *rest = self.states[-1]
        if tactic == "SPLIT":
            self.states.append((f"{first}.1", f"{first}.2", *rest))
        elif tactic == "DONE":
            self.states.append(tuple(rest))
        else:
            return StepOutcome(
                ok=False, steps=self.steps, status="FAIL", reason="tactic-failed", messages=(f"{tactic}: no",)
            )
        return self._now()

    def undo(self) -> StepOutcome:
        if self.steps == 0:
            return StepOutcome(ok=False, status="ERROR", reason="nothing-to-undo")
        self.states.pop()
        return self._now()

    def goals(self) -> StepOutcome:
        return self._now()

    def search(self, by: SearchBy, text: str) -> SearchResult:
        return SearchResult(ok=True, hits=(SearchHit(name=f"{by.upper()}_{text}", statement=text),), more=2)

    def close(self) -> None:
        self.closed = True


class SessionVerifierDouble(ScriptedVerifierDouble):
    """The scripted verifier, with scripted sessions (a goal with ``+ +`` in it does not open)."""

    def __init__(self, script: Script, release: threading.Event) -> None:
        super().__init__(script)
        self.release = release
        self.opened: list[LiveSessionDouble] = []

    def open_session(self, problem: Problem, timeout_s: float | None = None) -> tuple[LiveSession | None, StepOutcome]:
        if "+ +" in problem.statement:
            return None, StepOutcome(ok=False, status="ERROR", reason="bad-goal", messages=("parse error\nat +",))
        live = LiveSessionDouble(problem.id, self.release)
        self.opened.append(live)
        return live, live.goals()
