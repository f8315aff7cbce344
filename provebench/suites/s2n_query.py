"""s2n-bignum-bench's own wording of a goal, kept for its submission format (``exports``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from provebench.core.model import ProblemExtension, System


class BenchmarkQuery(ProblemExtension):
    """The goal as the benchmark's query words it (a quoted term, or the expression that computes it)."""

    key: ClassVar[str] = "s2n-bignum-bench.query"
    system: ClassVar[System] = System.HOL_LIGHT

    original_statement: str = Field(description="the query as the benchmark words it, for its submission format")
