"""The real lean4-mathlib image: runs where it is built (it needs GitHub to build), skipped otherwise.

The same verdict paths run everywhere against the REPL double
(tests/unit/test_lean_checker.py, tests/adversarial/test_lean_adversarial.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provebench import containers
from provebench.containers.engine import DockerEngine
from provebench.core.model import Kind, Reason, Status
from provebench.core.settings import Settings
from provebench.suites.combibench import import_combibench
from provebench.suites.load import Suite, find_suite, load_suite
from provebench.systems.lean.factory import make_lean_group_verifier
from provebench.systems.lean.verifier import LeanVerifier

pytestmark = [pytest.mark.docker, pytest.mark.lean, pytest.mark.slow]
SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "combibench" / "combibench.jsonl"
SETTINGS = Settings(checkers=1, lean_memory_mb=8192)


@pytest.fixture(scope="module", autouse=True)
def _image() -> None:
    if DockerEngine(SETTINGS).find_image(containers.recipe("lean4-mathlib")) is None:
        pytest.skip("the lean4-mathlib image is not built here (provebench images build lean4-mathlib needs GitHub)")


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Suite, LeanVerifier]]:
    suite = find_suite("lean4-core", tmp_path_factory.mktemp("none"))
    verifier = make_lean_group_verifier(SETTINGS, suite.problems)
    yield suite, verifier
    verifier.close()


def test_every_lean4_core_reference_proof_passes(core: tuple[Suite, LeanVerifier]) -> None:
    suite, verifier = core
    got = {p.id: verifier.check(p, p.reference_proof or "").status for p in suite.problems}
    assert got == {p.id: Status.PASS for p in suite.problems}


def test_a_wrong_answer_and_a_wrong_proof_fail(core: tuple[Suite, LeanVerifier]) -> None:
    suite, verifier = core
    fill = suite.problem("pb_two_pow_ten")
    assert fill.kind is Kind.FILL_IN and fill.reference_proof
    wrong = fill.reference_proof.replace(":= 1024", ":= 1000")
    assert verifier.check(fill, wrong).status is Status.FAIL
    theorem = suite.problem("pb_add_comm_nat")
    assert verifier.check(theorem, (theorem.reference_proof or "").replace("Nat.add_comm a b", "rfl")).reason is (
        Reason.COMPILE_ERROR
    )


@pytest.mark.skipif(not SHARED.is_file(), reason=f"the shared CombiBench data is not beside the project ({SHARED})")
def test_combibench_statements_compile_and_sorry_is_not_a_proof(tmp_path: Path) -> None:
    import_combibench(SHARED, tmp_path / "suite")
    suite = load_suite(tmp_path / "suite")
    problem = suite.problem("hackmath_4")
    verifier = make_lean_group_verifier(SETTINGS, [problem])
    try:
        assert verifier.check(problem, "import Mathlib\n\n" + problem.statement).reason is Reason.SORRY
    finally:
        verifier.close()


def test_kimina_client_through_the_service_on_the_real_image() -> None:
    """Kimina's API on the real Lean REPL, read by the real kimina-client (the double: test_kimina_api.py)."""
    from provebench.checking.engine import Engine
    from provebench.core.model import System
    from provebench.service.app import create_app
    from provebench.service.state import ServiceState
    from tests.service_support import served
    from tests.unit.test_kimina_api import NATIVE, PROVED, SORRY, kimina

    state = ServiceState(engine=Engine(SETTINGS), systems=(System.LEAN4,), token="kimina-key")
    with served(create_app(state)) as url:
        answers = kimina(url, "sync", {"proved": PROVED, "sorry": SORRY, "native": NATIVE}, timeout=600)
        selftest = kimina(url, "test", timeout=600)  # kimina-client's own test(): `#check Nat`, Lean's exact reply
    # Kimina's meaning: native_decide compiles, so it is valid there; the strict verdict is in `verdict`.
    assert {a["id"]: a["status"] for a in answers} == {"proved": "valid", "sorry": "sorry", "native": "valid"}
    assert selftest == {"test": "passed"}


HELPER_FIRST = (
    "import Mathlib\n\nlemma helper (q : Prop) (h : q) : q := h\n\n"
    "theorem t (p : Prop) : p → p := fun h => helper p h\n"
)


def test_an_honest_proof_with_a_helper_lemma_before_it_passes(tmp_path: Path) -> None:
    # Hygienic binder names printed by toString run on across commands: a string comparison of types
    # would call this a statement mismatch. comparator compares the expressions.
    from provebench.core.model import Problem, System

    problem = Problem(
        id="t",
        suite="hygiene",
        system=System.LEAN4,
        statement="theorem t (p : Prop) : p → p := by sorry\n",
        context="import Mathlib",
        timeout_s=300,
        checker_image="lean4-mathlib",
    )
    verifier = make_lean_group_verifier(SETTINGS, [problem])
    try:
        assert verifier.check(problem, HELPER_FIRST).status is Status.PASS
    finally:
        verifier.close()
