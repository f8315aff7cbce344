"""Goals computed at run time (s2n-bignum-bench's ``(rand o concl o CONV) `...```), on the real HOL Light checker:
the checker evaluates the expression in the problem's context, checks the proof against the computed term with
every integrity layer, and the verdict records the goal it computed. Each test runs on both builds."""

from __future__ import annotations

import pytest

from provebench.core.model import Problem, Reason, Status, System
from provebench.systems.hol_light.goal import GoalExpression
from provebench.systems.hol_light.verifier import HolLightVerifier

pytestmark = [pytest.mark.docker, pytest.mark.slow]

EXPANDED = "(rand o concl o (EXPAND_CASES_CONV THENC NUM_REDUCE_CONV)) `!i. i < 3 ==> x + i = i + x`"


def _computed(expression: str) -> Problem:
    return Problem(
        id="computed",
        suite="adhoc",
        system=System.HOL_LIGHT,
        statement=expression,
        extensions=(GoalExpression(statement_is_expression=True),),
        timeout_s=30,
        checker_image="hol-light",
    )


def test_the_proof_is_checked_against_the_computed_goal(each_hol_verifier: HolLightVerifier) -> None:
    v = each_hol_verifier.check(_computed(EXPANDED), "REPEAT CONJ_TAC THEN ARITH_TAC")
    assert (v.status, v.reason) == (Status.PASS, Reason.PROVED), v.messages
    assert v.computed_goal == "x + 0 = 0 + x /\\ x + 1 = 1 + x /\\ x + 2 = 2 + x"
    # A proof of the term before the conversion (a universal) is not a proof of the computed conjunction.
    v = each_hol_verifier.check(_computed(EXPANDED), "GEN_TAC THEN DISCH_TAC THEN ARITH_TAC")
    assert (v.status, v.reason) == (Status.FAIL, Reason.TACTIC_FAILED), v.messages
    assert v.computed_goal is not None and v.computed_goal.startswith("x + 0 = 0 + x")
    v = each_hol_verifier.check(_computed(EXPANDED), "CONJ_TAC THENL [ARITH_TAC; ALL_TAC]")
    assert (v.status, v.reason) == (Status.FAIL, Reason.UNSOLVED_GOALS)
    assert "x + 1 = 1 + x" in v.messages[0]


def test_a_computed_goal_keeps_the_checks_after_the_proof(each_hol_verifier: HolLightVerifier) -> None:
    # Past static vetting (checked here without it): the axiom list and the conclusion are still compared.
    v = each_hol_verifier.check_unvetted_for_tests(
        _computed(EXPANDED), "fun (asl, w) -> ACCEPT_TAC (new_axiom w) (asl, w)"
    )
    assert (v.status, v.reason) == (Status.CHEATING, Reason.NEW_AXIOM), v.messages
    v = each_hol_verifier.check(_computed(EXPANDED), "mk_thm ([], `T`) |> ACCEPT_TAC")
    assert v.status is Status.CHEATING and v.reason is Reason.FORBIDDEN_CONSTRUCT


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ('failwith "no goal here"', "no goal here"),
        ("`1 + 1`", "not a boolean term"),
        ("no_such_conversion `T`", "Unbound value no_such_conversion"),
        ("(lhand o concl o NUM_REDUCE_CONV) `1 + 1`", "not a boolean term: 1 + 1"),
    ],
)
def test_an_expression_that_gives_no_goal_is_an_error_never_a_pass(
    each_hol_verifier: HolLightVerifier, expression: str, said: str
) -> None:
    v = each_hol_verifier.check(_computed(expression), "REWRITE_TAC[]")
    assert (v.status, v.reason) == (Status.ERROR, Reason.BAD_GOAL), v.messages
    assert said in v.messages[0]
    # The checker survives and serves the next check.
    assert each_hol_verifier.check(_computed(EXPANDED), "REPEAT CONJ_TAC THEN ARITH_TAC").passed
