"""``provebench recheck`` of a real HOL Light run: the same checker, the same verdicts; an altered proof, its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provebench.cli.main import main
from provebench.core.journal import read_journal
from provebench.core.model import Status

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# The baseline prover's sample 0 is ARITH_TAC: it proves add_comm, not Peirce's law.
PROBLEMS = ["add_comm", "peirce", "excluded_middle", "contrapositive"]


def _recheck(capsys: pytest.CaptureFixture[str], transcript: list[str], *argv: str) -> tuple[int, str]:
    code = main(["recheck", *argv, "--no-progress", "--checkers", "1"])
    printed = capsys.readouterr()
    transcript += [f"$ provebench recheck {' '.join(argv)}", printed.out + printed.err, f"(exit {code})"]
    assert "Traceback" not in printed.err, printed.err
    return code, printed.out


def test_recheck_of_a_real_run_changes_no_verdict_and_an_altered_proof_changes_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    argv = ["run", "--suite", "hol-light-core", "--prover", "baseline", "-n", "1", "--timeout", "10"]
    argv += ["--checkers", "1", "--out", str(run), "--no-progress", *(a for p in PROBLEMS for a in ("--problem", p))]
    assert main(argv) == 0, capsys.readouterr().err
    capsys.readouterr()
    old = {r.key: r for r in read_journal(run / "attempts.jsonl")}
    assert old[("add_comm", 0, 0)].verdict.status is Status.PASS
    assert old[("peirce", 0, 0)].verdict.status is Status.FAIL
    transcript: list[str] = []

    code, out = _recheck(capsys, transcript, str(run), "--out", str(tmp_path / "same"), "--checker", "native")
    assert code == 0 and "rechecked 4 attempts" in out and "no verdict changed" in out, out
    same = {r.key: r for r in read_journal(tmp_path / "same" / "attempts.jsonl")}
    assert {k: (r.verdict.status, r.verdict.reason) for k, r in same.items()} == {
        k: (r.verdict.status, r.verdict.reason) for k, r in old.items()
    }
    assert all(r.verdict.checker is not None and r.verdict.checker.digest.startswith("sha256:") for r in same.values())

    # The journal edited as a careless or hostile user would: add_comm's proof broken, Peirce's law given a real one.
    lines = []
    for line in (run / "attempts.jsonl").read_text().splitlines():
        record = json.loads(line)
        record["prover"]["proof"] = {"add_comm": "ALL_TAC", "peirce": "MESON_TAC[]"}.get(
            record["problem"], record["prover"]["proof"]
        )
        lines.append(json.dumps(record) + "\n")
    (run / "attempts.jsonl").write_text("".join(lines))
    code, out = _recheck(capsys, transcript, str(run), "--out", str(tmp_path / "altered"))
    assert code == 1, out
    assert "2 verdict(s) changed" in out
    assert "add_comm sample 0 round 0: PASS (proved) -> FAIL (" in out
    assert "peirce sample 0 round 0: FAIL (" in out and ") -> PASS (proved)" in out
    solved = sum(r.verdict.status is Status.PASS for r in old.values())  # one lost, one won
    assert f"solved {solved}/4 -> {solved}/4" in out and f"pass@1 {25.0 * solved:.1f}% -> {25.0 * solved:.1f}%" in out
    # For the record of a real recheck (shown with pytest -rP, and kept beside the runs).
    (tmp_path / "transcript.txt").write_text("\n".join(transcript))
    print("\n".join(transcript))
