"""The judgement on a candidate's fingerprint: the statement's declarations as trusted, and the axioms allowed.

A fingerprint (printed by ``lean_commands.fingerprint_command``) lists, per declaration name, its kind, its
elaborated type, a definition's value, and a theorem's axioms. Each function returns what is wrong as
``(status, reason, message)``, or None.
"""

from __future__ import annotations

from typing import Any

from provebench.core.model import Reason, Status

STANDARD_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
NATIVE_AXIOMS = frozenset({"Lean.ofReduceBool", "Lean.trustCompiler", "Lean.ofReduceNat"})
Found = tuple[Status, Reason, str]


def statement_mismatch(reference: list[dict[str, Any]], candidate: dict[Any, dict[str, Any]]) -> Found | None:
    """A declaration of the statement that the candidate lost or changed (a fill-in's answer may differ)."""
    for ref in reference:
        name = str(ref["name"])
        got = candidate.get(name)
        if got is None or got.get("missing"):
            if ref.get("kind") == "theorem":  # Lean's kind: a `lemma` is a theorem
                return Status.FAIL, Reason.MISSING_THEOREM, f"no `{name}` after the candidate ran"
            return Status.CHEATING, Reason.STATEMENT_MISMATCH, f"`{name}` of the statement is gone"
        if got.get("type") != ref.get("type"):
            return Status.CHEATING, Reason.STATEMENT_MISMATCH, f"`{name}` does not have the statement's type"
        answer_slot = name.endswith("_solution")
        if not answer_slot and ref.get("value") is not None and got.get("value") != ref.get("value"):
            return Status.CHEATING, Reason.STATEMENT_MISMATCH, f"`{name}` is not defined as in the statement"
    return None


def axioms_not_allowed(reference: list[dict[str, Any]], candidate: dict[Any, dict[str, Any]]) -> Found | None:
    """A theorem of ``reference`` as the candidate proved it that uses sorry, compiled code or another axiom."""
    for ref in reference:
        if ref.get("kind") != "theorem":
            continue
        name = ref["name"]
        axioms = set(candidate[name].get("axioms", []))
        if "sorryAx" in axioms:
            return Status.FAIL, Reason.SORRY, f"`{name}` depends on sorry"
        if native := sorted(axioms & NATIVE_AXIOMS):
            return Status.CHEATING, Reason.NATIVE_CODE, f"`{name}` trusts compiled code: {native}"
        if axioms - STANDARD_AXIOMS:
            return Status.CHEATING, Reason.DISALLOWED_AXIOM, f"`{name}` uses {sorted(axioms - STANDARD_AXIOMS)}"
    return None
