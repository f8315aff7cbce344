"""Checking proofs outside a run: reading one proof, a batch file, ad-hoc goals (the engine checks them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provebench.containers import RECIPES
from provebench.core.errors import UserError
from provebench.core.inputs import read_jsonl
from provebench.core.model import Problem, System
from provebench.core.settings import Settings
from provebench.suites.load import Suite, find_suite

DEFAULT_GOAL_TIMEOUT_S = 30.0


def system_image(system: System) -> str:
    """The checker image name for ad-hoc goals of ``system``."""
    for name, r in RECIPES.items():
        if r.system is system:
            return name
    raise UserError(f"no checker image for {system.value} yet")


def adhoc_problem(system: System, goal: str, timeout_s: float | None) -> Problem:
    """A problem for a goal given on the command line."""
    if not goal.strip():
        raise UserError("the goal is empty")
    if system is System.HOL_LIGHT:
        goal = goal.strip()
        if len(goal) >= 2 and goal[0] == goal[-1] == "`":
            goal = goal[1:-1]  # accept HOL Light's own quotation marks
    return Problem.adhoc(system, goal, timeout_s or DEFAULT_GOAL_TIMEOUT_S, system_image(system))


@dataclass(frozen=True)
class BatchItem:
    """One line of a batch file, resolved."""

    id: Any
    problem: Problem
    proof: str


def parse_batch(path: str, suite: Suite | None, system: System | None, timeout_s: float | None) -> list[BatchItem]:
    """Read and validate every line of a batch file before any check runs."""
    items = []
    for where, obj in read_jsonl(Path(path), "batch file"):
        if not isinstance(obj, dict) or not isinstance(obj.get("proof"), str):
            raise UserError(f"{where}: needs a string field 'proof'")
        if isinstance(obj.get("problem"), str):
            if suite is None:
                raise UserError(f"{where}: has 'problem' but no --suite was given")
            problem = suite.problem(obj["problem"])
        elif isinstance(obj.get("goal"), str):
            if system is None:
                raise UserError(f"{where}: has 'goal' but no --system was given")
            problem = adhoc_problem(system, obj["goal"], timeout_s)
        else:
            raise UserError(f"{where}: needs 'problem' (with --suite) or 'goal' (with --system)")
        items.append(BatchItem(id=obj.get("id"), problem=problem, proof=obj["proof"]))
    if not items:
        raise UserError(f"{path}: no proofs to check")
    return items


def load_suite_arg(name: str, settings: Settings) -> Suite:
    """A suite named on the command line."""
    return find_suite(name, settings.suites_dir)
