"""No command writes over a run's files or an input it read: such outputs are refused in one line, and files
are written whole (a temporary file renamed over the target).

Real run directories (``execute`` with the scripted checker double), real files; nothing here needs Docker.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from provebench.cli import main
from provebench.provers.registry import make_prover
from provebench.run import RunDir, RunHooks, execute, plan_run
from provebench.runconfig import build_config
from provebench.settings import Settings
from tests.doubles.verifier import ScriptedVerifierDouble, passes_if

SETTINGS = Settings(checkers=1, infra_backoff_s=0)
ROOT = Path(__file__).resolve().parents[2]
SUBMITTER = ["--name", "Test", "--contact", "t@example.org", "--open-data", "full"]


@pytest.fixture()
def run(tmp_path: Path) -> RunDir:
    """A finished baseline run of three problems, n=1, checked by the double."""
    config = build_config({"suite": "hol-light-core", "problems": ["excluded_middle", "add_comm", "peirce"]}, {}, "t")
    plan = plan_run(config, SETTINGS)
    prover = make_prover("baseline", {})
    prover.prepare(plan.problems)
    rd = RunDir.create(tmp_path / "run", plan.suite.name, prover.name)
    verifier = ScriptedVerifierDouble(passes_if("MESON_TAC[]"))
    execute(plan, rd, prover, SETTINGS, RunHooks(), lambda _p, _s: verifier)
    return rd


def _snapshot(rd: RunDir) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in rd.files()}


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert fragment in lines[0], err


@pytest.mark.parametrize("name", ["attempts.jsonl", "config.yaml", "manifest.json", "summary.json"])
def test_submit_and_report_never_write_over_a_runs_files(
    run: RunDir, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    before = _snapshot(run)
    target = str(run.path / name)
    _refused(capsys, ["submit", str(run.path), "-o", target, *SUBMITTER], "is a run's own file")
    _refused(capsys, ["submit", str(run.path), "--format", "s2n-bignum-bench", "-o", target], "is a run's own file")
    _refused(capsys, ["report", str(run.path), "--html", "--out", target], "is a run's own file")
    assert _snapshot(run) == before


def test_another_name_for_the_journal_is_refused_too(
    run: RunDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(run)
    hard, soft = tmp_path / "hard.html", tmp_path / "soft.html"
    os.link(run.journal_path, hard)
    soft.symlink_to(run.journal_path)
    for alias in (hard, soft):
        _refused(capsys, ["report", str(run.path), "--html", "--out", str(alias)], "write the report somewhere else")
        _refused(capsys, ["submit", str(run.path), "-o", str(alias), *SUBMITTER], "somewhere else")
    assert _snapshot(run) == before and hard.read_bytes() == before["attempts.jsonl"]


def test_outputs_beside_the_run_are_written_whole(run: RunDir, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(run)
    assert main(["submit", str(run.path), *SUBMITTER]) == 0
    assert main(["report", str(run.path), "--html"]) == 0
    capsys.readouterr()
    with tarfile.open(run.path / "submission.tar.gz") as tar:
        assert sorted(tar.getnames()) == ["attempts.jsonl", "manifest.json", "summary.json"]
    assert (run.path / "report.html").read_text().startswith("<!doctype html>")
    assert sorted(p.name for p in run.path.iterdir()) == [
        "attempts.jsonl",
        "config.yaml",
        "manifest.json",
        "report.html",
        "submission.tar.gz",
        "summary.json",
    ]  # no temporary file left behind
    assert _snapshot(run) == before


def test_a_selftest_journal_may_not_be_a_runs_journal_or_a_suites_file(
    run: RunDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(run)
    suite = ROOT / "problems" / "hol-light-core"
    argv = ["suites", "selftest", "hol-light-core", "--journal"]
    _refused(capsys, [*argv, str(run.journal_path)], "is a run's own file")
    _refused(capsys, [*argv, str(suite / "problems.yaml")], "is an input of this command")
    assert _snapshot(run) == before


def test_an_import_into_an_existing_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "combibench.jsonl"
    data.write_text("")
    target = tmp_path / "taken"
    target.write_text("keep me")
    _refused(capsys, ["suites", "import", "combibench", "--from", str(data), "--out", str(target)], "is a file")
    assert target.read_text() == "keep me"


def test_a_board_page_folder_in_the_way_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = tmp_path / "board"
    (board / "index.html").mkdir(parents=True)
    _refused(capsys, ["leaderboard", "render", "--board", str(board)], "is a directory")
