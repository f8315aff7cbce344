"""What the Lean checker's tests share: a problem made from a statement, as a suite would give it."""

from __future__ import annotations

from provebench.core.model import Kind, Problem, System
from provebench.systems.lean.fill_in import FillInAnswer


def lean_problem(
    pid: str, statement: str, kind: Kind = Kind.THEOREM, answer: str | None = None, context: str = "import Mathlib"
) -> Problem:
    """A Lean problem of a test suite: its statement, kind and (fill-in) reference answer."""
    return Problem(
        id=pid,
        suite="lean-test",
        system=System.LEAN4,
        kind=kind,
        statement=statement,
        context=context,
        timeout_s=10,
        checker_image="lean4-mathlib",
        extensions=(FillInAnswer(answer=answer),) if answer is not None else (),
    )
