"""``provebench recheck``: a finished run's attempts checked again, as they were, into a new run directory.

The runs are real run directories made by ``execute`` with the baseline prover; the checkers, then and now,
are the scripted double (each test scripts what "today's checker" says). Real checkers: tests/integration.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from provebench.checking import registry
from provebench.cli import images as cli_images
from provebench.cli.main import main
from provebench.core.journal import AttemptRecord, ProverAnswer, read_journal
from provebench.core.model import Problem, Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.provers.registry import make_prover
from provebench.provers.replay import JournalReplay
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from provebench.suites.load import find_suite
from tests.cli_support import refused_in_one_line
from tests.doubles.verifier import ScriptedVerifierDouble, verdict

SETTINGS = Settings(checkers=1, infra_backoff_s=0)
PROBLEMS = ["excluded_middle", "contrapositive", "add_comm"]
Script = Callable[[Problem, str, int], Verdict]


def checker(passing: dict[str, set[str]]) -> Script:
    """PASS for the proofs of each problem in ``passing``, FAIL tactic-failed for any other."""

    def script(problem: Problem, proof: str, _call: int) -> Verdict:
        if proof in passing.get(problem.id, set()):
            return verdict(Status.PASS, Reason.PROVED)
        return verdict(Status.FAIL, Reason.TACTIC_FAILED, f"{proof} fails")

    return script


# The baseline prover's samples try ARITH_TAC then MESON_TAC[]; a repair round tries the next (then SET_TAC[]).
THEN = checker({"excluded_middle": {"MESON_TAC[]"}, "contrapositive": {"MESON_TAC[]"}, "add_comm": {"ARITH_TAC"}})


def _run(rundir: Path, script: Script = THEN, repair_rounds: int = 1) -> RunDir:
    """A finished baseline run on three problems, n = 2, with ``repair_rounds``, checked by ``script``."""
    config = build_config({"suite": "hol-light-core", "n": 2, "problems": PROBLEMS}, {}, "test")
    config = config.model_copy(update={"repair_rounds": repair_rounds})
    plan = plan_run(config, SETTINGS)
    prover = make_prover("baseline", {})
    prover.prepare(plan.problems)
    rd = RunDir.create(rundir, plan.suite.name, prover.name)
    execute(plan, rd, prover, SETTINGS, RunHooks(), lambda _s, _p: ScriptedVerifierDouble(script))
    return rd


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Callable[[Script], None]:
    """Set what today's checker says (the double), with no image to build."""
    monkeypatch.setattr(cli_images, "ensure_images", lambda _settings, _names: None)
    monkeypatch.setenv("PROVEBENCH_INFRA_BACKOFF_S", "0")

    def use(script: Script) -> None:
        monkeypatch.setattr(registry, "factory_for", lambda _system: lambda _s, _p: ScriptedVerifierDouble(script))

    return use


def _files(rd: RunDir) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in rd.path.iterdir() if p.is_file() and p.name != ".lock"}


def test_a_changed_verdict_is_reported_with_pass_at_k_before_and_after(
    tmp_path: Path, today: Callable[[Script], None], capsys: pytest.CaptureFixture[str]
) -> None:
    old = _run(tmp_path / "run")
    before = _files(old)
    today(checker({"excluded_middle": {"MESON_TAC[]"}, "contrapositive": {"MESON_TAC[]"}}))  # ARITH_TAC no more
    code = main(["recheck", str(old.path), "--out", str(tmp_path / "new"), "--no-progress"])
    printed = capsys.readouterr()
    assert code == 1, printed.err
    assert "1 verdict(s) changed" in printed.out
    assert "add_comm sample 0 round 0: PASS (proved) -> FAIL (tactic-failed)" in printed.out
    assert "solved 3/3 -> 2/3" in printed.out and "pass@1 83.3% -> 66.7%, pass@2 100.0% -> 66.7%" in printed.out
    assert _files(old) == before  # the run checked is read, never written
    new = RunDir(tmp_path / "new")
    assert {p.name for p in new.path.iterdir()} >= {"config.yaml", "manifest.json", "attempts.jsonl", "summary.json"}
    manifest = json.loads(new.manifest_path.read_text())
    assert manifest["prover"]["name"] == "baseline" and manifest["prover"]["rechecked_from"] == str(old.path)
    assert set(manifest) == set(json.loads(old.manifest_path.read_text()))  # the same shape
    summary = json.loads(new.summary_path.read_text())
    assert summary["solved"] == 2 and summary["complete"]


