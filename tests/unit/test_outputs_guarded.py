"""No command writes over a run's files or an input it read: such outputs are refused in one line, and files
are written whole (a temporary file renamed over the target).

Real run directories (``execute`` with the scripted checker double), real files; nothing here needs Docker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from provebench.cli.main import main
from provebench.core.settings import Settings
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config, read_config_file
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from tests.cli_support import refused_in_one_line
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


@pytest.mark.parametrize("name", ["attempts.jsonl", "config.yaml", "manifest.json", "summary.json"])
def test_submit_and_report_never_write_over_a_runs_files(
    run: RunDir, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    before = _snapshot(run)
    target = str(run.path / name)
    refused_in_one_line(capsys, ["submit", str(run.path), "-o", target, *SUBMITTER], "is a run's own file")
    refused_in_one_line(
        capsys, ["submit", str(run.path), "--format", "s2n-bignum-bench", "-o", target], "is a run's own file"
    )
    refused_in_one_line(capsys, ["report", str(run.path), "--html", "--out", target], "is a run's own file")
    assert _snapshot(run) == before


def test_another_name_for_the_journal_is_refused_too(
    run: RunDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(run)
    hard, soft = tmp_path / "hard.html", tmp_path / "soft.html"
    os.link(run.journal_path, hard)
    soft.symlink_to(run.journal_path)
    for alias in (hard, soft):
        refused_in_one_line(
            capsys, ["report", str(run.path), "--html", "--out", str(alias)], "write the report somewhere else"
        )
        refused_in_one_line(capsys, ["submit", str(run.path), "-o", str(alias), *SUBMITTER], "somewhere else")
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


def _under_file_size_limit(code: str, limit: int) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child whose files cannot grow past ``limit`` bytes: a write that dies half-way."""
    prelude = (
        "import resource, signal\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"  # so the write fails (EFBIG) instead of killing the child
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, env=env, timeout=60)


def test_a_write_that_dies_half_way_leaves_the_old_file(run: RunDir) -> None:
    """A full disk or a size limit mid-write: the old report and config stay whole, and no temporary file."""
    report = run.path / "report.html"
    report.write_text("the old report")
    child = _under_file_size_limit(
        f"from provebench.cli.main import main; raise SystemExit(main(['report', {str(run.path)!r}, '--html']))", 4096
    )
    assert child.returncode == 2 and "cannot write" in child.stderr and "Traceback" not in child.stderr, child.stderr
    assert report.read_text() == "the old report"
    config = run.config_path.read_bytes()
    assert len(config) > 64
    code = (
        "from pathlib import Path\nfrom provebench.runs.run import RunDir\n"
        "from provebench.runs.config import write_config\n"
        f"rd = RunDir(Path({str(run.path)!r}))\nwrite_config(rd.config(), rd.config_path)"
    )
    child = _under_file_size_limit(code, 64)
    assert child.returncode != 0 and "cannot write" in child.stderr, child.stderr
    assert run.config_path.read_bytes() == config
    assert not [f for f in run.path.iterdir() if f.name.endswith(".tmp")]


def test_a_bundle_or_summary_that_dies_half_way_leaves_the_old_one(run: RunDir, tmp_path: Path) -> None:
    bundle = tmp_path / "old.tar.gz"
    bundle.write_bytes(b"the old bundle")
    argv = ["submit", str(run.path), "-o", str(bundle), *SUBMITTER]
    child = _under_file_size_limit(f"from provebench.cli.main import main; raise SystemExit(main({argv!r}))", 256)
    assert child.returncode == 2 and "cannot write" in child.stderr and "Traceback" not in child.stderr, child.stderr
    assert bundle.read_bytes() == b"the old bundle"
    summary = run.summary_path.read_bytes()
    code = (
        "import json\nfrom pathlib import Path\nfrom provebench.runs.run import RunDir\n"
        f"rd = RunDir(Path({str(run.path)!r}))\nrd.write_json(rd.summary_path, json.loads(rd.summary_path.read_text()))"
    )
    child = _under_file_size_limit(code, 64)
    assert child.returncode != 0 and "cannot write" in child.stderr, child.stderr
    assert run.summary_path.read_bytes() == summary
    assert not [f for d in (run.path, tmp_path) for f in d.iterdir() if f.name.endswith(".tmp")]


def test_a_selftest_journal_may_not_be_a_runs_journal_or_a_suites_file(
    run: RunDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(run)
    suite = ROOT / "problems" / "hol-light-core"
    argv = ["suites", "selftest", "hol-light-core", "--journal"]
    refused_in_one_line(capsys, [*argv, str(run.journal_path)], "is a run's own file")
    refused_in_one_line(capsys, [*argv, str(suite / "problems.yaml")], "is an input of this command")
    assert _snapshot(run) == before


def test_an_export_may_not_replace_a_file_of_the_suite_it_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The s2n-bignum-bench export reads the run's suite (its queries): the suite's files are inputs too."""
    suite = tmp_path / "suite"
    shutil.copytree(ROOT / "problems" / "hol-light-core", suite)  # a copy: a failure must not touch the repository
    config = build_config({"suite": str(suite), "problems": ["excluded_middle", "add_comm"]}, {}, "t")
    plan = plan_run(config, SETTINGS)
    prover = make_prover("baseline", {})
    prover.prepare(plan.problems)
    rd = RunDir.create(tmp_path / "run", plan.suite.name, prover.name)
    execute(plan, rd, prover, SETTINGS, RunHooks(), lambda _p, _s: ScriptedVerifierDouble(passes_if("MESON_TAC[]")))
    before = {f: f.read_bytes() for f in suite.rglob("*") if f.is_file()}
    for name in ("problems.yaml", "suite.yaml"):
        argv = ["submit", str(rd.path), "--format", "s2n-bignum-bench", "-o", str(suite / name)]
        refused_in_one_line(capsys, argv, "is an input of this command")
    assert {f: f.read_bytes() for f in suite.rglob("*") if f.is_file()} == before
    assert main(["submit", str(rd.path), "--format", "s2n-bignum-bench", "-o", str(tmp_path / "answers.zip")]) == 0


def test_an_import_into_an_existing_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "combibench.jsonl"
    data.write_text("")
    target = tmp_path / "taken"
    target.write_text("keep me")
    refused_in_one_line(
        capsys, ["suites", "import", "combibench", "--from", str(data), "--out", str(target)], "is a file"
    )
    assert target.read_text() == "keep me"


def test_run_config_is_written_whole_and_reads_back(run: RunDir) -> None:
    assert build_config(read_config_file(run.config_path), {}, "t") == run.config()
    assert not [p for p in run.path.iterdir() if p.name.endswith(".tmp")]


def test_a_board_page_folder_in_the_way_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = tmp_path / "board"
    (board / "index.html").mkdir(parents=True)
    refused_in_one_line(capsys, ["leaderboard", "render", "--board", str(board)], "is a directory")
