"""Republishing a board on another checker, auditing it, and runs and suites that move, with the scripted verifier
double standing in for the checker. The same on real HOL Light images of two recipes is in
tests/integration/test_board_identity.py."""

from __future__ import annotations

import functools
import json
import random
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from provebench.boards import bundle
from provebench.boards.add import add_entry
from provebench.boards.board import Board
from provebench.boards.maintenance import ALREADY, NO_PROOFS, audit, republish
from provebench.boards.pages import render_board
from provebench.cli.main import main
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.model import CheckerInfo, Problem, Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from provebench.suites.s2n_source import import_source
from tests.doubles.verifier import DOUBLE_CHECKER, ScriptedVerifierDouble
from tests.unit.test_s2n_source_import import _checkout

Factory = Callable[[Settings, Sequence[Problem]], Verifier]
Script = Callable[[Problem, str, int], Verdict | VerifierUnavailable]
NEW_CHECKER = DOUBLE_CHECKER.model_copy(update={"recipe": "double:1", "image": "double:1", "digest": "sha256:new"})


def arith_passes(checker: CheckerInfo = DOUBLE_CHECKER) -> Script:
    """ARITH_TAC proves the arithmetic problems, nothing else passes (verdicts from ``checker``)."""

    def script(problem: Problem, proof: str, _call: int) -> Verdict | VerifierUnavailable:
        if proof.strip() == "ARITH_TAC" and problem.category == "arithmetic":
            return Verdict(status=Status.PASS, reason=Reason.PROVED, checker=checker)
        return Verdict(status=Status.FAIL, reason=Reason.TACTIC_FAILED, messages=("scripted",), checker=checker)

    return script


