"""Fill-in problems (CombiBench): the reference answer the Lean checker judges a candidate's answer by."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, field_validator

from provebench.core.model import Kind, ProblemExtension, System

PLACEHOLDERS = ("$solution", "$answer", "$op", "$tactics")


class FillInAnswer(ProblemExtension):
    """A fill-in problem's reference answer, and the statement with it substituted."""

    key: ClassVar[str] = "lean4.fill-in"
    system: ClassVar[System] = System.LEAN4
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.FILL_IN})
    required: ClassVar[bool] = True

    answer: str = Field(
        description="the reference answer a candidate's is compared with (several blanks: a list `[a, b]`, one each)"
    )
    answer_statement: str | None = Field(
        default=None, description="the statement with the reference answer in place of each blank"
    )
    # Answers that need binders or are a function or set: per answer slot, the trusted Lean command that
    # compares it with the reference, with $solution, $answer, $op and $tactics to fill.
    answer_checks: tuple[tuple[str, str], ...] = ()

    @field_validator("answer_checks", mode="before")
    @classmethod
    def _sorted_by_slot(cls, value: Any) -> Any:
        """A problems file gives them as ``{slot: command}``; kept sorted, so that equal ones hash equal."""
        return tuple(sorted(value.items())) if isinstance(value, Mapping) else value

    @field_validator("answer_checks")
    @classmethod
    def _every_placeholder(cls, value: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        for slot, check in value:
            missing = [p for p in PLACEHOLDERS if p not in check]
            if missing:
                raise ValueError(f"the answer check of {slot!r} lacks {missing[0]}")
        return value


def solution_names(problem: str, statement: str) -> list[str]:
    """The answer slots of a fill-in statement: ``NAME_solution``, or ``NAME_1_solution``, ... for several."""
    found = re.findall(rf"\b(?:abbrev|def)\s+({re.escape(problem)}(?:_\d+)?_solution)(?![\w'])", statement)
    return list(dict.fromkeys(found))
