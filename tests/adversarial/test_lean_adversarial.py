"""Cheating attempts against the Lean checker. None may PASS.

Every case runs through the real driver against the DOUBLES of the Lean REPL and of
comparator, the trusted judge (tests/doubles/lean_repl.py, tests/doubles/comparator.py: no
Lean toolchain here), and again against the real lean4-mathlib image where it is built
(marked `lean`, skipped otherwise).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from provebench.core.model import CheckerInfo, Status, System
from provebench.core.settings import Settings
from provebench.suites.load import Suite, find_suite
from provebench.systems.lean.judge_run import LocalJudge
from provebench.systems.lean.session import LocalLeanLauncher
from provebench.systems.lean.verifier import LeanVerifier

CORPUS = Path(__file__).parent / "lean"
SPEC: dict[str, Any] = yaml.safe_load((CORPUS / "cases.yaml").read_text())
DOUBLES = Path(__file__).resolve().parents[1] / "doubles"
DOUBLE = [sys.executable, str(DOUBLES / "lean_repl.py")]
JUDGE_DOUBLE = f"{sys.executable} {DOUBLES / 'comparator.py'}"


def _real_image_verifier(suite: Suite) -> LeanVerifier:
    from provebench import containers
    from provebench.containers.engine import DockerEngine
    from provebench.systems.lean.factory import make_lean_group_verifier

    settings = Settings(checkers=1, lean_memory_mb=8192)
    try:
        engine = DockerEngine(settings)
        built = engine.find_image(containers.recipe("lean4-mathlib"))
    except Exception as exc:  # noqa: BLE001 - no engine: the same skip
        pytest.skip(f"no Docker engine for the real Lean image: {exc}")
    if built is None:
        pytest.skip("the lean4-mathlib image is not built here (provebench images build lean4-mathlib needs GitHub)")
    verifier = make_lean_group_verifier(settings, suite.problems)
    return verifier


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Suite:
    return find_suite("lean4-core", tmp_path_factory.mktemp("no-user-suites"))


@pytest.fixture(scope="module", params=["double", pytest.param("image", marks=[pytest.mark.lean, pytest.mark.docker])])
def verifier(request: pytest.FixtureRequest, suite: Suite) -> Iterator[LeanVerifier]:
    if request.param == "double":
        # As the image runs: the REPL first, then the trusted judge (both doubles here).
        info = CheckerInfo(image="double", digest="double", system=System.LEAN4, version="lean-repl-double")
        judge = LocalJudge(JUDGE_DOUBLE)
        v = LeanVerifier(LocalLeanLauncher(DOUBLE), info, header=suite.manifest.context, checkers=1, judge=judge)
    else:
        v = _real_image_verifier(suite)
    yield v
    v.close()


def _generated(name: str) -> str:
    if name == "ten_megabyte_proof":
        return "theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := by\n" + "  skip\n" * (10 * 1024 * 1024 // 7)
    if name == "binary_bytes":
        return "theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := Nat.add_comm a b\x00\x01"
    raise KeyError(name)


def test_the_corpus_is_complete() -> None:
    assert {p.stem for p in CORPUS.glob("*.lean")} == set(SPEC["cases"])
    assert len(SPEC["cases"]) >= 25


@pytest.mark.parametrize("name", sorted(SPEC["cases"]) + sorted(SPEC["generated"]))
def test_attack_does_not_pass(name: str, verifier: LeanVerifier, suite: Suite) -> None:
    expected = SPEC["cases"].get(name) or SPEC["generated"][name]
    problem = suite.problem(expected.get("problem", SPEC["problem"]))
    proof = (CORPUS / f"{name}.lean").read_text() if name in SPEC["cases"] else _generated(name)
    v = verifier.check(problem, proof)
    assert v.status is not Status.PASS
    assert (v.status.value, v.reason.value) == (expected["status"], expected["reason"]), v.messages
    assert verifier.check(problem, problem.reference_proof or "").status is Status.PASS


@pytest.mark.parametrize("name", sorted(SPEC["unvetted"]))
def test_the_layers_after_compiling_stop_what_the_flags_stop(name: str, verifier: LeanVerifier, suite: Suite) -> None:
    expected = SPEC["unvetted"][name]
    problem = suite.problem(SPEC["problem"])
    v = verifier.check_unvetted_for_tests(problem, (CORPUS / f"{name}.lean").read_text())
    assert (v.status.value, v.reason.value) == (expected["status"], expected["reason"]), v.messages
