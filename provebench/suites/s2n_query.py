"""s2n-bignum-bench's own wording of a goal, kept for its submission format (``exports``) and its prompt."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from provebench.core.model import Problem, ProblemExtension, System
from provebench.systems.hol_light.goal import computed_goal


class BenchmarkQuery(ProblemExtension):
    """The goal as the benchmark's query words it (a quoted term, or the expression that computes it)."""

    key: ClassVar[str] = "s2n-bignum-bench.query"
    system: ClassVar[System] = System.HOL_LIGHT

    original_statement: str = Field(description="the query as the benchmark words it, for its submission format")


def benchmark_query(problem: Problem) -> str:
    """The goal as the benchmark words it: its own query, else the term backquoted (or the expression)."""
    query = problem.extension(BenchmarkQuery)
    if query is not None:
        return query.original_statement
    return problem.statement if computed_goal(problem) else f"`{problem.statement}`"