def double(script: Script, checker: CheckerInfo = DOUBLE_CHECKER, calls: list[str] | None = None) -> Factory:
    class Double(ScriptedVerifierDouble):
        pass

    Double.checker = checker

    def counted(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        if calls is not None:
            calls.append(problem.id)
        return script(problem, proof, call)

    return lambda _problems, _settings: Double(counted)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", suites_dir=tmp_path / "suites", infra_backoff_s=0)


def _run(tmp_path: Path, settings: Settings, name: str = "run") -> RunDir:
    config = build_config({"suite": "hol-light-core", "n": 2}, {}, "test")
    plan = plan_run(config, settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(tmp_path / name, plan.suite.name, prover.name)
    execute(plan, rundir, prover, settings, RunHooks(), double(arith_passes()))
    return rundir


@pytest.fixture()
def board(tmp_path: Path, settings: Settings) -> Path:
    """A board pinned to the double's first checker, with entries of every open-data kind."""
    run = _run(tmp_path, settings)
    path = tmp_path / "board"
    for name, open_data in (("Full", "full"), ("Partial", "partial"), ("Closed", "none")):
        out = tmp_path / f"{name}.tar.gz"
        bundle.pack(run, out, bundle.Submitter(name=name, contact="c", open_data=open_data))  # type: ignore[arg-type]
        add_entry(out, path, settings, make_verifier=double(arith_passes()), sample_fraction=0.5)
    return path


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_republish_moves_the_board_to_the_new_checker(board: Path, settings: Settings) -> None:
    calls: list[str] = []
    report = republish(board, settings, make_verifier=double(arith_passes(NEW_CHECKER), NEW_CHECKER, calls))
    b = Board(board)
    config = b.config()
    assert config is not None and config.checkers == [NEW_CHECKER] and report.pins == [NEW_CHECKER]
    by_id = {e.id: e for e in b.entries()}
    full, partial, closed = by_id["full"], by_id["partial"], by_id["closed"]
    # Full: every claimed PASS and the same seeded half of the others as at add; partial: its PASSes only.
    assert full.stale is None and full.reverification.on == [NEW_CHECKER]
    assert full.reverification.others_sampled == round(0.5 * full.reverification.others) > 0
    assert full.reverification.seed == full.earlier_reverifications[0].seed
    assert full.earlier_reverifications[0].on == [DOUBLE_CHECKER]
    assert partial.stale is None and partial.reverification.others_sampled == 0
    assert partial.reverification.checked == partial.reverification.claimed_pass > 0
    assert len(calls) == full.reverification.checked + partial.reverification.checked
    # Closed publishes no proofs: it waits for resubmission, kept but not ranked.
    assert closed.stale is not None and closed.stale.reason == "no-published-proofs"
    assert [o.entry for o in report.resubmit] == ["closed"] and report.not_reproduced == []
    assert [e.id for e in b.ranked()] == ["full", "partial"]
    html, md = render_board(b)
    assert "Awaiting resubmission" in html and "- Closed: its proofs are not published" in md
    assert "`double:1` double (packages `sha256:0`" in md and "| Closed |" not in md

    # Again on the same checker: nothing to check, nothing changes.
    before = _snapshot(board)
    again: list[str] = []
    report = republish(board, settings, make_verifier=double(arith_passes(NEW_CHECKER), NEW_CHECKER, again))
    assert again == [] and {o.entry: o.skipped for o in report.outcomes} == {
        "full": ALREADY,
        "partial": ALREADY,
        "closed": NO_PROOFS,
    }
    assert {k: v for k, v in _snapshot(board).items() if k != "board.yaml"} == {
        k: v for k, v in before.items() if k != "board.yaml"
    }


def test_verdicts_that_no_longer_reproduce_are_listed_and_the_entry_waits(board: Path, settings: Settings) -> None:
    def stricter(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        if problem.id == "add_comm":  # the new checker refuses a proof the old one accepted
            return Verdict(status=Status.FAIL, reason=Reason.TACTIC_FAILED, messages=("no",), checker=NEW_CHECKER)
        return arith_passes(NEW_CHECKER)(problem, proof, call)

    report = republish(board, settings, make_verifier=double(stricter, NEW_CHECKER))
    assert {o.entry for o in report.not_reproduced} == {"full", "partial"}
    full = next(o for o in report.outcomes if o.entry == "full")
    assert full.mismatches and all(m.startswith("add_comm sample ") for m in full.mismatches)
    assert "claimed PASS, got FAIL (tactic-failed: no)" in full.mismatches[0]
    entry = next(e for e in Board(board).entries() if e.id == "full")
    assert entry.stale is not None and entry.stale.reason == "not-reproduced" and "add_comm" in entry.stale.detail
    assert Board(board).ranked() == []


def test_an_interrupted_republish_changes_nothing_and_resumes(board: Path, settings: Settings) -> None:
    before = _snapshot(board)

    def dies_after_five(problem: Problem, proof: str, call: int) -> Verdict | VerifierUnavailable:
        return VerifierUnavailable("container gone") if call > 5 else arith_passes(NEW_CHECKER)(problem, proof, call)

    with pytest.raises(UserError, match="had no verdict .*run leaderboard republish again to resume"):
        republish(board, settings, make_verifier=double(dies_after_five, NEW_CHECKER))
    assert _snapshot(board) == before
    calls: list[str] = []
    republish(board, settings, make_verifier=double(arith_passes(NEW_CHECKER), NEW_CHECKER, calls))
    full = next(e for e in Board(board).entries() if e.id == "full")
    partial = next(e for e in Board(board).entries() if e.id == "partial")
    assert len(calls) == full.reverification.checked + partial.reverification.checked - 5


def test_a_resubmission_replaces_the_stale_entry(board: Path, tmp_path: Path, settings: Settings) -> None:
    republish(board, settings, make_verifier=double(arith_passes(NEW_CHECKER), NEW_CHECKER))
    run = tmp_path / "rerun"
    config = build_config({"suite": "hol-light-core", "n": 1}, {}, "test")
    plan = plan_run(config, settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(run, plan.suite.name, prover.name)
    execute(plan, rundir, prover, settings, RunHooks(), double(arith_passes(NEW_CHECKER), NEW_CHECKER))
    out = tmp_path / "again.tar.gz"
    bundle.pack(rundir, out, bundle.Submitter(name="Closed", contact="c", open_data="none"))
    entry = add_entry(out, board, settings, make_verifier=double(arith_passes(NEW_CHECKER), NEW_CHECKER))
    assert entry.id == "closed" and entry.stale is None and entry.sampling.samples_per_problem == 1
    assert sorted(e.id for e in Board(board).ranked()) == ["closed", "full", "partial"]
    assert not list((board / "entries").glob(".*"))  # no temporary folders left


def test_verify_reports_a_tampered_published_proof_per_entry(
    board: Path, settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from provebench.cli import board as cli_board
    from provebench.cli import images as cli_images

    monkeypatch.setattr(cli_images, "ensure_images", lambda _settings, _names: None)
    monkeypatch.setattr(cli_board, "audit", functools.partial(audit, make_verifier=double(arith_passes())))
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(settings.cache_dir))
    assert main(["leaderboard", "verify", "--board", str(board)]) == 0
    out = capsys.readouterr().out
    full = next(e for e in Board(board).entries() if e.id == "full")
    passes = full.reverification.claimed_pass
    assert f"full: {passes} of {passes} published PASS proofs reproduced" in out
    assert f"closed: {NO_PROOFS}" in out

    # A published proof altered after a clean audit: its kept result is not reused, and it is reported.
    attempts = board / "entries" / "full" / "attempts.jsonl"
    rows = [json.loads(line) for line in attempts.read_text().splitlines()]
    victim = next(r for r in rows if r["verdict"]["status"] == "PASS")
    victim["prover"]["proof"] = "ALL_TAC"
    attempts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    before = _snapshot(board)
    assert main(["leaderboard", "verify", "--board", str(board)]) == 1
    said = capsys.readouterr()
    assert f"full: {passes - 1} of {passes} published PASS proofs reproduced" in said.out
    assert f"  {victim['problem']} sample {victim['sample']} round 0: claimed PASS, got FAIL" in said.out
    assert "Traceback" not in said.err and _snapshot(board) == before

    # On another checker than the pinned one, the audit still runs and says so.
    monkeypatch.setattr(
        cli_board, "audit", functools.partial(audit, make_verifier=double(arith_passes(NEW_CHECKER), NEW_CHECKER))
    )
    assert main(["leaderboard", "verify", "--board", str(board), "--sample", "0.5"]) == 1
    said = capsys.readouterr()
    assert "note: this machine's double checker differs from the board's pin in its recipe" in said.err
    published = [r for r in Board(board).published_attempts(full) if r.verdict.status is Status.PASS]
    sample = random.Random(0).sample(published, round(passes * 0.5))  # --seed 0: anyone draws the same sample
    hit = any(r.problem == victim["problem"] and r.sample == victim["sample"] for r in sample)
    assert f"full: {len(sample) - hit} of {len(sample)} published PASS proofs reproduced" in said.out
    assert main(["leaderboard", "verify", "--board", str(board), "--sample", "0"]) == 2


def test_cli_republish_prints_each_entry_and_renders(
    board: Path, settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from provebench.cli import board as cli_board
    from provebench.cli import images as cli_images

    monkeypatch.setattr(cli_images, "ensure_images", lambda _settings, _names: None)
    monkeypatch.setattr(
        cli_board,
        "republish",
        functools.partial(republish, make_verifier=double(arith_passes(NEW_CHECKER), NEW_CHECKER)),
    )
    monkeypatch.setenv("PROVEBENCH_CACHE_DIR", str(settings.cache_dir))
    assert main(["leaderboard", "republish", "--board", str(board)]) == 0
    out = capsys.readouterr().out
    assert "full: " in out and "re-verified verdicts reproduced" in out and f"closed: {NO_PROOFS}" in out
    assert "pinned to double:1 double packages sha256:0\n" in out
    assert "need resubmission (kept, not ranked): closed" in out
    assert (board / "README.md").read_text() == render_board(Board(board))[1]
    assert main(["leaderboard", "republish", "--board", str(board.parent / "nowhere")]) == 2
    assert "not a board" in capsys.readouterr().err


def _baseline_run(folder: Path, settings: Settings, suite: str, calls: list[str] | None = None) -> RunDir:
    plan = plan_run(build_config({"suite": suite, "n": 2}, {}, "test"), settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(folder, plan.suite.name, prover.name)
    execute(plan, rundir, prover, settings, RunHooks(), double(arith_passes(), calls=calls))
    return rundir


def test_a_moved_run_and_a_moved_suite_resume_and_match_the_board(tmp_path: Path) -> None:
    # A suite with templates (imported from a small s2n-bignum checkout) in one user's suite folder.
    first = Settings(cache_dir=tmp_path / "cache", suites_dir=tmp_path / "home1" / "suites")
    import_source(_checkout(tmp_path), first.suites_dir / "s2n-bignum")
    board = tmp_path / "board"
    out = tmp_path / "first.tar.gz"
    bundle.pack(
        _baseline_run(tmp_path / "r1", first, "s2n-bignum"),
        out,
        bundle.Submitter(name="First", contact="c", open_data="full"),
    )
    add_entry(out, board, first, make_verifier=double(arith_passes()), sample_fraction=0.0)

    run = _baseline_run(tmp_path / "r2", first, "s2n-bignum")
    total = len(run.journal_path.read_text().splitlines())
    run.journal_path.write_text("".join(run.journal_path.read_text().splitlines(keepends=True)[:3]))  # killed
    # The run directory and the suite folder both move (another home; the suite's templates elsewhere).
    moved = tmp_path / "elsewhere" / "run"
    moved.parent.mkdir()
    shutil.move(str(run.path), moved)
    second = first.model_copy(update={"suites_dir": tmp_path / "home2" / "suites"})
    second.suites_dir.parent.mkdir()
    shutil.move(str(first.suites_dir), second.suites_dir)
    rundir = RunDir.existing(moved)
    plan = plan_run(rundir.config(), second)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    calls: list[str] = []
    summary = execute(plan, rundir, prover, second, RunHooks(), double(arith_passes(), calls=calls), resume=True)
    assert summary.complete and len(calls) == total - 3
    out = tmp_path / "moved.tar.gz"
    bundle.pack(rundir, out, bundle.Submitter(name="Moved", contact="c", open_data="full"))
    add_entry(out, board, second, make_verifier=double(arith_passes()), sample_fraction=0.0)
    assert sorted(e.id for e in Board(board).ranked()) == ["first", "moved"]
