"""The comparator double's own rules (tests/doubles/comparator.py), run as its CLI is: ``comparator.py config.json``
from a project directory holding the two modules. No checkout needed; its agreement with comparator's own test
projects is tests/integration/test_comparator_conformance.py (marker upstream).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DOUBLE = Path(__file__).resolve().parents[1] / "doubles" / "comparator.py"
AXIOMS = ["propext", "Quot.sound", "Classical.choice"]
PRIMITIVES = (
    "Nat.add, Nat.sub, Nat.mul, Nat.pow, Nat.gcd, Nat.div, Nat.mod, Nat.beq, Nat.ble, Nat.land, Nat.lor, Nat.xor"
)

CHALLENGE = """\
structure Point where
  x : Nat
  y : Nat
  le : x ≤ y

def width (p : Point) : Nat := p.y - p.x

theorem thm (p : Point) : p.x + width p = p.y := by
  sorry
"""
PROOF = """\
theorem thm (p : Point) : p.x + width p = p.y := by
  unfold width
  omega
"""
DEFS = CHALLENGE.split("theorem thm")[0]


def judge(
    tmp_path: Path, challenge: str, solution: str, timeout: float = 60, **config: Any
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "Challenge.lean").write_text(challenge)
    (tmp_path / "Solution.lean").write_text(solution)
    cfg = {
        "challenge_module": "Challenge",
        "solution_module": "Solution",
        "theorem_names": ["thm"],
        "permitted_axioms": AXIOMS,
        "enable_nanoda": False,
        **config,
    }
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    return run(tmp_path, timeout=timeout)


def run(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(DOUBLE), *(args or ("config.json",))]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def failed(done: subprocess.CompletedProcess[str], message: str) -> bool:
    """comparator's failure: the thrown text as Lean prints an uncaught exception of main, exit code 1."""
    return done.returncode == 1 and done.stderr == f"uncaught exception: {message}\n"


def test_an_honest_solution_passes_with_comparators_output(tmp_path: Path) -> None:
    done = judge(tmp_path, CHALLENGE, DEFS + PROOF)
    targets = f"#[thm, propext, Quot.sound, Classical.choice, {PRIMITIVES}, Nat.shiftLeft, Nat.shiftRight]"
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        "Building Challenge",
        f"Exporting {targets} from Challenge",
        "Building Solution",
        f"Exporting {targets} from Solution",
        "Running Lean default kernel on solution.",
        "Lean default kernel accepts the solution",
        "Your solution is okay!",
    ]


def test_comments_layout_and_attributes_do_not_change_a_statement(tmp_path: Path) -> None:
    solution = "-- solved\n" + DEFS.replace("x : Nat", "x  :  Nat -- first") + "/-- the theorem -/\n@[simp]\n" + PROOF
    solution = solution.replace("(p : Point) :", "( p : Point )\n    :")
    assert judge(tmp_path, CHALLENGE, solution).returncode == 0


def test_a_changed_statement_fails(tmp_path: Path) -> None:
    done = judge(tmp_path, CHALLENGE, DEFS + PROOF.replace("= p.y", "≤ p.y + 1"))
    assert failed(done, "Challenge and solution theorem statement do not match: 'thm'")


def test_the_open_namespace_decoy_is_a_missing_theorem(tmp_path: Path) -> None:
    """Solved inside a namespace left open, the theorem is `X.thm`; `thm` is not in the solution. comparator
    never reaches its `Const not found in solution` check: lean4export, asked for `thm`, panics, and with
    LEAN_ABORT_ON_PANIC=1 aborts, which the sandboxed export reports as exit code 134."""
    done = judge(tmp_path, CHALLENGE, DEFS + "namespace X\n\n" + PROOF.replace(":= by", ":= by\n  sorry --"))
    assert failed(done, "process 'landrun' exited with code 134")
    assert done.stdout.splitlines()[-1].endswith("from Solution")  # the solution's export is what failed


def test_a_closed_namespace_is_no_decoy(tmp_path: Path) -> None:
    solution = DEFS + "namespace X\ntheorem helper : True := trivial\nend X\n\n" + PROOF
    assert judge(tmp_path, CHALLENGE, solution).returncode == 0


def test_indented_declarations_in_a_namespace_are_found(tmp_path: Path) -> None:
    challenge = "namespace X\n  def k : Nat := 3\n\n  theorem thm : k = 3 := by\n    sorry\nend X\n"
    honest = challenge.replace("    sorry", "    rfl")
    done = judge(tmp_path, challenge, honest, theorem_names=["X.thm"])
    assert done.returncode == 0, done.stderr
    decoy = honest.replace("  theorem", "namespace Y\n  theorem").replace("end X\n", "")  # X.Y.thm
    assert failed(judge(tmp_path, challenge, decoy, theorem_names=["X.thm"]), "process 'landrun' exited with code 134")


