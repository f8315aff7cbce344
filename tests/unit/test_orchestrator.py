"""Orchestration logic: repair rounds, infrastructure retries, stopping and resuming.

The checker here is a scripted double (tests/doubles/verifier.py): these tests
are about scheduling and journalling, not verdicts; real-checker runs are in
tests/integration/test_run.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from provebench.checking.engine import Engine
from provebench.core.errors import RunStopped, VerifierUnavailable
from provebench.core.journal import Journal, read_journal
from provebench.core.model import Problem, Reason, Status, System
from provebench.core.settings import Settings
from provebench.provers.api import PreviousAttempt, Prover, ProverOutput, ProverUnavailable
from provebench.runs.config import RunConfig
from provebench.runs.orchestrator import Limits, Orchestrator, pending_chains
from provebench.runs.run import RunDir, RunHooks, RunPlan, execute
from provebench.suites.load import find_suite
from tests.doubles.verifier import ScriptedVerifierDouble, passes_if, verdict
from tests.records import attempt

SETTINGS = Settings(checkers=1, infra_backoff_s=0)


class ScriptedProver(Prover):
    """Answers ``wrong`` first, ``right`` once it has seen a failed round; can be told to die."""

    name = "scripted"

    def __init__(self, die_after: int | None = None, delay_s: float = 0.0) -> None:
        self.calls = 0
        self.die_after = die_after
        self.delay_s = delay_s
        self.histories: list[tuple[PreviousAttempt, ...]] = []

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        self.calls += 1
        call = self.calls
        await asyncio.sleep(self.delay_s * call)  # later calls answer later
        if self.die_after is not None and call > self.die_after:
            raise ProverUnavailable("connection refused")
        self.histories.append(history)
        if problem.id.startswith("nothing"):
            return ProverOutput(proof=None, raw_reply="no idea")
        return ProverOutput(proof="right" if history else "wrong", raw_reply="...", tokens_in=5, tokens_out=2)


def _plan(config: RunConfig) -> RunPlan:
    suite = find_suite("hol-light-core", SETTINGS.suites_dir)
    return RunPlan(config=config, suite=suite, problems=suite.problems[:3])


def _run(
    tmp_path: Path, prover: Prover, verifier: ScriptedVerifierDouble, resume: bool = False, **config: object
) -> RunDir:
    rc = RunConfig.model_validate({"suite": "hol-light-core", "n": 2, "infra_retries": 2, **config})
    rundir = RunDir(tmp_path / "run") if resume else RunDir.create(tmp_path / "run", "s", prover.name)
    execute(_plan(rc), rundir, prover, SETTINGS, RunHooks(), lambda _s, _p: verifier, resume=resume)
    return rundir


def test_repair_rounds_feed_the_checker_messages_back(tmp_path: Path) -> None:
    prover = ScriptedProver()
    rundir = _run(tmp_path, prover, ScriptedVerifierDouble(passes_if("right")), repair_rounds=2)
    records = read_journal(rundir.journal_path)
    assert sorted((r.sample, r.round, r.verdict.status.value) for r in records if r.problem == "excluded_middle") == [
        (0, 0, "FAIL"),
        (0, 1, "PASS"),
        (1, 0, "FAIL"),
        (1, 1, "PASS"),
    ]
    repaired = [h for h in prover.histories if h]
    assert repaired and repaired[0][0].proof == "wrong" and "scripted failure" in repaired[0][0].messages[0]
    summary = json.loads(rundir.summary_path.read_text())
    assert (summary["solved"], summary["solved_first_round"]) == (3, 0)


def test_without_repair_rounds_a_failed_sample_stays_failed(tmp_path: Path) -> None:
    rundir = _run(tmp_path, ScriptedProver(), ScriptedVerifierDouble(passes_if("right")))
    records = read_journal(rundir.journal_path)
    assert (
        len(records) == 6 and {r.verdict.status for r in records} == {Status.FAIL} and {r.round for r in records} == {0}
    )


def test_an_infrastructure_failure_is_retried_and_never_counted_as_a_proof_failure(tmp_path: Path) -> None:
    def flaky(problem: Problem, proof: str, call: int) -> object:
        return VerifierUnavailable("checker container died") if call == 1 else passes_if("wrong")(problem, proof, call)

    verifier = ScriptedVerifierDouble(flaky)  # type: ignore[arg-type]
    rundir = _run(tmp_path, ScriptedProver(), verifier)
    records = read_journal(rundir.journal_path)
    assert len(records) == 6 and all(r.verdict.status is Status.PASS for r in records)
    assert sum(r.infra_retries for r in records) == 1 and len(verifier.calls) == 7


def test_a_checker_that_stays_down_gives_error_records_that_a_resume_redoes(tmp_path: Path) -> None:
    def down_for_one_problem(problem: Problem, proof: str, call: int) -> object:
        if problem.id == "contrapositive":
            return VerifierUnavailable("checker container died")
        return verdict(Status.PASS, Reason.PROVED)

    rundir = _run(tmp_path, ScriptedProver(), ScriptedVerifierDouble(down_for_one_problem))  # type: ignore[arg-type]
    errors = [r for r in read_journal(rundir.journal_path) if r.verdict.status is Status.ERROR]
    assert len(errors) == 2 and all(r.infra_retries == 2 for r in errors)
    assert json.loads(rundir.summary_path.read_text())["solved"] == 2  # the errored problem: no verdict, not a FAIL

    _run(tmp_path, ScriptedProver(), ScriptedVerifierDouble(passes_if("wrong")), resume=True)
    records = read_journal(rundir.journal_path)
    assert len(records) == 8  # the 2 ERROR records stay; their redo supersedes them
    assert json.loads(rundir.summary_path.read_text())["solved"] == 3


def test_a_dead_prover_stops_the_run_keeps_the_journal_and_resume_finishes_it(tmp_path: Path) -> None:
    with pytest.raises(RunStopped, match="prover scripted unavailable: connection refused"):
        _run(tmp_path, ScriptedProver(die_after=4, delay_s=0.05), ScriptedVerifierDouble(passes_if("wrong")))
    rundir = RunDir(tmp_path / "run")
    first = read_journal(rundir.journal_path)
    assert 1 <= len(first) <= 4 and rundir.summary_path.exists()
    _run(tmp_path, ScriptedProver(), ScriptedVerifierDouble(passes_if("wrong")), resume=True)
    keys = [r.key for r in read_journal(rundir.journal_path)]
    assert len(keys) == len(set(keys)) == 6
    assert {r.session for r in read_journal(rundir.journal_path)} == {0, 1}


def test_no_proof_costs_no_check(tmp_path: Path) -> None:
    problem = Problem(id="nothing", suite="s", system=System.HOL_LIGHT, statement="T", timeout_s=1, checker_image="x")
    verifier = ScriptedVerifierDouble(passes_if("wrong"))
    journal = Journal(tmp_path / "attempts.jsonl")
    journal.open()
    engine = Engine(SETTINGS, make=lambda _s, _p: verifier)
    orchestrator = Orchestrator(ScriptedProver(), engine, journal, limits=Limits(), repair_rounds=1)
    asyncio.run(orchestrator.run(pending_chains([problem], 1, 1, True, [])))
    journal.close()
    records = read_journal(journal.path)
    assert [(r.round, r.verdict.status, r.verdict.reason) for r in records] == [
        (0, Status.FAIL, Reason.NO_PROOF),
        (1, Status.FAIL, Reason.NO_PROOF),
    ]
    assert verifier.calls == []


def test_a_full_disk_stops_the_run_with_a_clear_error(tmp_path: Path) -> None:
    problem = Problem(id="p", suite="s", system=System.HOL_LIGHT, statement="T", timeout_s=1, checker_image="x")
    journal = Journal(tmp_path / "attempts.jsonl")
    journal.open()  # a journal must be a regular file; the disk fills up after it is opened:
    full = os.open("/dev/full", os.O_WRONLY)  # every write fails with ENOSPC
    assert journal._fd is not None
    os.dup2(full, journal._fd)
    os.close(full)
    engine = Engine(SETTINGS, make=lambda _s, _p: ScriptedVerifierDouble(passes_if("wrong")))
    orchestrator = Orchestrator(ScriptedProver(), engine, journal, limits=Limits())
    with pytest.raises(RunStopped, match="cannot write the journal .*attempts.jsonl: No space left on device"):
        asyncio.run(orchestrator.run(pending_chains([problem], 1, 0, True, [])))


def test_pending_chains_skip_finished_samples_and_continue_repair_chains() -> None:
    from provebench.core.journal import AttemptRecord

    def p(pid: str) -> Problem:
        return Problem(id=pid, suite="s", system=System.HOL_LIGHT, statement="T", timeout_s=1, checker_image="x")

    def rec(pid: str, sample: int, rnd: int, status: Status) -> AttemptRecord:
        return attempt(pid, sample, status, rnd=rnd, reason=Reason.TACTIC_FAILED)

    done: Sequence[AttemptRecord] = [
        rec("a", 0, 0, Status.PASS),
        rec("a", 1, 0, Status.FAIL),
        rec("b", 0, 0, Status.FAIL),
        rec("b", 0, 1, Status.FAIL),
        rec("b", 1, 0, Status.ERROR),
    ]
    chains = pending_chains([p("a"), p("b")], 2, 1, True, done)
    assert [(c.problem.id, c.sample, len(c.history)) for c in chains] == [("a", 1, 1), ("b", 1, 0)]
    chains = pending_chains([p("a"), p("b")], 2, 0, True, done)
    assert [(c.problem.id, c.sample) for c in chains] == [("b", 1)]


class SlowToLoad(ScriptedVerifierDouble):
    """A checker that takes a while to load (or never does), recording when it was ready.

    With ``until``, the load goes on until that event is set (for at most ``load_s``).
    """

    def __init__(self, load_s: float, fails: bool = False, until: threading.Event | None = None) -> None:
        super().__init__(passes_if("right"))
        self.load_s, self.fails, self.ready_at, self.until = load_s, fails, 0.0, until

    def prepare(self) -> None:
        import time

        if self.until is not None:
            self.until.wait(self.load_s)
        else:
            time.sleep(self.load_s)
        if self.fails:
            raise VerifierUnavailable("the checker image is missing")
        self.ready_at = time.monotonic()
        super().prepare()


class TimedProver(ScriptedProver):
    def __init__(self) -> None:
        super().__init__()
        self.first_call_at = 0.0
        self.called = threading.Event()

    async def attempt(self, problem: Problem, sample: int, history: tuple[PreviousAttempt, ...]) -> ProverOutput:
        import time

        self.first_call_at = self.first_call_at or time.monotonic()
        self.called.set()
        return await super().attempt(problem, sample, history)


def test_prover_calls_begin_while_the_checker_loads(tmp_path: Path) -> None:
    # The checker loads until the prover is first asked (60 s at most): a run that waited for the checker
    # before asking the prover would have it ready first.
    prover = TimedProver()
    checker = SlowToLoad(60, until=prover.called)
    rundir = _run(tmp_path, prover, checker)
    assert 0 < prover.first_call_at < checker.ready_at  # the prover was asked before the checker was ready
    assert len(read_journal(rundir.journal_path)) == 6


def test_a_checker_that_cannot_start_stops_the_run_without_error_records(tmp_path: Path) -> None:
    with pytest.raises(VerifierUnavailable, match="image is missing"):
        _run(tmp_path, ScriptedProver(), SlowToLoad(0.2, fails=True))
    assert read_journal(tmp_path / "run" / "attempts.jsonl") == []
