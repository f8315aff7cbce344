"""Routing checks to one verifier per context, with a bound on warm verifiers; the order of work.

The verifiers are scripted doubles: this is about which verifier gets which
check and when verifiers start and stop; tests/integration/test_templates.py
runs template contexts on the real checker.
"""

from __future__ import annotations

from collections.abc import Sequence

from provebench.model import Problem, Reason, Status, System
from provebench.orchestrator import pending_chains
from provebench.settings import Settings
from provebench.verify.api import Verifier, schedule
from provebench.verify.routing import ContextRouter
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


def test_checks_go_to_the_verifier_of_their_context_and_idle_ones_are_stopped() -> None:
    made: list[tuple[list[str], ScriptedVerifierDouble]] = []

    def factory(problems: Sequence[Problem], _settings: Settings) -> Verifier:
        v = ScriptedVerifierDouble(lambda p, proof, n: verdict(Status.PASS, Reason.PROVED))
        made.append(([p.id for p in problems], v))
        return v

    router = ContextRouter(IN_CONTEXTS, Settings(), factory, max_warm=1)
    router.prepare()
    assert [ids for ids, _ in made] == [["a1", "a2"]] and made[0][1].prepared
    assert router.checker.image == "double"
    router.check(IN_CONTEXTS[2], "x")
    router.check(IN_CONTEXTS[1], "y")  # B starts; A, idle, is stopped to stay within max_warm
    assert [ids for ids, _ in made] == [["a1", "a2"], ["b1"]] and made[0][1].closed
    assert made[0][1].calls == [("a2", "x")] and made[1][1].calls == [("b1", "y")]
    router.close()
    assert made[1][1].closed


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
    from provebench.settings import checker_memory_mb, checkers_in_budget, memory_budget_mb

    s2n = Settings(checkers=4, memory_mb=6144, container_headroom_mb=2048, memory_budget_mb=20_000)
    assert checker_memory_mb(s2n) == 8192 and checkers_in_budget(s2n) == 2
    assert checkers_in_budget(s2n.model_copy(update={"memory_budget_mb": 4096})) == 1  # one always starts
    assert checkers_in_budget(Settings(checkers=2, memory_budget_mb=100_000)) == 2  # never more than asked
    assert memory_budget_mb(Settings()) > 0


def test_a_run_over_several_contexts_keeps_as_many_warm_as_fit_at_the_suites_sizes() -> None:
    from provebench.run import default_verifier

    big = [p.model_copy(update={"memory_mb": 6144, "context_memory_mb": 8192}) for p in IN_CONTEXTS]
    budget = Settings(checkers=1, memory_budget_mb=30_000)
    router = default_verifier(big, budget)  # nothing starts before the first check
    assert isinstance(router, ContextRouter) and router.max_warm == 30_000 // (6144 + 8192) == 2
    # The user's own sizes win over the suite's.
    mine = Settings(checkers=1, memory_budget_mb=30_000, memory_mb=2048, container_headroom_mb=1024)
    assert isinstance(r := default_verifier(big, mine), ContextRouter) and r.max_warm == 30_000 // 3072
