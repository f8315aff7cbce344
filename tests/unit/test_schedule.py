"""The order of work (context by context, template by template) and what each context reserves.

The verifiers are scripted doubles; tests/unit/test_engine.py covers loading and stopping contexts,
and tests/integration/test_templates.py runs template contexts on the real checker.
"""

from __future__ import annotations

from provebench.core.model import Problem, Reason, Status, System
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier, schedule
from provebench.runs.orchestrator import pending_chains
from tests.doubles.verifier import ScriptedVerifierDouble, verdict


def _p(pid: str, template: str | None, line: int | None = None, context: str = "", timeout_s: float = 1) -> Problem:
    return Problem(
        id=pid,
        suite="s",
        system=System.HOL_LIGHT,
        statement="T",
        timeout_s=timeout_s,
        checker_image="x",
        context=context,
        template=template,
        template_line=line,
    )


PROBLEMS = [_p("a1", "A.ml", 3), _p("b1", "B.ml", 5), _p("a2", "A.ml", 9)]
IN_CONTEXTS = [_p("a1", None, context="A"), _p("b1", None, context="B"), _p("a2", None, context="A")]


def test_a_run_orders_its_work_template_by_template() -> None:
    chains = pending_chains(PROBLEMS, 2, 0, True, [])
    # Problem by problem within a template: every sample of a position before the walker moves on.
    assert [(c.problem.id, c.sample) for c in chains] == [
        ("a1", 0),
        ("a1", 1),
        ("a2", 0),
        ("a2", 1),
        ("b1", 0),
        ("b1", 1),
    ]
    # Without templates, sample-major, so that an interrupted run covers every problem evenly.
    plain = pending_chains(IN_CONTEXTS[:1] + [_p("a3", None, context="A")], 2, 0, True, [])
    assert [(c.problem.id, c.sample) for c in plain] == [("a1", 0), ("a3", 0), ("a1", 1), ("a3", 1)]


def test_templates_with_the_longest_timeouts_come_first_and_each_is_walked_once() -> None:
    problems = [
        _p("a1", "A.ml", 3, timeout_s=120),
        _p("b1", "B.ml", 5, timeout_s=120),
        _p("a2", "A.ml", 9, timeout_s=300),
        _p("b2", "B.ml", 7, timeout_s=7200),
        _p("c1", None, context="C", timeout_s=9999),  # another context: after the first one's work
    ]
    # B holds the longest timeout, so B first; within a template, by position (one forward walk).
    assert [p.id for p in schedule(problems)] == ["b1", "b2", "a1", "a2", "c1"]
    chains = pending_chains(problems, 1, 0, True, [])
    assert [c.problem.id for c in chains] == ["b1", "b2", "a1", "a2", "c1"]


def test_warm_checkers_are_kept_by_memory_not_by_cores() -> None:
    from provebench.core.settings import checker_memory_mb, checkers_in_budget, memory_budget_mb

    s2n = Settings(checkers=4, memory_mb=6144, container_headroom_mb=2048, memory_budget_mb=20_000)
    assert checker_memory_mb(s2n) == 8192 and checkers_in_budget(s2n) == 2
    assert checkers_in_budget(s2n.model_copy(update={"memory_budget_mb": 4096})) == 1  # one always starts
    assert checkers_in_budget(Settings(checkers=2, memory_budget_mb=100_000)) == 2  # never more than asked
    assert memory_budget_mb(Settings()) > 0


def test_each_context_reserves_what_its_suite_asks_for_and_the_users_sizes_win() -> None:
    from provebench.checking.engine import Engine

    big = [p.model_copy(update={"memory_mb": 6144, "context_memory_mb": 8192}) for p in IN_CONTEXTS]
    engine = Engine(Settings(checkers=1, memory_budget_mb=30_000), make=lambda _p, _s: _passes())
    engine.checker(big[0])  # nothing starts before the first check
    assert [s.memory_mb for s in engine.status()] == [0]
    engine.check(big[0], "x")
    assert [s.memory_mb for s in engine.status() if s.state == "warm"] == [6144 + 8192]
    mine = Settings(checkers=1, memory_budget_mb=30_000, memory_mb=2048, container_headroom_mb=1024)
    engine = Engine(mine, make=lambda _p, _s: _passes())
    engine.check(big[0], "x")
    assert [s.memory_mb for s in engine.status() if s.state == "warm"] == [3072]


def _passes() -> Verifier:
    return ScriptedVerifierDouble(lambda p, proof, n: verdict(Status.PASS, Reason.PROVED))
