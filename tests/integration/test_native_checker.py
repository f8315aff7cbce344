"""What only the native-code HOL Light checker does: its own image and identity, phrases compiled to native
code in the forked child, failures raised from native code. The adversarial corpus and the shared checker
tests run against both builds (``each_hol_verifier``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provebench.core.model import Reason, Status
from provebench.suites.load import Suite
from provebench.systems.hol_light.verifier import HolLightVerifier

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_the_native_checker_is_its_own_pinned_checker(
    native_verifier: HolLightVerifier, bytecode_verifier: HolLightVerifier, core_suite: Suite
) -> None:
    hol_verifier = bytecode_verifier
    v = native_verifier.check(core_suite.problem("add_comm"), "ARITH_TAC")
    assert (v.status, v.reason) == (Status.PASS, Reason.PROVED)
    assert v.checker is not None and v.checker.recipe.startswith("hol-light-native:")
    assert hol_verifier.checker is not None and native_verifier.checker is not None
    # The same HOL Light, another checker: a board pinned to one refuses verdicts of the other.
    assert native_verifier.checker.version == hol_verifier.checker.version
    assert not native_verifier.checker.same_checker(hol_verifier.checker)


def test_failures_raised_from_native_code_are_the_proofs_and_the_checker_lives_on(
    native_verifier: HolLightVerifier, core_suite: Suite
) -> None:
    add_comm = core_suite.problem("add_comm")
    cases = {
        "fun g -> if 1 / (List.length (fst g)) = 0 then ARITH_TAC g else ALL_TAC g": (
            Reason.EXCEPTION,
            "Division_by_zero",
        ),
        "fun g -> ignore (Array.make (-1) 0); ARITH_TAC g": (Reason.EXCEPTION, "Invalid_argument"),
        "fun g -> ARITH_TAC (fst g, mk_comb (concl ADD_SYM, concl ADD_SYM))": (Reason.TACTIC_FAILED, "Failure"),
    }
    for proof, (reason, raised) in cases.items():
        v = native_verifier.check(add_comm, proof)
        assert (v.status, v.reason) == (Status.FAIL, reason), (proof, v.messages)
        assert raised in v.messages[0], v.messages
        assert native_verifier.check(add_comm, "ARITH_TAC").status is Status.PASS


def test_check_with_checker_native_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from provebench.cli.main import main

    monkeypatch.setenv("PROVEBENCH_APT_IGNORE_VALID_UNTIL", "1")
    proof = tmp_path / "proof.ml"
    proof.write_text("ARITH_TAC\n")
    argv = ["check", "--checker", "native", "--suite", "hol-light-core", "--problem", "add_comm", str(proof), "--json"]
    assert main(argv) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["status"] == "PASS" and verdict["checker"]["recipe"].startswith("hol-light-native:")
