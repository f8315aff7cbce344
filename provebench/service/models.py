"""The checker service's versioned JSON API (``/v1``): requests and replies, as frozen pydantic models."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from provebench.checking.contexts import ContextStatus
from provebench.core.inputs import TimeoutSeconds
from provebench.core.model import CheckerInfo, System, Verdict
from provebench.suites.load import SUITE_NAME

API_VERSION = "v1"


class Target(BaseModel):
    """What to check against: a suite's problem (``suite``, ``problem``) or an ad-hoc goal (``system``, ``goal``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: str | None = None
    problem: str | None = None
    system: System | None = None
    goal: str | None = None
    problem_hash: str | None = Field(
        default=None, description="refuse the check unless the service's problem has this hash (as the client has it)"
    )

    @field_validator("suite")
    @classmethod
    def _a_name(cls, suite: str | None) -> str | None:
        # The service reads only the suites it was started with: a path would name a server folder.
        if suite is not None and (len(suite) > 200 or not re.fullmatch(SUITE_NAME, suite)):
            raise ValueError("a suite is named by its name (the service's --suite folders and its own), not a path")
        return suite

    @model_validator(mode="after")
    def _one_target(self) -> Target:
        by_suite = self.suite is not None or self.problem is not None
        by_goal = self.system is not None or self.goal is not None
        if by_suite == by_goal:
            raise ValueError("give either suite and problem, or system and goal")
        if by_suite and (self.suite is None or self.problem is None):
            raise ValueError("a suite's problem needs both suite and problem")
        if by_goal and (self.system is None or self.goal is None):
            raise ValueError("an ad-hoc goal needs both system and goal")
        return self


class CheckItem(Target):
    """One proof of a target; ``id`` is echoed back, as batch files do."""

    id: Any = None
    proof: str


class CheckRequest(BaseModel):
    """``POST /v1/check``: one proof (the item's fields at top level) or a batch (``items``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[CheckItem] = Field(min_length=1)
    timeout_s: TimeoutSeconds | None = Field(default=None, description="per check; capped by each problem's own")
    stream: bool = Field(default=False, description="a batch's results as NDJSON lines, each as soon as it is in")


class CheckResult(BaseModel):
    """The verdict of one item, with how many infrastructure retries it took."""

    model_config = ConfigDict(frozen=True)

    id: Any = None
    verdict: Verdict
    retries: int = 0  # infrastructure retries the service took (a checker restarted under the check)


class CheckReply(BaseModel):
    """``POST /v1/check`` without streaming: every result, in input order."""

    model_config = ConfigDict(frozen=True)

    results: list[CheckResult]


class Health(BaseModel):
    """``GET /v1/health``."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ok", "draining"]
    version: str
    api: str = API_VERSION
    systems: list[System]


class Identity(BaseModel):
    """``POST /v1/identity`` (no checker starts) and ``POST /v1/warm`` (its context loaded): who checks a target."""

    model_config = ConfigDict(frozen=True)

    checker: CheckerInfo
    suite_hash: str | None
    service: str


class WarmContext(BaseModel):
    """One context of ``GET /v1/checkers``."""

    model_config = ConfigDict(frozen=True)

    system: str
    checker_image: str
    context_lines: int
    problems: int  # planned so far (a service plans each suite it is asked about whole)
    suites: list[str]
    state: str
    busy: int
    memory_mb: int
    load_seconds: float
    checks: int
    restarts: int
    checker: CheckerInfo | None

    @classmethod
    def of(cls, s: ContextStatus) -> WarmContext:
        """The API's view of one of the engine's contexts."""
        return cls(
            system=s.key[0],
            checker_image=s.key[1],
            context_lines=s.key[2].count("\n") + (1 if s.key[2] else 0),
            problems=s.problems,
            suites=list(s.suites),
            state=s.state,
            busy=s.busy,
            memory_mb=s.memory_mb,
            load_seconds=s.load_seconds,
            checks=s.checks,
            restarts=s.restarts,
            checker=s.checker,
        )


class Checkers(BaseModel):
    """``GET /v1/checkers``: the contexts, their memory and what they served."""

    model_config = ConfigDict(frozen=True)

    contexts: list[WarmContext]
    memory_budget_mb: int
    memory_reserved_mb: int
    queue_depth: int


class ErrorReply(BaseModel):
    """Every 4xx and 5xx: one line."""

    model_config = ConfigDict(frozen=True)

    error: str
