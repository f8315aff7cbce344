"""HOL Light goals computed in the checker: the problem data the HOL Light checker reads beyond the core."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from provebench.core.model import Problem, ProblemExtension, System


class GoalExpression(ProblemExtension):
    """The statement is an OCaml expression whose value, in the problem's context, is the goal term.

    s2n-bignum-bench computes some goals, e.g. ``(rand o concl o CONV) `...```; the checker evaluates the
    expression in the forked child, before any of the proof is read, and records the goal it gave.
    """

    key: ClassVar[str] = "hol-light.goal"
    system: ClassVar[System] = System.HOL_LIGHT

    statement_is_expression: bool = Field(
        default=False, description="true: the checker evaluates the statement to get the goal, and records it"
    )


def computed_goal(problem: Problem) -> bool:
    """Whether the checker computes ``problem``'s goal from its statement."""
    goal = problem.extension(GoalExpression)
    return goal is not None and goal.statement_is_expression