def test_every_attempt_is_kept_as_it_was_and_no_round_is_added_or_dropped(
    tmp_path: Path, today: Callable[[Script], None], capsys: pytest.CaptureFixture[str]
) -> None:
    old = _run(tmp_path / "run")
    old_records = {r.key: r for r in read_journal(old.journal_path)}
    # excluded_middle sample 0 passed in round 1 (MESON_TAC[]) and now passes in round 0 (ARITH_TAC): its round 1
    # is checked all the same. add_comm sample 0 passed in round 0 and now fails: it gets no round 1.
    today(checker({"excluded_middle": {"ARITH_TAC", "MESON_TAC[]"}, "contrapositive": {"MESON_TAC[]"}}))
    code = main(["recheck", str(old.path), "--out", str(tmp_path / "new"), "--no-progress", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    new_records = {r.key: r for r in read_journal(tmp_path / "new" / "attempts.jsonl")}
    assert new_records.keys() == old_records.keys()
    assert ("excluded_middle", 0, 1) in new_records and ("add_comm", 0, 1) not in new_records
    assert all(new_records[k].prover == old_records[k].prover for k in old_records)  # the answers, as they were
    changed = {
        (c["problem"], c["sample"], c["round"]): (c["old"]["status"], c["new"]["status"]) for c in report["changes"]
    }
    assert changed == {("excluded_middle", 0, 0): ("FAIL", "PASS"), ("add_comm", 0, 0): ("PASS", "FAIL")}
    assert report["before"]["attempts"] == report["after"]["attempts"] == len(old_records)


def test_a_recheck_that_changes_nothing_says_so_and_exits_0(
    tmp_path: Path, today: Callable[[Script], None], capsys: pytest.CaptureFixture[str]
) -> None:
    old = _run(tmp_path / "run", repair_rounds=0)
    today(THEN)
    assert main(["recheck", str(old.path), "--out", str(tmp_path / "new"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "rechecked 6 attempts" in printed and "no verdict changed" in printed
    assert "pass@1 50.0% -> 50.0%, pass@2 100.0% -> 100.0%" in printed


def test_a_check_that_ends_in_error_exits_3(
    tmp_path: Path, today: Callable[[Script], None], capsys: pytest.CaptureFixture[str]
) -> None:
    old = _run(tmp_path / "run", repair_rounds=0)
    today(lambda _p, _proof, _n: verdict(Status.ERROR, Reason.CHECKER_UNAVAILABLE, "the checker died"))
    assert main(["recheck", str(old.path), "--out", str(tmp_path / "new"), "--no-progress"]) == 3
    assert "6 check(s) ended in ERROR" in capsys.readouterr().out


def test_recheck_refuses_what_is_not_a_finished_run_and_never_writes_over_one(
    tmp_path: Path, today: Callable[[Script], None], capsys: pytest.CaptureFixture[str]
) -> None:
    today(THEN)
    old = _run(tmp_path / "run", repair_rounds=0)
    kept = _files(old)
    for out in (old.path, old.journal_path, old.summary_path, tmp_path):
        refused_in_one_line(capsys, ["recheck", str(old.path), "--out", str(out)], "already exists")
    (tmp_path / "empty").mkdir()
    refused_in_one_line(capsys, ["recheck", str(old.path), "--out", str(tmp_path / "empty")], "already exists")
    assert _files(old) == kept
    refused_in_one_line(capsys, ["recheck", str(tmp_path / "empty"), "--out", str(tmp_path / "x")], "not a run")

    lines = old.journal_path.read_text().splitlines(keepends=True)
    old.journal_path.write_text("".join(lines[:-1]))  # the run's last attempt not made yet
    refused_in_one_line(
        capsys,
        ["recheck", str(old.path), "--out", str(tmp_path / "x")],
        "finish it first with `provebench run --resume",
    )
    old.journal_path.unlink()
    refused_in_one_line(capsys, ["recheck", str(old.path), "--out", str(tmp_path / "x")], "no attempts.jsonl")
    old.journal_path.write_text("")
    refused_in_one_line(capsys, ["recheck", str(old.path), "--out", str(tmp_path / "x")], "no attempt")
    assert not (tmp_path / "x").exists()


def test_a_rechecked_run_is_not_resumed_as_a_run(
    tmp_path: Path, today: Callable[[Script], None], capsys: pytest.CaptureFixture[str]
) -> None:
    today(THEN)
    old = _run(tmp_path / "run", repair_rounds=0)
    assert main(["recheck", str(old.path), "--out", str(tmp_path / "new"), "--no-progress"]) == 0
    capsys.readouterr()
    refused_in_one_line(capsys, ["run", "--resume", str(tmp_path / "new")], "is a recheck of")
    assert main(["report", str(tmp_path / "new")]) == 0  # otherwise a run directory like any other


def test_an_attempt_the_api_refused_is_replayed_as_refused_and_costs_no_check() -> None:
    refused = AttemptRecord(
        problem="add_comm",
        sample=0,
        round=0,
        prover=ProverAnswer(name="openai", tokens_in=5),
        verdict=Verdict(status=Status.FAIL, reason=Reason.PROVER_ERROR, messages=("HTTP 400: too long",)),
    )
    no_proof = refused.model_copy(update={"verdict": Verdict(status=Status.FAIL, reason=Reason.NO_PROOF), "sample": 1})
    prover = JournalReplay("openai", {r.key: r for r in (refused, no_proof)}, {"name": "openai"}, {})
    problem = find_suite("hol-light-core", SETTINGS.suites_dir).problem("add_comm")
    first = asyncio.run(prover.attempt(problem, 0, ()))
    second = asyncio.run(prover.attempt(problem, 1, ()))
    assert (first.proof, first.error, first.tokens_in) == (None, "HTTP 400: too long", 5)
    assert (second.proof, second.error) == (None, None)
