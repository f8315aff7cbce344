"""One rule for a check's time limit on every path: the problem's own, or a shorter one asked for.

A run's `timeout_s`, `check --timeout`, a service request, a batch and re-verification all get it from
`Problem.limit`, applied by the engine before any verifier (local, a service's, Ray's) sees the check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from provebench.boards.reverify import as_run
from provebench.checking.engine import Engine
from provebench.core.model import Problem, Reason, Status, System, Verdict
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from tests.doubles.verifier import ScriptedVerifierDouble, verdict

GIVEN: list[float | None] = []


class _Recording(ScriptedVerifierDouble):
    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        GIVEN.append(timeout_s)
        return super().check(problem, proof, timeout_s)


def _factory(_settings: Settings, _problems: Sequence[Problem]) -> Verifier:
    return _Recording(lambda *_: verdict(Status.PASS, Reason.PROVED))


def _problem(timeout_s: float) -> Problem:
    return Problem(id="p", suite="s", system=System.HOL_LIGHT, statement="T", timeout_s=timeout_s, checker_image="x")


@pytest.mark.parametrize(("asked", "given"), [(None, 30.0), (5.0, 5.0), (30.0, 30.0), (3600.0, 30.0)])
def test_the_limit_is_the_problem_s_own_or_a_shorter_one(asked: float | None, given: float) -> None:
    assert _problem(30).limit(asked) == given
    assert as_run(_problem(30), asked).timeout_s == given  # what re-verification checks a claim under


@pytest.mark.parametrize(("asked", "given"), [(None, 30.0), (5.0, 5.0), (3600.0, 30.0)])
def test_every_way_into_the_engine_gives_the_verifier_the_same_limit(asked: float | None, given: float) -> None:
    # One check (check, a service request), an asyncio check (a run's orchestrator), a batch (check --batch,
    # selftests, re-verification): whatever verifier the placement made, it is handed the same number.
    with Engine(Settings(checkers=1, infra_backoff_s=0), _factory) as engine:
        GIVEN.clear()
        engine.check(_problem(30), "ARITH_TAC", asked)
        asyncio.run(engine.acheck(_problem(30), "ARITH_TAC", asked))
        list(engine.map([(_problem(30), "ARITH_TAC")], asked))
        assert GIVEN == [given, given, given]
