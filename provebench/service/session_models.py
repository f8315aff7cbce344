"""The proof session routes' requests and replies (``/v1/sessions``), as frozen pydantic models.

A session is advice: its replies show goals and what a step did, never a verdict. The one verdict is
``POST /v1/sessions/{id}/check``'s, the ordinary check's (a ``CheckResult``, as ``POST /v1/check`` answers).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from provebench.checking.proof_sessions import Step
from provebench.core.inputs import TimeoutSeconds
from provebench.core.proof_states import Goal, SearchBy, StepOutcome
from provebench.service.models import Target


class SessionOpen(Target):
    """``POST /v1/sessions``: a suite's problem by name (or an ad-hoc goal), as ``POST /v1/check`` names them."""

    timeout_s: TimeoutSeconds | None = Field(default=None, description="per step; capped by the problem's own")


class StepRequest(BaseModel):
    """``POST /v1/sessions/{id}/step``: one tactic, applied to the first goal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tactic: str = Field(min_length=1)


class SearchRequest(BaseModel):
    """``POST /v1/sessions/{id}/search``: theorems of the session's context by name (a substring) or term pattern."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by: SearchBy
    text: str = Field(min_length=1)


class SessionCheck(BaseModel):
    """``POST /v1/sessions/{id}/check``: ``proof``, or (without it) the proof the session's steps make."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proof: str | None = None


class SessionReply(BaseModel):
    """What opening, a step or an undo did: the goals now, or why the state did not change (``ok`` false)."""

    model_config = ConfigDict(frozen=True)

    session: str
    ok: bool
    status: str = Field(description="OK, or the verdicts' word for why not (FAIL, TIMEOUT, CHEATING, ERROR)")
    reason: str
    messages: tuple[str, ...]
    seconds: float
    goals: tuple[Goal, ...]
    steps: int = Field(description="tactics applied so far")
    solved: bool = Field(description="no goal is left: the steps make a proof, which a check still has to pass")

    @classmethod
    def of(cls, session: str, outcome: StepOutcome) -> SessionReply:
        """The reply for a session's outcome."""
        return cls(
            session=session,
            ok=outcome.ok,
            status=outcome.status,
            reason=outcome.reason,
            messages=outcome.messages,
            seconds=outcome.seconds,
            goals=outcome.goals,
            steps=outcome.steps,
            solved=outcome.solved,
        )


class SessionStep(BaseModel):
    """A tactic applied, and how many goals there were before and after it."""

    model_config = ConfigDict(frozen=True)

    tactic: str
    goals_before: int
    goals_after: int

    @classmethod
    def of(cls, step: Step) -> SessionStep:
        """The API's view of one step."""
        return cls(tactic=step.tactic, goals_before=step.goals_before, goals_after=step.goals_after)


class SessionView(BaseModel):
    """``GET /v1/sessions/{id}``: the problem, the goals, the steps so far and, once solved, the proof they make."""

    model_config = ConfigDict(frozen=True)

    session: str
    problem: str
    goals: tuple[Goal, ...]
    steps: list[SessionStep]
    solved: bool
    script: str | None = Field(description="the one tactic the steps make, once no goal is left (check it to score)")
