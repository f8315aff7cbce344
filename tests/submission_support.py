"""Submission bundles for tests: a finished run checked by the scripted verifier double, packed, and altered.

What the double cannot show (that verdicts are real) is shown by the round trip on real HOL Light in
tests/integration/test_leaderboard_real.py. The tests that use these (test_bundles, test_leaderboard_add,
test_add_reverification, test_submission_cli) show packing, every tampering case, digest and hash pins,
resumed re-verification, and the rendered pages' content.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from provebench.boards import bundle
from provebench.boards.bundle import ATTEMPTS_MEMBER, MANIFEST_MEMBER
from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Problem, Reason, Status, Verdict
from provebench.core.settings import Settings
from provebench.core.verifier import Verifier
from provebench.provers.registry import make_prover
from provebench.runs.config import build_config
from provebench.runs.run import RunDir, RunHooks, execute, plan_run
from tests.doubles.verifier import ScriptedVerifierDouble, verdict

Factory = Callable[[Settings, Sequence[Problem]], Verifier]


def arith_passes(problem: Problem, proof: str, _call: int) -> Verdict | VerifierUnavailable:
    """The double's script: ARITH_TAC proves the arithmetic problems, nothing else passes."""
    if proof.strip() == "ARITH_TAC" and problem.category == "arithmetic":
        return verdict(Status.PASS, Reason.PROVED)
    return verdict(Status.FAIL, Reason.TACTIC_FAILED, f"scripted failure of {proof!r}")


def scripted_verifiers(script: Callable[[Problem, str, int], Verdict | VerifierUnavailable] = arith_passes) -> Factory:
    return lambda _settings, _problems: ScriptedVerifierDouble(script)


def bundle_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


def rewrite(path: Path, out: Path, change: Callable[[dict[str, bytes]], None], rehash: bool = True) -> Path:
    """A copy of the bundle with ``change`` applied to its members (and the manifest's pins updated)."""
    members = bundle_members(path)
    change(members)
    if rehash:
        manifest = json.loads(members[MANIFEST_MEMBER])
        manifest["attempts"]["sha256"] = bundle.sha256_of(members[ATTEMPTS_MEMBER])
        manifest["attempts"]["count"] = len(members[ATTEMPTS_MEMBER].splitlines())
        members[MANIFEST_MEMBER] = json.dumps(manifest).encode()
    bundle.write_tar(out, members)
    return out


def edit_attempts(edit: Callable[[list[dict[str, Any]]], object]) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        rows = [json.loads(line) for line in members[ATTEMPTS_MEMBER].splitlines()]
        edit(rows)
        members[ATTEMPTS_MEMBER] = "".join(json.dumps(r) + "\n" for r in rows).encode()

    return change


def edit_manifest(edit: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        manifest = json.loads(members[MANIFEST_MEMBER])
        edit(manifest)
        members[MANIFEST_MEMBER] = json.dumps(manifest).encode()

    return change


def renamed(packed: Path, out: Path, name: str, contact: str = "ci@example.org") -> Path:
    """The same run submitted under another name (or contact): another bundle, with its own hash."""
    return rewrite(packed, out, edit_manifest(lambda m: m["submitter"].update(name=name, contact=contact)))


def board_is_empty(board: Path) -> bool:
    return not board.exists() or not any(board.rglob("*.json"))


def double_settings(tmp_path: Path) -> Settings:
    """Settings with the test's own cache and suites folders, and no wait before an infrastructure retry."""
    return Settings(cache_dir=tmp_path / "cache", suites_dir=tmp_path / "suites", infra_backoff_s=0)


def finished_run(tmp_path: Path, settings: Settings) -> RunDir:
    """A finished baseline run (n=2) on hol-light-core, checked by the double."""
    config = build_config({"suite": "hol-light-core", "n": 2}, {}, "test")
    plan = plan_run(config, settings)
    prover = make_prover("baseline", {})
    prover.prepare(plan.suite.problems)
    rundir = RunDir.create(tmp_path / "run", plan.suite.name, prover.name)
    execute(plan, rundir, prover, settings, RunHooks(), scripted_verifiers())
    return rundir


def packed_bundle(run: RunDir, tmp_path: Path) -> Path:
    """``run`` packed as ``entry.tar.gz``, by a submitter who lets a board publish everything."""
    out = tmp_path / "entry.tar.gz"
    bundle.pack(run, out, bundle.Submitter(name="Baseline (test)", contact="ci@example.org", open_data="full"))
    return out
