"""How `leaderboard add` checks claims again: resumed after lost checkers, on every warm checker at once,
under the run's time limits, and an attempt without a verdict named."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from provebench.boards import bundle
from provebench.boards.add import add_entry
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import Problem, Verdict
from provebench.core.settings import Settings
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from tests.submission_support import (
    arith_passes,
    board_is_empty,
    edit_attempts,
    renamed,
    rewrite,
    scripted_verifiers,
)


def test_reverification_resumes_after_checker_failures(packed: Path, tmp_path: Path, settings: Settings) -> None:
    board = tmp_path / "board"
    calls: list[str] = []

    def dies_after_three(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        calls.append(problem.id)
        if call > 3:
            return VerifierUnavailable("container gone")
        return arith_passes(problem, proof, call)

    with pytest.raises(UserError, match="had no verdict .*run leaderboard add again to resume"):
        add_entry(packed, board, settings, make_verifier=scripted_verifiers(dies_after_three), sample_fraction=0.2)
    assert board_is_empty(board)
    failed = len(calls) - 3  # every check after the third, each tried three times (two infrastructure retries)
    assert failed % 3 == 0
    # Another bundle of the same run, added meanwhile, is checked on its own: it neither borrows nor drops
    # the interrupted one's progress.
    other: list[str] = []

    def counts_other(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        other.append(problem.id)
        return arith_passes(problem, proof, call)

    second = renamed(packed, tmp_path / "second.tar.gz", "Second")
    entry = add_entry(second, board, settings, make_verifier=scripted_verifiers(counts_other), sample_fraction=0.2)
    assert len(other) == entry.reverification.checked
    again: list[str] = []

    def counts(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        again.append(problem.id)
        return arith_passes(problem, proof, call)

    entry = add_entry(packed, board, settings, make_verifier=scripted_verifiers(counts), sample_fraction=0.2)
    assert len(again) == failed // 3 and entry.reverification.checked == failed // 3 + 3
    assert not list((settings.cache_dir / "reverify").iterdir())  # progress is dropped once the entry is in


def test_reverification_runs_on_every_warm_checker_at_once(packed: Path, tmp_path: Path, settings: Settings) -> None:
    met, running, most = threading.Condition(), [0], [0]
    deadline = time.monotonic() + 60

    def script(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        with met:
            running[0] += 1
            most[0] = max(most[0], running[0])
            met.notify_all()
            # A check waits until two have run at once (for 60 s in all): checks made one at a time never meet.
            met.wait_for(lambda: most[0] >= 2, timeout=max(0.0, deadline - time.monotonic()))
            running[0] -= 1
        return arith_passes(problem, proof, call)

    two = settings.model_copy(update={"checkers": 2})
    add_entry(packed, tmp_path / "board", two, make_verifier=scripted_verifiers(script), sample_fraction=0.2)
    assert most[0] == 2


def test_reverification_keeps_a_shorter_run_timeout_and_caps_a_longer_one(tmp_path: Path, settings: Settings) -> None:
    seen: dict[float, int] = {}

    def script(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        seen[problem.timeout_s] = seen.get(problem.timeout_s, 0) + 1
        return arith_passes(problem, proof, call)

    for timeout_s in (5.0, 600.0):
        config = build_config({"suite": "hol-light-core", "timeout_s": timeout_s}, {}, "test")
        plan = plan_run(config, settings)
        prover = make_prover("baseline", {})
        prover.prepare(plan.suite.problems)
        rundir = RunDir.create(tmp_path / f"run{timeout_s}", plan.suite.name, prover.name)
        execute(plan, rundir, prover, settings, RunHooks(), scripted_verifiers())
        out = tmp_path / f"t{timeout_s}.tar.gz"
        bundle.pack(rundir, out, bundle.Submitter(name=f"t{timeout_s}", contact="c", open_data="none"))
        seen.clear()
        add_entry(
            out, tmp_path / f"board{timeout_s}", settings, make_verifier=scripted_verifiers(script), sample_fraction=1.0
        )
        own = {p.timeout_s for p in plan.problems}  # hol-light-core's own limits: 30 s, some 60 s
        assert set(seen) == ({5.0} if timeout_s == 5.0 else own) and sum(seen.values()) == 50


def test_a_check_without_a_verdict_is_named_and_the_add_can_resume(
    packed: Path, tmp_path: Path, settings: Settings
) -> None:
    # Only sample 0 of add_comm claims a PASS (sample 1's is withheld), and its checker is lost.
    def one_claim(rows: list[dict[str, object]]) -> None:
        for r in rows:
            if r["problem"] == "add_comm" and r["sample"] == 1:
                r["verdict"].update(status="FAIL", reason="tactic-failed")

    def lost_for_add_comm(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        if problem.id == "add_comm":
            return VerifierUnavailable("container lost (scripted)")
        return arith_passes(problem, proof, call)

    bad = rewrite(packed, tmp_path / "one.tar.gz", edit_attempts(one_claim))
    with pytest.raises(UserError) as exc:
        add_entry(
            bad, tmp_path / "board", settings, make_verifier=scripted_verifiers(lost_for_add_comm), sample_fraction=0.0
        )
    assert str(exc.value) == (
        "1 re-verification check(s) had no verdict (checker ERROR, first: add_comm); "
        "run leaderboard add again to resume"
    )
