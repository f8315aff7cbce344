"""Guarantees whose loss no other test noticed (found by removing the guarding code): each test fails if it goes.

The checker is the scripted verifier double here, because each guarantee is about what provebench does with
verdicts (refusing, counting, exiting), not about how a verdict is reached; the same paths run on real HOL Light
in tests/integration/test_leaderboard_real.py and test_run.py.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from provebench.boards import bundle
from provebench.boards.add import add_entry
from provebench.boards.board import EntryRefused
from provebench.checking import registry
from provebench.cli import images as cli_images
from provebench.cli.main import main
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import Problem, Verdict
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from tests.doubles.openai_api import API_KEY, OpenAIApiDouble, fenced
from tests.doubles.verifier import ScriptedVerifierDouble
from tests.submission_support import arith_passes, edit_attempts, rewrite, scripted_verifiers

SUBMITTER = bundle.Submitter(name="Baseline (test)", contact="ci@example.org", open_data="full")


def _down_for_peirce(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
    """The double's script: the checker of one problem is lost on every try; the rest as ``arith_passes``."""
    if problem.id == "peirce":
        return VerifierUnavailable("container lost (scripted)")
    return arith_passes(problem, proof, call)


def _finished_run(tmp_path: Path, settings: Settings, script: object = arith_passes) -> RunDir:
    config = build_config({"suite": "hol-light-core", "n": 2}, {}, "test")
    plan = plan_run(config, settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(tmp_path / "run", plan.suite.name, prover.name)
    execute(plan, rundir, prover, settings, RunHooks(), scripted_verifiers(script))  # type: ignore[arg-type]
    return rundir


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", suites_dir=tmp_path / "suites", infra_backoff_s=0)


def test_a_claimed_failure_that_now_passes_refuses_the_entry(tmp_path: Path, settings: Settings) -> None:
    # A submitter may not hide a passing attempt as FAIL either: claims are compared both ways.
    packed = tmp_path / "entry.tar.gz"
    bundle.pack(_finished_run(tmp_path, settings), packed, SUBMITTER)

    def relabel(rows: list[dict[str, Any]]) -> None:
        row = next(r["verdict"] for r in rows if r["verdict"]["status"] == "PASS")
        row.update(status="FAIL", reason="tactic-failed")

    forged = rewrite(packed, tmp_path / "forged.tar.gz", edit_attempts(relabel))
    board = tmp_path / "board"
    with pytest.raises(EntryRefused) as exc:
        add_entry(forged, board, settings, make_verifier=scripted_verifiers(), sample_fraction=1.0)
    assert len(exc.value.report) == 1
    assert "claimed FAIL, got PASS" in exc.value.report[0]
    assert not (board / "entries").exists() or not any((board / "entries").iterdir())


def test_a_run_with_error_attempts_is_not_packed(tmp_path: Path, settings: Settings) -> None:
    run = _finished_run(tmp_path, settings, _down_for_peirce)
    statuses = [json.loads(line)["verdict"]["status"] for line in run.journal_path.read_text().splitlines()]
    assert "ERROR" in statuses  # the premise: the lost checker left attempts without a verdict
    # ERROR counts in neither n nor c, so the run is incomplete until they are retried (--resume).
    with pytest.raises(UserError, match=r"provebench run --resume"):
        bundle.pack(run, tmp_path / "x.tar.gz", SUBMITTER)
    assert not (tmp_path / "x.tar.gz").exists()


def test_a_bundle_carrying_an_error_attempt_is_refused(tmp_path: Path, settings: Settings) -> None:
    # Relabelling FAIL as ERROR would take the attempt out of both n and c, raising pass@k.
    packed = tmp_path / "entry.tar.gz"
    bundle.pack(_finished_run(tmp_path, settings), packed, SUBMITTER)

    def relabel(rows: list[dict[str, Any]]) -> None:
        row = next(r["verdict"] for r in rows if r["verdict"]["status"] == "FAIL")
        row.update(status="ERROR", reason="checker-unavailable")

    forged = rewrite(packed, tmp_path / "forged.tar.gz", edit_attempts(relabel))
    with pytest.raises(UserError, match=r"has no verdict \(ERROR\)"):
        bundle.read_bundle(forged)


@pytest.mark.parametrize(("script", "code"), [(arith_passes, 0), (_down_for_peirce, 3)])
def test_run_exits_3_when_attempts_end_in_error(
    script: object,
    code: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The checker table is the seam: the CLI builds its own verifiers through it.
    def factory_for(_system: str) -> object:
        def make(_settings: Settings, _problems: Sequence[Problem]) -> Verifier:
            return ScriptedVerifierDouble(script)  # type: ignore[arg-type]

        return make

    monkeypatch.setattr(registry, "factory_for", factory_for)
    monkeypatch.setattr(cli_images, "ensure_images", lambda _settings, _names: None)
    monkeypatch.setenv("PROVEBENCH_INFRA_BACKOFF_S", "0")
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "run"
    argv = ["run", "--suite", "hol-light-core", "--prover", "baseline", "-n", "1", "--out", str(out), "--no-progress"]
    assert main(argv) == code, capsys.readouterr().err
    statuses = {json.loads(line)["verdict"]["status"] for line in (out / "attempts.jsonl").read_text().splitlines()}
    assert ("ERROR" in statuses) == (code == 3)


def test_the_api_key_is_in_no_file_a_run_writes_nor_in_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The README promises the key is read from its variable and never written: not in the config, the
    # manifest, the journal, the summary, the report, the bundle, nor anything printed.
    monkeypatch.setattr(registry, "factory_for", lambda _system: lambda _s, _p: ScriptedVerifierDouble(arith_passes))
    monkeypatch.setattr(cli_images, "ensure_images", lambda _settings, _names: None)
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DOUBLE_API_KEY", API_KEY)
    out = tmp_path / "run"
    with OpenAIApiDouble(lambda goal, user: fenced("ARITH_TAC")) as api:
        argv = ["run", "--suite", "hol-light-core", "--prover", "openai", "--model", api.model]
        argv += ["--base-url", api.base_url, "--api-key-env", "DOUBLE_API_KEY", "-n", "1", "--out", str(out)]
        assert main([*argv, "--no-progress"]) == 0, capsys.readouterr().err
        assert api.requests, "the double was never asked: the key was not used"
    assert main(["report", str(out), "--html"]) == 0
    assert main(["submit", str(out), "--name", "T", "--contact", "t@example.org", "--open-data", "full"]) == 0
    printed = capsys.readouterr()
    written = [f for f in out.rglob("*") if f.is_file()]
    assert {"config.yaml", "manifest.json", "attempts.jsonl", "report.html", "submission.tar.gz"} <= {
        f.name for f in written
    }
    with tarfile.open(out / "submission.tar.gz") as tar:
        members = [tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()]  # type: ignore[union-attr]
    for data in [f.read_bytes() for f in written] + members:
        assert API_KEY.encode() not in data
    assert API_KEY not in printed.out + printed.err
