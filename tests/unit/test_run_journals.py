"""A run's journal and manifest read back as input: verified, and never mixed with another run's on resume.

Runs here are real run directories made by ``execute`` with the scripted checker double; the
journal and manifest are then edited on disk as a careless or hostile user would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from provebench.cli.main import main
from provebench.core.errors import UserError
from provebench.core.journal import read_journal
from provebench.core.settings import Settings
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run, summarize_run
from tests.doubles.verifier import ScriptedVerifierDouble, passes_if

SETTINGS = Settings(checkers=1, infra_backoff_s=0)
PROBLEMS_DIR = Path(__file__).resolve().parents[2] / "problems"
PROBLEMS = ["excluded_middle", "contrapositive", "add_comm"]


def _run(rundir: Path, suite: str = "hol-light-core", resume: bool = False, **extra: object) -> RunDir:
    """Run (or resume) the baseline prover on three problems, n=2, with the double checker passing nothing."""
    rd = RunDir(rundir)
    config = rd.config() if resume else build_config({"suite": suite, "n": 2, "problems": PROBLEMS, **extra}, {}, "t")
    plan = plan_run(config, SETTINGS)
    prover = make_prover("baseline", {})
    prover.prepare(plan.problems)
    if not resume:
        rd = RunDir.create(rundir, plan.suite.name, prover.name)
    verifier = ScriptedVerifierDouble(passes_if("no such proof"))
    execute(plan, rd, prover, SETTINGS, RunHooks(), lambda _s, _p: verifier, resume=resume)
    return rd


def _lines(rd: RunDir) -> list[dict[str, Any]]:
    return [json.loads(line) for line in rd.journal_path.read_text().splitlines()]


def _write(rd: RunDir, rows: list[dict[str, object]], tail: str = "") -> None:
    rd.journal_path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail)


def _report_fails(capsys: pytest.CaptureFixture[str], rd: RunDir, *fragments: str) -> None:
    code = main(["report", str(rd.path)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert all(f in lines[0] for f in fragments), err


def test_a_record_for_a_problem_the_run_does_not_list_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rd = _run(tmp_path / "run")
    rows = _lines(rd)
    _write(rd, [*rows, {**rows[0], "problem": "smuggled"}])
    _report_fails(capsys, rd, "attempts.jsonl: line 7:", "'smuggled', which the run does not list")


@pytest.mark.parametrize(
    ("status", "fragment"),
    [("FAIL", "a duplicate of line 1"), ("PASS", "a verdict conflicting with line 1"), ("ERROR", "conflicting")],
)
def test_a_second_record_for_a_decided_key_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], status: str, fragment: str
) -> None:
    rd = _run(tmp_path / "run")
    rows = _lines(rd)
    verdict = rows[0]["verdict"]
    assert verdict["status"] == "FAIL"
    reason = "proved" if status == "PASS" else verdict["reason"]
    _write(rd, [*rows, {**rows[0], "verdict": {**verdict, "status": status, "reason": reason}}])
    _report_fails(capsys, rd, "attempts.jsonl: line 7:", fragment, f"FAIL there, {status} here")
    with pytest.raises(UserError, match="line 7"):
        summarize_run(rd, rd.config())  # and so for submit, report --html and exports, which read through records()


def test_a_journal_of_retries_resumes_and_repair_rounds_is_read_in_full(tmp_path: Path) -> None:
    """What a run legitimately writes: ERROR records (no verdict) redone on resume, round after round (schema v1)."""
    base = {"category": "logic", "prover": "p", "proof": "x", "reason": "tactic-failed"}
    rows = [
        {**base, "problem": "a", "sample": 0, "round": 0, "status": "ERROR", "reason": "checker-unavailable"},
        {**base, "problem": "a", "sample": 0, "round": 0, "status": "ERROR", "reason": "checker-unavailable"},
        {**base, "problem": "a", "sample": 0, "round": 0, "status": "FAIL"},
        {**base, "problem": "a", "sample": 0, "round": 1, "status": "ERROR", "reason": "checker-unavailable"},
        {**base, "problem": "a", "sample": 0, "round": 1, "status": "PASS", "reason": "proved"},
        {**base, "problem": "a", "sample": 1, "round": 0, "status": "FAIL"},
        {**base, "problem": "b", "sample": 0, "round": 0, "status": "FAIL"},
    ]
    path = tmp_path / "attempts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"problem": "a", "sam')  # torn by a kill
    records = read_journal(path, {"a", "b"})
    assert [(r.problem, r.sample, r.round, r.verdict.status.value) for r in records] == [
        (r["problem"], r["sample"], r["round"], r["status"]) for r in rows
    ]


def test_a_real_run_with_errors_resumed_twice_reads_back(tmp_path: Path) -> None:
    rd = _run(tmp_path / "run", repair_rounds=1)
    first = len(rd.records())
    rows = _lines(rd)
    # the last attempt's check failed for good: journalled as ERROR, redone by the next resume
    rows[-1]["verdict"].update(status="ERROR", reason="checker-unavailable")
    _write(rd, rows)
    _run(tmp_path / "run", resume=True)
    records = rd.records()
    assert len(records) == first + 1 and records[-1].key == records[first - 1].key
    assert summarize_run(rd, rd.config()).attempts == first


def test_a_torn_last_line_is_still_recovered(tmp_path: Path) -> None:
    rd = _run(tmp_path / "run")
    good = rd.journal_path.read_text()
    rd.journal_path.write_text(good + good.splitlines()[0][:40])
    assert len(rd.records()) == 6
    _run(tmp_path / "run", resume=True)
    assert rd.journal_path.read_text() == good  # nothing to redo; the torn line is cut before appending


def test_resume_without_the_manifest_is_refused_once_anything_is_journalled(tmp_path: Path) -> None:
    rd = _run(tmp_path / "run")
    before = rd.journal_path.read_bytes()
    rd.manifest_path.unlink()
    missing = (
        r"cannot resume: the journal holds attempts but manifest.json is missing, "
        r"so what they were made on cannot be checked; start a new run$"
    )
    with pytest.raises(UserError, match=missing):
        _run(tmp_path / "run", resume=True)
    assert rd.journal_path.read_bytes() == before
    rd.manifest_path.write_text("{not json")
    with pytest.raises(UserError, match=r"manifest.json: invalid JSON"):
        _run(tmp_path / "run", resume=True)
    assert rd.journal_path.read_bytes() == before


def test_a_run_that_stopped_before_journalling_anything_resumes(tmp_path: Path) -> None:
    rd = _run(tmp_path / "run")
    rd.manifest_path.unlink()
    rd.journal_path.write_text('{"problem": "excluded_mid')  # only a torn line: nothing was journalled
    _run(tmp_path / "run", resume=True)
    assert len(rd.records()) == 6 and rd.manifest_path.is_file()


def test_resume_after_the_suite_changed_is_refused(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    shutil.copytree(PROBLEMS_DIR / "hol-light-core", suite)
    rd = _run(tmp_path / "run", suite=str(suite))
    before = rd.journal_path.read_bytes()
    text = (suite / "problems.yaml").read_text()
    changed = text.replace("'!p. p \\/ ~p'", "'!p. ~p \\/ p'", 1)  # a new statement for excluded_middle
    assert changed != text
    (suite / "problems.yaml").write_text(changed)
    hashes = r"\(sha256:[0-9a-f]{12} then, sha256:[0-9a-f]{12} now\); start a new run$"
    with pytest.raises(UserError, match=r"^suite hol-light-core changed since this run started " + hashes):
        _run(tmp_path / "run", resume=True)
    assert rd.journal_path.read_bytes() == before


def test_resume_after_the_problems_file_changed_is_refused(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("excluded_middle\ncontrapositive\n")
    rd = _run(tmp_path / "run", problems=[], problems_file=str(ids))
    ids.write_text("excluded_middle\nadd_comm\n")
    edited = r"cannot resume: the run's problems changed since it started \(a problems file edited since\?\); start"
    with pytest.raises(UserError, match=edited + " a new run$"):
        _run(tmp_path / "run", resume=True)
    assert len(rd.records()) == 4


def test_an_unlocked_run_can_be_taken_again_and_unlocking_twice_is_harmless(tmp_path: Path) -> None:
    rd = _run(tmp_path / "run")
    first = RunDir(rd.path)
    first.unlock()  # never locked: nothing to release
    first.lock()
    with pytest.raises(UserError, match="another provebench process is running this run"):
        RunDir(rd.path).lock()
    first.unlock()
    first.unlock()
    second = RunDir(rd.path)
    second.lock()  # the lock was released: the next resume may run
    second.unlock()
