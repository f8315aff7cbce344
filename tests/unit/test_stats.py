"""pass@k, Wilson intervals and the summary, against values computed by hand."""

from __future__ import annotations

from math import comb

import pytest

from provebench.core.model import Reason, Status
from provebench.runs.stats import ProblemRef, pass_at_k, summarize, wilson_interval
from tests.records import attempt


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 2 / 5),
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (4, 1, 4, 1.0),  # n = k and c > 0
        (4, 0, 4, 0.0),  # n = k and c = 0
        (6, 0, 1, 0.0),  # c = 0
        (6, 6, 3, 1.0),  # c = n
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
        (200, 1, 100, 0.5),  # 1 - C(199,100)/C(200,100) = 1 - 100/200
    ],
)
def test_pass_at_k_matches_hand_computed_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_product_form_is_stable_where_binomials_are_huge() -> None:
    n, c, k = 2000, 7, 1000
    exact = 1 - comb(n - c, k) / comb(n, k)  # Python's big integers make this exact
    assert pass_at_k(n, c, k) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, 1, 0), (3, 1, 4), (0, 0, 1)])
def test_pass_at_k_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(3.841459 / 13.841459, abs=1e-6)  # z^2 / (n + z^2)
    lo, hi = wilson_interval(10, 10)
    assert hi == pytest.approx(1.0) and lo == pytest.approx(10 / 13.841459, abs=1e-6)
    lo, hi = wilson_interval(5, 10)
    assert (lo + hi) / 2 == pytest.approx(0.5) and lo == pytest.approx(0.236593, abs=1e-6)


def test_summary_counts_samples_categories_and_errors() -> None:
    problems = [ProblemRef("a", "x"), ProblemRef("b", "x"), ProblemRef("c", "y")]
    records = [
        attempt(
            "a", 0, Status.PASS, verdict={"cpu_seconds": 0.5}, prover={"tokens_in": 10, "tokens_out": 3, "cost": 0.01}
        ),
        attempt("a", 1, Status.FAIL, verdict={"cpu_seconds": 0.25}),
        # b: sample 0 passes after a repair round; sample 1 only errored, so b has n=1
        attempt("b", 0, Status.FAIL),
        attempt("b", 0, Status.PASS, rnd=1),
        attempt("b", 1, Status.ERROR),
        attempt("c", 0, Status.CHEATING),
        # an ERROR later redone: the redo supersedes it
        attempt("c", 1, Status.ERROR),
        attempt("c", 1, Status.FAIL),
    ]
    s = summarize(problems, records, samples=2, ks=[1, 2])
    assert (s.problems, s.solved, s.solved_first_round) == (3, 2, 1)
    assert s.attempts == 7
    assert s.pass_at_k[1] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert s.pass_at_k[2] == pytest.approx((1.0 + 0.0) / 2)  # b has one sample with a verdict
    assert s.complete is False
    assert {k: (v.n, v.c) for k, v in s.by_problem.items()} == {"a": (2, 1), "b": (1, 1), "c": (2, 0)}
    assert s.by_category["x"].solved == 2 and s.by_category["y"].solved == 0
    assert s.by_status == {"CHEATING": 1, "ERROR": 1, "FAIL": 3, "PASS": 2}
    assert s.totals.checker_cpu_seconds == 0.75 and s.totals.tokens_in == 10 and s.totals.cost == 0.01
    lo, hi = s.solved_interval_95
    assert lo < 2 / 3 < hi


def test_summary_of_a_run_with_no_records() -> None:
    s = summarize([ProblemRef("a", "x")], [], samples=3, ks=[1, 3])
    assert (s.solved, s.attempts, s.pass_at_k, s.complete) == (0, 0, {1: 0.0, 3: 0.0}, False)
    assert s.totals.cost is None


def test_a_benchmark_layout_gives_its_columns_and_verdict_names_beside_provebenchs() -> None:
    from rich.console import Console

    from provebench.runs.report import summary_tables
    from provebench.suites.layouts import BenchmarkLayout
    from provebench.suites.s2n_bignum import LAYOUT

    layout = BenchmarkLayout.model_validate(LAYOUT)
    problems = [ProblemRef("a", "generic"), ProblemRef("b", "generic"), ProblemRef("c", "bit_vector")]
    problems += [ProblemRef("d", "functional_correctness_arm"), ProblemRef("e", "program_state")]
    verdicts = [
        ("a", Status.PASS, Reason.PROVED),
        ("b", Status.FAIL, Reason.COMPILE_ERROR),
        ("c", Status.FAIL, Reason.TACTIC_FAILED),
        ("d", Status.TIMEOUT, Reason.WALL_TIMEOUT),
        ("e", Status.ERROR, Reason.CHECKER_UNAVAILABLE),  # no verdict: counted nowhere
    ]
    records = [attempt(p, 0, st, reason=r) for p, st, r in verdicts]
    s = summarize(problems, records, samples=1, ks=[1], layout=layout)
    assert s.layout is not None
    assert [(c.label, c.problems, c.solved) for c in s.layout.columns] == [
        ("ARM FC", 1, 0),
        ("x86 FC", 0, 0),
        ("Prog State", 1, 0),
        ("Bit Vector", 1, 0),
        ("Generic", 2, 1),
    ]
    assert (s.layout.overall.problems, s.layout.overall.solved) == (5, 1)
    assert s.layout.verdicts == {
        "ERROR": {"FAIL compile-error": 1},
        "FAIL": {"FAIL tactic-failed": 1},
        "OK": {"PASS proved": 1},
        "TIMEOUT": {"TIMEOUT wall-timeout": 1},
    }
    console = Console(record=True, width=200)
    for table in summary_tables(s, "t"):
        console.print(table)
    text = console.export_text()
    assert "as s2n-bignum-bench lays it out" in text and "ARM FC" in text and "FAIL compile-error" in text
    assert summarize(problems, records, samples=1, ks=[1]).layout is None  # a suite without a layout
