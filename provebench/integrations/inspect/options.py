"""The task's options (Inspect's ``-T`` values), validated once, and what they select: suite, problems, prompts.

Inspect hands ``-T`` values over parsed as YAML, so a list may come as ``[a, b]`` or as ``a,b``; each is
checked here with the one-line errors of a run config, since the same selection rules apply
(``runs.run.plan_run``).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from provebench.core.errors import UserError
from provebench.core.inputs import MAX_CHECKERS, TimeoutSeconds, first_error
from provebench.core.model import Problem
from provebench.core.settings import CheckerBuild, Settings
from provebench.provers.presets import known_presets, load_preset
from provebench.provers.prompt_source import PromptSource
from provebench.runs.config import RunConfig
from provebench.runs.run import RunPlan, plan_run

TASK_NAME = "provebench/suite"
ROUNDS_KEY = "provebench:rounds"  # the sample store's list of rounds: each reply, its proof and its verdict


def _listed(value: Any) -> Any:
    """``a,b`` or ``[a, b]`` (a lone value: a list of one)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, int | float):
        return (value,)
    return tuple(value) if isinstance(value, list | tuple) else value


class TaskOptions(BaseModel):
    """What ``inspect eval provebench/suite -T ...`` may set; everything else is provebench's settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: str = Field(default="hol-light-core", min_length=1, description="a suite's name, or a suite folder")
    prompt: str | None = Field(default=None, description="a bundled prompt preset")
    prompt_dir: str | None = Field(default=None, description="a folder of the user's own prompt templates")
    problems: tuple[str, ...] = Field(default=(), description="only these problem ids")
    categories: tuple[str, ...] = Field(default=(), description="only these categories")
    limit: int | None = Field(default=None, ge=1, description="a seeded random subset of this many problems")
    seed: int = Field(default=0, description="seed of that subset")
    repair_rounds: int = Field(default=0, ge=0, le=100, description="further rounds shown the checker's reply")
    pass_at: tuple[int, ...] = Field(default=(), description="pass@k over epochs to report, besides the mean")
    timeout_s: TimeoutSeconds | None = Field(default=None, description="per-check timeout for every problem")
    server: str | None = Field(default=None, description="a provebench service to check on, instead of here")
    checker: CheckerBuild | None = Field(default=None, description="HOL Light checkers: bytecode or native")
    checkers: int | None = Field(default=None, ge=1, le=MAX_CHECKERS, description="warm checkers per context")

    _lists = field_validator("problems", "categories", "pass_at", mode="before")(lambda v: _listed(v))

    @field_validator("pass_at")
    @classmethod
    def _positive(cls, ks: tuple[int, ...]) -> tuple[int, ...]:
        if any(k < 1 for k in ks):
            raise ValueError("pass_at values are positive (each k <= the number of epochs)")
        return tuple(sorted(set(ks)))

    @classmethod
    def parse(cls, args: dict[str, Any]) -> TaskOptions:
        """The options from the task's arguments; a bad one is a one-line error naming it."""
        try:
            return cls.model_validate({k: v for k, v in args.items() if v is not None})
        except ValidationError as exc:
            where, msg = first_error(exc)
            raise UserError(f"{TASK_NAME}: -T {where}: {msg}") from None

    def args(self) -> dict[str, Any]:
        """The options as JSON data (what the solver and scorer are given, and what Inspect logs)."""
        return self.model_dump(mode="json", exclude_defaults=True) | {"suite": self.suite}

    def settings(self) -> Settings:
        """The settings (``PROVEBENCH_*``) with the options that concern checking over them."""
        update: dict[str, Any] = {}
        if self.server is not None:
            update["server"] = self.server
        if self.checker is not None:
            update["checker_build"] = self.checker
        if self.checkers is not None:
            update["checkers"] = self.checkers
        try:
            return Settings().model_copy(update=update)
        except ValidationError as exc:
            where, msg = first_error(exc)
            raise UserError(f"PROVEBENCH_{where.upper()}: {msg}") from None

    def run_config(self, **more: Any) -> RunConfig:
        """The run config that selects the same problems (``import-inspect`` writes it, with ``more``)."""
        selection = {
            "suite": self.suite,
            "problems": list(self.problems),
            "categories": list(self.categories),
            "limit": self.limit,
            "seed": self.seed,
            "repair_rounds": self.repair_rounds,
            "timeout_s": self.timeout_s,
        }
        return RunConfig.model_validate(selection | more)


class ProofTask:
    """One task's plan (suite and problems) and prompts, shared by its dataset, solver and scorer."""

    def __init__(self, options: TaskOptions) -> None:
        self.options = options
        self.settings = options.settings()
        self.plan: RunPlan = plan_run(options.run_config(), self.settings)
        preset = load_preset(options.prompt) if options.prompt else None
        if preset is not None and "chat" not in preset.apis:
            chat = [name for name in known_presets() if "chat" in load_preset(name).apis]
            raise UserError(
                f"prompt preset {preset.name} is written for the completions API, and Inspect asks chat models: "
                f"choose one of {', '.join(chat)}, or none"
            )
        self.prompts = PromptSource(options.prompt, Path(options.prompt_dir) if options.prompt_dir else None, "chat")
        self.prompts.prepare(self.plan.problems)
        if options.repair_rounds and not self.prompts.can_repair:
            raise UserError(f"prompt preset {options.prompt} renders first rounds only: repair_rounds needs none")
        self._by_id = {p.id: p for p in self.plan.problems}

    def problem(self, sample_id: str | int) -> Problem:
        """The problem a sample is of; an id the task did not plan is refused (a dataset not its own)."""
        problem = self._by_id.get(str(sample_id))
        if problem is None:
            raise UserError(f"sample {sample_id!r} is not a problem of this task (suite {self.plan.suite.name})")
        return problem


@functools.lru_cache(maxsize=16)
def proof_task(options: TaskOptions) -> ProofTask:
    """The task of these options, made once per process (the suite is read and hashed once)."""
    return ProofTask(options)
