"""Batches hand template runs to workers so that text two checkers would both load is loaded by one.

s2n-bignum's arm and x86 templates share nothing but each start with a base.ml
of minutes of loading: two checkers should take one architecture each, not
both load arm first and then both load x86.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from provebench.checking.batches import pick_run
from provebench.checking.engine import Engine
from provebench.core.model import Problem, Reason, Status, System, Verdict
from provebench.core.settings import Settings
from tests.doubles.verifier import ScriptedVerifierDouble, verdict


def _problem(template: str, line: int, timeout_s: float = 10) -> Problem:
    return Problem(
        id=f"{template}:{line}",
        suite="s",
        system=System.HOL_LIGHT,
        statement="T",
        timeout_s=timeout_s,
        checker_image="hol-light",
        template=template,
        template_line=line,
    )


def _shared_by_path(problem: Problem, others: Sequence[Problem]) -> list[int]:
    """Templates named like directories: the common leading path components stand for shared text."""
    mine = (problem.template or "").split("/")
    out = []
    for o in others:
        theirs = (o.template or "").split("/")
        n = 0
        while n < min(len(mine), len(theirs)) and mine[n] == theirs[n]:
            n += 1
        out.append(n)
    return out


def test_a_worker_goes_on_with_the_run_sharing_most_with_its_last() -> None:
    pending = [_problem("x86/base/p256", 1), _problem("arm/base/ec/p384", 1), _problem("arm/base/add", 1)]
    assert pick_run(pending, _problem("arm/base/ec/p256", 1), [], _shared_by_path) == 1


def test_a_worker_without_history_takes_what_the_others_do_not_load() -> None:
    pending = [_problem("arm/base/ec/p384", 1), _problem("arm/base/add", 1), _problem("x86/base/p256", 1)]
    busy = [_problem("arm/base/ec/p256", 1)]
    assert pick_run(pending, None, busy, _shared_by_path) == 2
    # nothing to tell them apart: schedule order
    assert pick_run(pending, None, [], _shared_by_path) == 0


def test_two_checkers_take_one_family_each() -> None:
    # Schedule order (longest timeouts first) would give both workers an arm template first.
    problems = [
        _problem("arm/base/a1", 1, 90),
        _problem("arm/base/a1", 2, 90),
        _problem("arm/base/a2", 1, 80),
        _problem("x86/base/b1", 1, 70),
        _problem("x86/base/b2", 1, 60),
        _problem("arm/base/a3", 1, 50),
    ]
    both_started = threading.Barrier(2, timeout=10)
    x86_done = threading.Event()
    seen: dict[str, int] = {}
    order: list[str] = []
    lock = threading.Lock()

    class Double(ScriptedVerifierDouble):
        def shared_loading(self, problem: Problem, others: Sequence[Problem]) -> list[int]:
            return _shared_by_path(problem, others)

    def script(problem: Problem, proof: str, call: int) -> Verdict:
        with lock:
            seen[problem.id] = threading.get_ident()
            order.append(problem.id)
        if call <= 2:
            both_started.wait()  # the two workers' first runs are under way at once
        if problem.id == "arm/base/a1:2":
            x86_done.wait(10)  # the arm checker is busy while the other one goes through x86
        if problem.id == "x86/base/b2:1":
            x86_done.set()
        return verdict(Status.PASS, Reason.PROVED)

    engine = Engine(Settings(), make=lambda _p, _s: Double(script))
    verdicts = list(engine.map([(p, "ARITH_TAC") for p in problems], None, 2))
    assert [v.status for v in verdicts] == [Status.PASS] * len(problems)
    # One checker starts on arm, the other on x86 (not on arm/base/a2, next in schedule order) and stays
    # there while x86 work is left; with x86 done it helps with arm.
    first_arm = seen["arm/base/a1:1"]
    assert seen["arm/base/a1:2"] == first_arm
    assert next(pid for pid in order if seen[pid] != first_arm) == "x86/base/b1:1"
    assert {seen[pid] for pid in order if pid.startswith("x86/")} == {seen["x86/base/b1:1"]}


def test_a_failing_worker_raises_in_the_caller() -> None:
    problems = [_problem("arm/base/a1", 1), _problem("x86/base/b1", 1)]

    def script(problem: Problem, proof: str, call: int) -> Verdict:
        raise RuntimeError("a bug in a worker")

    engine = Engine(Settings(), make=lambda _p, _s: ScriptedVerifierDouble(script))
    with pytest.raises(RuntimeError, match="^a bug in a worker$"):
        list(engine.map([(p, "ARITH_TAC") for p in problems], None, 2))
