"""Cheating and escape attempts against the real HOL Light checkers, bytecode and native. None may PASS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from provebench.core.model import Status
from provebench.suites.load import Suite
from provebench.systems.hol_light.verifier import HolLightVerifier

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CORPUS = Path(__file__).parent / "hol_light"
SPEC: dict[str, Any] = yaml.safe_load((CORPUS / "cases.yaml").read_text())


def generated(name: str) -> str:
    if name == "ten_megabyte_proof":
        return "REWRITE_TAC[] THEN " * (10 * 1024 * 1024 // 19) + "ARITH_TAC"
    if name == "binary_bytes":
        return "ARITH_TAC " + "".join(chr(c) for c in range(0, 32) if chr(c) not in "\t\n\r\f")
    raise KeyError(name)


def assert_expected(verdict_status: Status, reason: str, expected: dict[str, Any]) -> None:
    assert verdict_status is not Status.PASS
    assert verdict_status.value == expected["status"]
    if "reason" in expected:
        assert reason == expected["reason"]


def test_corpus_is_complete() -> None:
    files = {p.stem for p in CORPUS.glob("*.ml")}
    assert files == set(SPEC["cases"])
    assert len(files) + len(SPEC["generated"]) >= 20


@pytest.mark.parametrize("name", sorted(SPEC["cases"]) + sorted(SPEC["generated"]))
def test_attack_does_not_pass(name: str, each_hol_verifier: HolLightVerifier, core_suite: Suite) -> None:
    problem = core_suite.problem(SPEC["problem"])
    expected = SPEC["cases"].get(name) or SPEC["generated"][name]
    proof = (CORPUS / f"{name}.ml").read_text() if name in SPEC["cases"] else generated(name)
    v = each_hol_verifier.check(problem, proof, timeout_s=expected.get("timeout_s", 20))
    assert_expected(v.status, v.reason.value, expected)
    # The checker is still healthy and still judges a valid proof correctly.
    assert each_hol_verifier.check(problem, "ARITH_TAC").status is Status.PASS


@pytest.mark.parametrize("name", sorted(SPEC["unvetted"]))
def test_in_checker_layer_stops_what_vetting_stops(
    name: str, each_hol_verifier: HolLightVerifier, core_suite: Suite
) -> None:
    """Replayed past static vetting, the checker's own checks still refuse the attack."""
    problem = core_suite.problem(SPEC["problem"])
    proof = (CORPUS / f"{name}.ml").read_text()
    v = each_hol_verifier.check_unvetted_for_tests(problem, proof, timeout_s=20)
    assert_expected(v.status, v.reason.value, SPEC["unvetted"][name])
    assert each_hol_verifier.check(problem, "ARITH_TAC").status is Status.PASS
