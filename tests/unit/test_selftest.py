"""A selftest's plan and report (checking itself is tested with real checkers and the Lean REPL double)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provebench.core.errors import UserError
from provebench.core.model import Problem, Reason, Status, System, Verdict
from provebench.runs.selftest import SelftestResult, plan_selftest
from provebench.suites.load import Suite, SuiteManifest


def _problem(pid: str, timeout_s: float, reference: str | None = "ARITH_TAC") -> Problem:
    return Problem(
        id=pid, suite="s", system=System.HOL_LIGHT, statement="T", timeout_s=timeout_s,
        reference_proof=reference, checker_image="hol-light",
    )  # fmt: skip


def _passed(wall: float, cpu: float) -> Verdict:
    return Verdict(status=Status.PASS, reason=Reason.PROVED, check_seconds=wall, cpu_seconds=cpu)


def test_the_tightest_pass_is_measured_against_its_own_timeout_by_wall_or_cpu() -> None:
    problems = [_problem("quick", 120), _problem("long", 5432), _problem("failed", 10)]
    failed = Verdict(status=Status.TIMEOUT, reason=Reason.CPU_TIMEOUT, check_seconds=10.0, cpu_seconds=10.0)
    # 60 s of 120 is tighter than 1,061 s of 5,432; the CPU time counts when it is the larger.
    result = SelftestResult("s", problems, [_passed(30.0, 60.0), _passed(1060.9, 1035.2), failed], [])
    assert result.tightest() == {"problem": "quick", "seconds": 60.0, "timeout_s": 120.0, "share": 0.5}
    report = result.as_json()
    assert (report["checked"], report["passed"], report["tightest"]["problem"]) == (3, 2, "quick")
    assert [f["problem"] for f in report["failures"]] == ["failed"]
    assert SelftestResult("s", problems[2:], [failed], []).tightest() is None


def test_a_plan_samples_before_it_leaves_out_long_timeouts() -> None:
    problems = tuple(_problem(f"p{i}", 9000 if i % 3 == 0 else 60) for i in range(12)) + (_problem("x", 60, None),)
    manifest = SuiteManifest(name="s", system=System.HOL_LIGHT, version="1", checker_image="hol-light")
    suite = Suite(manifest, problems, Path("."), "sha256:0")
    every = plan_selftest(suite, 6, 1, None)
    limited = plan_selftest(suite, 6, 1, 600)
    # The same seed names the same sample with or without the limit; the limit only moves some to left_out.
    assert len(every.problems) == 6 and every.left_out == [] and "x" not in {p.id for p in every.problems}
    assert {p.id for p in limited.problems} | set(limited.left_out) == {p.id for p in every.problems}
    assert all(p.timeout_s <= 600 for p in limited.problems) and limited.left_out
    assert all(suite.problem(pid).timeout_s > 600 for pid in limited.left_out)
    with pytest.raises(UserError, match="every problem to check has a timeout over --max-timeout 1 s"):
        plan_selftest(suite, None, 0, 1)
    bare = Suite(manifest, (_problem("x", 60, None),), Path("."), "sha256:0")
    with pytest.raises(UserError, match="suite s has no reference proofs to check"):
        plan_selftest(bare, None, 0, None)


def test_the_selftest_journal_ignores_and_cuts_a_torn_line_as_a_runs_journal_does(tmp_path: Path) -> None:
    from provebench.runs.selftest import SelftestJournal

    manifest = SuiteManifest(name="s", system=System.HOL_LIGHT, version="1", checker_image="hol-light")
    suite = Suite(manifest, (_problem("a", 60), _problem("b", 60)), Path("."), "sha256:0")
    journal = SelftestJournal(tmp_path / "selftest.jsonl", suite)
    journal.append(suite.problem("a"), _passed(1, 1))
    with journal.path.open("a") as f:
        f.write('{"problem": "b", "suite_hash": "sha256:0", "verd')  # killed mid-write
    assert set(journal.done()) == {"a"}
    journal.append(suite.problem("b"), _passed(2, 2))
    lines = journal.path.read_text().splitlines()
    assert len(lines) == 2 and all(line.startswith('{"problem"') for line in lines)  # the torn line is gone
    assert set(journal.done()) == {"a", "b"}