@pytest.mark.parametrize(
    ("opening", "ending"), [("namespace X\n", "end Y\n"), ("namespace X\n", "end\n"), ("section\n", "end\nend\n")]
)
def test_an_end_that_does_not_close_the_innermost_scope_fails_the_build(
    tmp_path: Path, opening: str, ending: str
) -> None:
    solution = opening + DEFS + PROOF + ending
    assert failed(judge(tmp_path, CHALLENGE, solution), "Child exited with 1")


def test_ends_that_close_their_scopes_pass(tmp_path: Path) -> None:
    helper = "namespace A.B\nsection S\ntheorem h : True := trivial\nend S\nend A.B\nnoncomputable section\n"
    done = judge(tmp_path, CHALLENGE, DEFS + helper + PROOF + "end\n")
    assert done.returncode == 0, done.stderr


def test_a_proof_line_is_not_taken_for_a_command(tmp_path: Path) -> None:
    """`open ... in` and `set_option ... in` inside a proof stay in it: the `sorry` after them is still seen."""
    for line in ("open Classical in", "set_option maxRecDepth 2000 in"):
        proof = PROOF.replace("  omega", f"  {line}\n  sorry")
        assert failed(judge(tmp_path, CHALLENGE, DEFS + proof), "Illegal axiom detected: 'sorryAx'"), line


def test_a_structure_redefined_with_weaker_fields_fails(tmp_path: Path) -> None:
    solution = (DEFS + PROOF).replace("  le : x ≤ y\n", "")
    done = judge(tmp_path, CHALLENGE, solution)
    assert failed(done, "Const does not match between challenge and target 'Point.mk'")  # the constructor differs


def test_a_changed_definition_the_statement_uses_fails(tmp_path: Path) -> None:
    solution = (DEFS + PROOF).replace("p.y - p.x", "p.y + p.x")
    assert failed(judge(tmp_path, CHALLENGE, solution), "Const does not match between challenge and target 'width'")


def test_a_definition_the_statement_uses_missing_from_the_solution_changes_the_statement(tmp_path: Path) -> None:
    """Lean would make the unknown `width` an auto-bound implicit (autoImplicit is on by default): another type."""
    solution = (DEFS + PROOF).replace("def width (p : Point) : Nat := p.y - p.x\n", "")
    assert failed(judge(tmp_path, CHALLENGE, solution), "Challenge and solution theorem statement do not match: 'thm'")


def test_a_challenge_definition_nothing_uses_must_still_be_in_the_solution_here(tmp_path: Path) -> None:
    """Conservative, as the docstring says (comparator checks only what the statements use): the message is
    comparator's for a used constant the solution lacks."""
    challenge = "def base : Nat := 0\n\n" + CHALLENGE
    assert failed(judge(tmp_path, challenge, DEFS + PROOF), "Const not found in solution 'base'")


HOLE = "def n : Nat := sorry\n\ntheorem thm : n + 17 = 34 := sorry\n"


def test_a_definition_hole_may_have_any_body(tmp_path: Path) -> None:
    done = judge(tmp_path, HOLE, "def n : Nat := 17\n\ntheorem thm : n + 17 = 34 := rfl\n", definition_names=["n"])
    assert done.returncode == 0, done.stderr


def test_a_definition_hole_of_another_type_fails(tmp_path: Path) -> None:
    done = judge(tmp_path, HOLE, "def n : Int := 17\n\ntheorem thm : n + 17 = 34 := sorry\n", definition_names=["n"])
    assert failed(done, "Const does not match between challenge and target 'n'")


def test_a_definition_hole_filled_by_an_axiom_fails(tmp_path: Path) -> None:
    done = judge(tmp_path, HOLE, "axiom n : Nat\n\ntheorem thm : n + 17 = 34 := sorry\n", definition_names=["n"])
    assert failed(done, "Solution constant is not a definition: 'n'")


def test_a_definition_hole_body_is_checked_for_axioms(tmp_path: Path) -> None:
    solution = "noncomputable def n : Nat := (fun _ => 17) (sorryAx Nat false)\n\ntheorem thm : n + 17 = 34 := rfl\n"
    done = judge(tmp_path, HOLE, solution, definition_names=["n"])
    assert failed(done, "Illegal axiom detected: 'sorryAx'")


