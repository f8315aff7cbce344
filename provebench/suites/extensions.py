"""Problem extensions by key: a plain table of the modules that define them, loaded when a suite is.

Built-in ones are named here; others come from installed packages through the entry-point group
``provebench.problem_extensions`` (value: ``module:Class``, a ``ProblemExtension`` subclass).
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from provebench.core.model import Problem, ProblemExtension, extension_types

ENTRY_POINT_GROUP = "provebench.problem_extensions"
BUILT_IN = (
    "provebench.systems.hol_light.goal",
    "provebench.systems.lean.fill_in",
    "provebench.suites.s2n_query",
)


@cache  # entry points are looked up once per process: a suite of thousands of problems asks per entry
def known_extensions() -> dict[str, type[ProblemExtension]]:
    """Every extension type there is: built in, or from an installed package's entry point."""
    for module in BUILT_IN:
        importlib.import_module(module)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        ep.load()
    return extension_types()


def flat_fields(problem: Problem) -> dict[str, Any]:
    """A problem's fields with every extension field of its system beside them, as prompt templates see them.

    An extension the problem lacks gives its defaults (None for a field without one), so that a template
    can ask ``problem.statement_is_expression`` of any HOL Light problem.
    """
    view = problem.model_dump(exclude={"extensions"})
    for ext in known_extensions().values():
        if ext.system is problem.system:
            view |= {
                name: None if field.is_required() else field.get_default(call_default_factory=True)
                for name, field in ext.model_fields.items()
            }
    for present in problem.extensions:
        view |= present.model_dump()
    return view
