"""What a request names: a suite the service serves (by name, never a path) and its problem, or an ad-hoc goal."""

from __future__ import annotations

import logging

from provebench.checking.remote import problem_hash
from provebench.core.errors import UserError
from provebench.core.model import Problem
from provebench.service.models import Target
from provebench.service.state import ApiError, ServiceState
from provebench.suites.check_requests import adhoc_problem
from provebench.suites.load import Suite, load_suite

log = logging.getLogger(__name__)


def suite_named(state: ServiceState, name: str) -> Suite:
    """A suite the service was started with, by name, loaded once and planned whole.

    (A template context holds all its problems.) Errors name suites, never a folder of the server.
    """
    if name not in state.suites:
        folder = state.suite_folders.get(name)
        if folder is None:
            known = ", ".join(sorted(state.suite_folders)) or "none"
            raise ApiError(
                404,
                f"this service serves no suite {name!r} (it serves: {known}); to serve a suite folder,"
                " start the service with --suite PATH",
            )
        try:
            suite = load_suite(folder)
        except UserError as exc:
            log.error("suite %s cannot be loaded: %s", name, exc)
            raise ApiError(503, f"suite {name} cannot be loaded on this service (its log says why)") from None
        state.engine.plan(suite.problems)
        state.suites[name] = suite
    return state.suites[name]


def resolve(state: ServiceState, target: Target, timeout_s: float | None) -> tuple[Problem, float]:
    """The problem a target names, and its time limit (the request's, capped by the problem's own)."""
    if target.suite is not None:
        suite = suite_named(state, target.suite)
        try:
            problem = suite.problem(str(target.problem))
        except UserError as exc:
            raise ApiError(404, str(exc)) from None
        if target.problem_hash is not None and target.problem_hash != problem_hash(problem):
            raise ApiError(409, f"problem {problem.id} of suite {suite.name} differs here from the client's")
    else:
        assert target.system is not None and target.goal is not None
        try:
            problem = adhoc_problem(target.system, target.goal, timeout_s)
        except UserError as exc:
            raise ApiError(422, str(exc)) from None
        state.engine.plan([problem])
    if problem.system not in state.systems:
        served = ", ".join(s.value for s in state.systems)
        raise ApiError(422, f"this service checks {served}, not {problem.system.value}")
    return problem, problem.limit(timeout_s)