def test_an_unsafe_definition_hole_is_left_out_of_the_export(tmp_path: Path) -> None:
    """lean4export writes no unsafe constant: the one path to compareAt's `Const not found in solution`."""
    solution = "unsafe def n : Nat := 17\n\ntheorem thm : n + 17 = 34 := sorry\n"
    done = judge(tmp_path, HOLE, solution, definition_names=["n"])
    assert failed(done, "Const not found in solution: 'n'")


@pytest.mark.parametrize("tactic", ["sorry", "admit", "exact sorry"])
def test_sorry_is_the_sorry_axiom(tmp_path: Path, tactic: str) -> None:
    done = judge(tmp_path, CHALLENGE, DEFS + PROOF.replace("omega", tactic))
    assert failed(done, "Illegal axiom detected: 'sorryAx'")


def test_sorry_in_a_helper_the_theorem_uses_is_found(tmp_path: Path) -> None:
    helper = "theorem helper (p : Point) : p.x ≤ p.y := by\n  sorry\n\n"
    done = judge(tmp_path, CHALLENGE, DEFS + helper + PROOF.replace("omega", "have := helper p\n  omega"))
    assert failed(done, "Illegal axiom detected: 'sorryAx'")


@pytest.mark.parametrize("tactic", ["native_decide", "decide +native", "bv_decide"])
def test_native_evaluation_is_lean_of_reduce_bool(tmp_path: Path, tactic: str) -> None:
    done = judge(tmp_path, CHALLENGE, DEFS + PROOF.replace("omega", tactic))
    assert failed(done, "Illegal axiom detected: 'Lean.ofReduceBool'")
    permitted = judge(
        tmp_path, CHALLENGE, DEFS + PROOF.replace("omega", tactic), permitted_axioms=[*AXIOMS, "Lean.ofReduceBool"]
    )
    assert permitted.returncode == 0, permitted.stderr


def test_a_new_axiom_the_proof_uses_fails(tmp_path: Path) -> None:
    cheat = "axiom cheat : ∀ p : Point, p.x + width p = p.y\n\n"
    done = judge(tmp_path, CHALLENGE, DEFS + cheat + PROOF.replace("unfold width\n  omega", "exact cheat p"))
    assert failed(done, "Illegal axiom detected: 'cheat'")


def test_an_axiom_hidden_behind_an_opaque_value_fails(tmp_path: Path) -> None:
    solution = (
        DEFS + "axiom f : False\nopaque v : False := f\n\n" + PROOF.replace("unfold width\n  omega", "exact v.elim")
    )
    assert failed(judge(tmp_path, CHALLENGE, solution), "Illegal axiom detected: 'f'")


def test_an_axiom_nothing_uses_still_fails_here(tmp_path: Path) -> None:
    """Conservative, as the docstring says: comparator would accept an axiom no checked constant uses."""
    done = judge(tmp_path, CHALLENGE, DEFS + "axiom unused : 1 = 2\n\n" + PROOF)
    assert failed(done, "Illegal axiom detected: 'unused'")


def test_a_theorem_restated_as_an_axiom_is_a_kind_mismatch(tmp_path: Path) -> None:
    done = judge(tmp_path, CHALLENGE, DEFS + "axiom thm (p : Point) : p.x + width p = p.y\n")
    assert failed(done, "Challenge and solution constant kind don't match: 'thm'")


def test_an_axiom_named_as_a_theorem_in_both_is_not_a_theorem(tmp_path: Path) -> None:
    axiom = "axiom thm : 1 = 1\n"
    assert failed(judge(tmp_path, axiom, axiom), "Solution constant is not a theorem: 'thm'")


def test_the_build_failure_marker_fails_the_solutions_build(tmp_path: Path) -> None:
    done = judge(tmp_path, CHALLENGE, DEFS + PROOF + "-- double: error\n")
    assert failed(done, "Child exited with 1")
    lines = done.stdout.splitlines()
    assert lines[2] == "Building Solution" and not any(line.startswith("Exporting") for line in lines[3:])


def test_a_missing_module_file_fails_its_build(tmp_path: Path) -> None:
    judge(tmp_path, CHALLENGE, DEFS + PROOF)
    (tmp_path / "Solution.lean").unlink()
    assert failed(run(tmp_path), "Child exited with 1")


def test_redeclaring_a_kernel_primitive_fails_the_build_unless_prelude(tmp_path: Path) -> None:
    gcd = "def Nat.gcd (_ _ : Nat) : Nat := 0\n\n"
    assert failed(judge(tmp_path, CHALLENGE, gcd + DEFS + PROOF), "Child exited with 1")  # already declared
    prelude = "prelude\nimport Init.Prelude\n\n" + gcd + DEFS + PROOF
    done = judge(tmp_path, CHALLENGE, prelude)  # its own Nat.gcd is not the challenge's (Init's)
    assert failed(done, "Const does not match between challenge and target 'Nat.gcd'")


