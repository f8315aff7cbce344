"""The REPL stage's judgement on a fingerprint (provebench/systems/lean/compare.py), rule by rule.

A fingerprint is what the trusted fingerprint command prints per declaration: its kind as Lean has it
(``theorem``, ``def``), elaborated type, a definition's value and a theorem's axioms.
"""

from __future__ import annotations

from typing import Any

import pytest

from provebench.core.model import Reason, Status
from provebench.systems.lean.compare import NATIVE_AXIOMS, STANDARD_AXIOMS, axioms_not_allowed, statement_mismatch

DEF = {"name": "double", "kind": "def", "type": "ℕ → ℕ", "value": "fun n => 2 * n"}
THM = {"name": "double_add", "kind": "theorem", "type": "∀ (a b : ℕ), double (a + b) = double a + double b"}
SLOT = {"name": "p_solution", "kind": "def", "type": "ℕ", "value": "sorry"}


def _fp(*decls: dict[str, Any], **changed: Any) -> dict[str, dict[str, Any]]:
    return {d["name"]: d | changed.get(d["name"], {}) for d in decls}


def test_the_statement_as_it_was_is_no_mismatch() -> None:
    assert statement_mismatch([DEF, THM], _fp(DEF, THM | {"axioms": ["propext"]})) is None


@pytest.mark.parametrize(
    ("candidate", "expected", "says"),
    [
        ({"double": DEF}, (Status.FAIL, Reason.MISSING_THEOREM), "no `double_add` after the candidate ran"),
        (_fp(DEF, THM, double_add={"missing": True}), (Status.FAIL, Reason.MISSING_THEOREM), "no `double_add`"),
        ({"double_add": THM}, (Status.CHEATING, Reason.STATEMENT_MISMATCH), "`double` of the statement is gone"),
        (_fp(DEF, THM, double={"missing": True}), (Status.CHEATING, Reason.STATEMENT_MISMATCH), "is gone"),
        (_fp(DEF, THM, double_add={"type": "True"}), (Status.CHEATING, Reason.STATEMENT_MISMATCH), "statement's type"),
        (_fp(DEF, THM, double={"type": "ℕ → ℤ"}), (Status.CHEATING, Reason.STATEMENT_MISMATCH), "statement's type"),
        (_fp(DEF, THM, double={"value": "fun n => 0"}), (Status.CHEATING, Reason.STATEMENT_MISMATCH), "defined as"),
    ],
)
def test_each_way_the_statement_can_be_lost_or_changed(
    candidate: dict[str, dict[str, Any]], expected: tuple[Status, Reason], says: str
) -> None:
    found = statement_mismatch([DEF, THM], candidate)
    assert found is not None and found[:2] == expected and says in found[2], found


def test_an_answer_slot_s_value_is_free_but_not_its_type() -> None:
    assert statement_mismatch([SLOT], _fp(SLOT, p_solution={"value": "10"})) is None
    found = statement_mismatch([SLOT], _fp(SLOT, p_solution={"type": "ℤ", "value": "10"}))
    assert found is not None and found[:2] == (Status.CHEATING, Reason.STATEMENT_MISMATCH)


def test_a_theorem_s_axioms_are_the_standard_three_at_most() -> None:
    assert axioms_not_allowed([DEF, THM], _fp(DEF, THM | {"axioms": sorted(STANDARD_AXIOMS)})) is None
    assert axioms_not_allowed([DEF, THM], _fp(DEF, THM)) is None  # none at all
    # A definition's axioms are not a proof's: only theorems are held to the list.
    assert axioms_not_allowed([DEF, THM], _fp(DEF | {"axioms": ["cheat"]}, THM)) is None


@pytest.mark.parametrize(
    ("axioms", "expected", "says"),
    [
        (["propext", "sorryAx"], (Status.FAIL, Reason.SORRY), "`double_add` depends on sorry"),
        (["sorryAx", "Lean.ofReduceBool"], (Status.FAIL, Reason.SORRY), "depends on sorry"),  # sorry first
        (["Lean.ofReduceBool"], (Status.CHEATING, Reason.NATIVE_CODE), "trusts compiled code: ['Lean.ofReduceBool']"),
        (["Lean.trustCompiler", "cheat"], (Status.CHEATING, Reason.NATIVE_CODE), "Lean.trustCompiler"),
        (["Lean.ofReduceNat"], (Status.CHEATING, Reason.NATIVE_CODE), "Lean.ofReduceNat"),
        (["propext", "cheat"], (Status.CHEATING, Reason.DISALLOWED_AXIOM), "`double_add` uses ['cheat']"),
    ],
)
def test_each_axiom_that_is_not_allowed(axioms: list[str], expected: tuple[Status, Reason], says: str) -> None:
    found = axioms_not_allowed([DEF, THM], _fp(DEF, THM | {"axioms": axioms}))
    assert found is not None and found[:2] == expected and says in found[2], found


def test_the_lists_are_lean_s() -> None:
    assert STANDARD_AXIOMS == {"propext", "Classical.choice", "Quot.sound"}
    assert NATIVE_AXIOMS == {"Lean.ofReduceBool", "Lean.trustCompiler", "Lean.ofReduceNat"}