def test_the_hang_marker_never_ends(tmp_path: Path) -> None:
    with pytest.raises(subprocess.TimeoutExpired):  # subprocess.run kills it
        judge(tmp_path, CHALLENGE, DEFS + PROOF + "-- double: hang\n", timeout=3)


def test_a_theorem_after_a_helper_lemma_with_the_same_binder_names_passes(tmp_path: Path) -> None:
    challenge = "theorem thm (p : Prop) : p → p := by\n  sorry\n"
    solution = (
        "lemma helper (p : Prop) (h : p) : p := h\n\n"
        "theorem thm (p : Prop) : p → p := by\n  intro h\n  exact helper p h\n"
    )
    done = judge(tmp_path, challenge, solution)
    assert done.returncode == 0, done.stderr


def test_a_context_the_solution_adds_before_a_theorem_changes_its_statement(tmp_path: Path) -> None:
    """An `open`, a `variable`, an instance or a metaprogram the challenge lacks can change what the same
    text elaborates to; the double cannot tell, so the statement no longer matches. Options that only bound
    the elaborator's effort are no context."""
    instance = "instance : LE Nat := ⟨fun _ _ => True⟩\n\n"
    for added in ("open Classical in\n", "open Classical\n\n", "variable (q : Nat)\n\n", instance, "run_cmd pure ()\n"):
        done = judge(tmp_path, CHALLENGE, DEFS + added + PROOF)
        assert failed(done, "Challenge and solution theorem statement do not match: 'thm'"), added
    harmless = judge(tmp_path, CHALLENGE, DEFS + "set_option maxHeartbeats 400000 in\n" + PROOF)
    assert harmless.returncode == 0, harmless.stderr


def test_a_solution_constant_shadowing_a_name_of_the_statement_changes_it(tmp_path: Path) -> None:
    """Same text, other constant: inside namespace X, the solution's `X.k` is what `k` means."""
    challenge = "def k : Nat := 3\n\nnamespace X\n\ntheorem thm : k = 3 := sorry\n\nend X\n"
    solution = challenge.replace("\ntheorem", "\ndef k : Nat := 3\n\ntheorem").replace("sorry", "rfl")
    done = judge(tmp_path, challenge, solution, theorem_names=["X.thm"])
    assert failed(done, "Challenge and solution theorem statement do not match: 'X.thm'")


def test_an_anonymous_instance_is_compared_under_leans_name_for_it(tmp_path: Path) -> None:
    challenge = "instance : Inhabited Nat := ⟨0⟩\n\ntheorem thm : (default : Nat) = 0 := sorry\n"
    done = judge(tmp_path, challenge, challenge.replace("⟨0⟩", "⟨1⟩").replace("sorry", "rfl"))
    assert failed(done, "Const does not match between challenge and target 'instInhabitedNat'")


def test_a_statement_using_a_private_constant_never_matches(tmp_path: Path) -> None:
    """A private name carries its module's (_private.Challenge.0.k, _private.Solution.0.k)."""
    challenge = "private def k : Nat := 3\n\ntheorem thm : k = 3 := sorry\n"
    done = judge(tmp_path, challenge, challenge.replace("sorry", "rfl"))
    assert failed(done, "Challenge and solution theorem statement do not match: 'thm'")


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("challenge_module", "Comparator.Config.challenge_module: String expected"),
        ("theorem_names", "Comparator.Config.theorem_names: expected JSON array, got 'null'"),
        ("permitted_axioms", "Comparator.Config.permitted_axioms: expected JSON array, got 'null'"),
        ("enable_nanoda", "Comparator.Config.enable_nanoda: Bool expected"),
    ],
)
def test_a_config_missing_a_required_field_fails(tmp_path: Path, drop: str, message: str) -> None:
    judge(tmp_path, CHALLENGE, DEFS + PROOF)
    cfg = json.loads((tmp_path / "config.json").read_text())
    del cfg[drop]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    done = run(tmp_path)
    assert failed(done, message) and done.stdout == ""


def test_without_a_config_argument_it_fails(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(DOUBLE)], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert failed(done, "Expected config file path as first argument.")


def test_nanoda_adds_its_targets_and_lines(tmp_path: Path) -> None:
    done = judge(tmp_path, CHALLENGE, DEFS + PROOF, enable_nanoda=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith("Exporting #[Nat, String, String.mk, Char, Char.ofNat, List, Quot, Quot.mk, Quot.lift")
    assert lines[-5:-3] == ["Running nanoda kernel on solution", "Nanoda kernel accepts the solution"]
