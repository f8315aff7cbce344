"""The trusted Lean judge's request and the reading of comparator's answer (provebench/systems/lean/judge.py).

comparator's messages are the ones its Main.lean prints and throws at its pinned commit (pre-v25, 97ef939):
progress lines ``Building M`` and ``Exporting [...] from M``, failures thrown as ``uncaught exception: ...``
with exit code 1, and ``Your solution is okay!`` last on success.
"""

from __future__ import annotations

import pytest

from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Kind, Problem, Reason, Status
from provebench.systems.lean.commands import declarations
from provebench.systems.lean.judge import Judgement, judge_request, judged
from tests.lean_support import lean_problem

HEADER = "import Mathlib\n\nopen Finset"
STATEMENT = (
    "def double (n : ℕ) : ℕ := 2 * n\n\n"
    "theorem double_add (a b : ℕ) : double (a + b) = double a + double b := by sorry\n"
)
PROOF = "import Mathlib\n\n" + STATEMENT.replace("by sorry", "by simp [double]; ring")
FILL_IN = (
    "abbrev choose_two_solution : ℕ := sorry\n\ntheorem choose_two : Nat.choose 5 2 = choose_two_solution := by sorry\n"
)
BEFORE_SOLUTION = "Building Challenge\nExporting #[double_add] from Challenge\n"


def _judgement(output: str, code: int | None = 1, timed_out: bool = False) -> Judgement:
    started = "\nBuilding Solution\n" in "\n" + output
    return Judgement(
        ok=code == 0 and output.endswith("okay!\n"),
        exit_code=code,
        timed_out=timed_out,
        challenge_started="\nBuilding Challenge\n" in "\n" + output,
        solution_started=started,
        output=output,
        seconds=1.0,
    )


def test_the_request_compares_the_statement_s_theorems_with_the_standard_axioms() -> None:
    request = judge_request(lean_problem("double_add", STATEMENT, context=HEADER), PROOF, ("Mathlib",), 10)
    assert request["challenge"].startswith(HEADER) and STATEMENT.strip() in request["challenge"]
    assert request["solution"].startswith(HEADER) and "by simp [double]; ring" in request["solution"]
    assert request["theorem_names"] == ["double_add"] and request["definition_names"] == []
    assert request["permitted_axioms"] == ["Classical.choice", "Quot.sound", "propext"]
    assert request["timeout_s"] > 10


def test_a_fill_in_answer_is_a_definition_hole_and_a_theorem_both_files_state() -> None:
    proof = FILL_IN.replace("ℕ := sorry", "ℕ := 10").replace("by sorry", "by rfl")
    request = judge_request(
        lean_problem("choose_two", FILL_IN, Kind.FILL_IN, "10", context=HEADER), proof, ("Mathlib",), 10
    )
    assert request["definition_names"] == ["choose_two_solution"]
    assert request["theorem_names"] == ["choose_two", "pb_answer_0"]
    assert "theorem pb_answer_0 : (choose_two_solution) = (10) := by sorry" in request["challenge"]
    assert "theorem pb_answer_0 : (choose_two_solution) = (10) := by first | rfl" in request["solution"]


def test_okay_is_a_pass_only_with_its_exit_code_and_last_line() -> None:
    assert (
        judged(_judgement(BEFORE_SOLUTION + "Building Solution\nYour solution is okay!\n", 0), ["double_add"]) is None
    )
    printed_then_failed = (
        BEFORE_SOLUTION + "Building Solution\nYour solution is okay!\nuncaught exception: Child exited with 1\n"
    )
    assert judged(_judgement(printed_then_failed, 1), ["double_add"]) == (
        Status.FAIL,
        Reason.COMPILE_ERROR,
        "the candidate did not build in the trusted judge (comparator)",
    )


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("Illegal axiom detected: 'sorryAx'", (Status.FAIL, Reason.SORRY)),
        ("Illegal axiom detected: 'Lean.ofReduceBool'", (Status.CHEATING, Reason.NATIVE_CODE)),
        ("Illegal axiom detected: 'cheat'", (Status.CHEATING, Reason.DISALLOWED_AXIOM)),
        ("Const not found in solution: 'double_add'", (Status.FAIL, Reason.MISSING_THEOREM)),
        ("Const not found in solution: 'double'", (Status.CHEATING, Reason.STATEMENT_MISMATCH)),
        (
            "Challenge and solution theorem statement do not match: 'double_add'",
            (Status.CHEATING, Reason.STATEMENT_MISMATCH),
        ),
        ("Const does not match between challenge and target 'double'", (Status.CHEATING, Reason.STATEMENT_MISMATCH)),
        ("Challenge and solution constant kind don't match: 'double'", (Status.CHEATING, Reason.STATEMENT_MISMATCH)),
        ("Solution constant is not a theorem: 'double_add'", (Status.CHEATING, Reason.STATEMENT_MISMATCH)),
        ("Child exited with 1", (Status.FAIL, Reason.COMPILE_ERROR)),
        ("process 'landrun' exited with code 134", (Status.FAIL, Reason.MISSING_THEOREM)),
        ("Const not found in solution 'double'", (Status.CHEATING, Reason.STATEMENT_MISMATCH)),
        ("Solution constant is not a definition: 'double'", (Status.CHEATING, Reason.STATEMENT_MISMATCH)),
        # The statement's side, but after the candidate's build began: the proof's verdict, never ERROR.
        ("Const not found in challenge: 'double_add'", (Status.FAIL, Reason.COMPILE_ERROR)),
        ("Challenge constant is not a definition: 'double'", (Status.FAIL, Reason.COMPILE_ERROR)),
        ("(kernel) declaration type mismatch", (Status.FAIL, Reason.COMPILE_ERROR)),
    ],
)
def test_each_refusal_on_the_solution_s_side_is_the_proof_s_verdict(
    failure: str, expected: tuple[Status, Reason]
) -> None:
    output = BEFORE_SOLUTION + "Building Solution\nExporting #[double_add] from Solution\n"
    found = judged(_judgement(output + f"uncaught exception: {failure}\n"), ["double_add"])
    assert found is not None and found[:2] == expected, found


def test_a_timeout_of_the_judge_is_the_proof_s_timeout() -> None:
    found = judged(_judgement(BEFORE_SOLUTION + "Building Solution\n", None, timed_out=True), ["double_add"])
    assert found is not None and found[:2] == (Status.TIMEOUT, Reason.WALL_TIMEOUT)


def test_only_a_failure_before_the_candidate_s_build_is_the_checker_s_fault() -> None:
    # comparator builds and exports the Challenge first: a failure there, before "Building Solution",
    # cannot be the candidate's doing (nothing of it has run).
    for output in (
        "Building Challenge\nuncaught exception: Child exited with 1\n",
        BEFORE_SOLUTION + "uncaught exception: process 'landrun' exited with code 134\n",
        "uncaught exception: Comparator.Config.enable_nanoda: Bool expected\n",
    ):
        with pytest.raises(VerifierUnavailable, match="failed on the statement"):
            judged(_judgement(output), ["double_add"])
    with pytest.raises(VerifierUnavailable):
        judged(_judgement(BEFORE_SOLUTION, None, timed_out=True), ["double_add"])


def test_a_whole_file_that_fails_as_the_challenge_is_the_file_s_failure_not_an_error() -> None:
    # A Kimina snippet is its own statement: its Challenge build is the candidate's code, so once comparator
    # has begun it, every refusal is the file's verdict (a failure turned into ERROR counts in neither n nor c).
    for output, expected in (
        ("Building Challenge\nuncaught exception: Child exited with 1\n", (Status.FAIL, Reason.COMPILE_ERROR)),
        (
            BEFORE_SOLUTION + "uncaught exception: process 'landrun' exited with code 134\n",
            (Status.FAIL, Reason.MISSING_THEOREM),
        ),
        (
            BEFORE_SOLUTION + "uncaught exception: Const not found in challenge: 'double_add'\n",
            (Status.FAIL, Reason.COMPILE_ERROR),
        ),
    ):
        found = judged(_judgement(output), ["double_add"], candidate_is_challenge=True)
        assert found is not None and found[:2] == expected, (output, found)
    found = judged(
        _judgement("Building Challenge\n", None, timed_out=True), ["double_add"], candidate_is_challenge=True
    )
    assert found is not None and found[:2] == (Status.TIMEOUT, Reason.WALL_TIMEOUT)
    # Before comparator ran at all, nothing of the file's has: that stays the checker's fault.
    with pytest.raises(VerifierUnavailable):
        judged(_judgement("uncaught exception: Comparator.Config.enable_nanoda: Bool expected\n"), [], True)


def test_what_the_candidate_prints_cannot_turn_its_failure_into_an_error() -> None:
    # The candidate's build prints into comparator's output after "Building Solution": a forged
    # challenge-side message there is not the trusted side's, and comparator's own message comes last.
    forged = BEFORE_SOLUTION + "Building Solution\nBuilding Challenge\nConst not found in challenge: 'double_add'\n"
    found = judged(_judgement(forged + "uncaught exception: Child exited with 1\n"), ["double_add"])
    assert found is not None and found[:2] == (Status.FAIL, Reason.COMPILE_ERROR)
    # Nor forge its way to a milder verdict: comparator's last message decides.
    sorry_first = forged + "Illegal axiom detected: 'sorryAx'\nuncaught exception: Illegal axiom detected: 'cheat'\n"
    found = judged(_judgement(sorry_first), ["double_add"])
    assert found is not None and found[:2] == (Status.CHEATING, Reason.DISALLOWED_AXIOM)


def test_an_answer_that_does_not_fit_is_the_checker_s_fault() -> None:
    for raw in (
        {},
        {"ok": True},
        {"ok": True, "exit_code": "x", "timed_out": False, "output": "", "seconds": 1},
        {"ok": True, "exit_code": 0, "timed_out": False, "solution_started": True, "output": "", "seconds": 1},
    ):
        with pytest.raises((KeyError, TypeError, ValueError)):
            Judgement.parse(raw)


def test_declarations_in_a_namespace_are_named_as_lean_names_them() -> None:
    statement = (
        "namespace Imo\n\ndef Cell (n : ℕ) : Type := Fin n\n\nsection\nabbrev imo_solution : ℕ := sorry\nend\n\n"
        "namespace Inner.Deep\ntheorem helper : True := trivial\nend Inner.Deep\n\n"
        "theorem imo : imo_solution = 3 := by sorry\n"
    )
    assert declarations(statement) == [
        ("def", "Imo.Cell"),
        ("abbrev", "Imo.imo_solution"),
        ("theorem", "Imo.Inner.Deep.helper"),
        ("theorem", "Imo.imo"),
    ]


def test_answer_theorems_are_named_in_the_namespace_the_statement_leaves_open() -> None:
    statement = "namespace Imo\n\n" + FILL_IN
    proof = statement.replace("ℕ := sorry", "ℕ := 10").replace("by sorry", "by rfl")
    request = judge_request(
        lean_problem("choose_two", statement, Kind.FILL_IN, "10", context=HEADER), proof, ("Mathlib",), 10
    )
    assert request["theorem_names"] == ["Imo.choose_two", "Imo.pb_answer_0"]
    assert request["definition_names"] == ["Imo.choose_two_solution"]


def test_a_whole_file_is_both_the_challenge_and_the_solution_with_every_theorem_it_declares() -> None:
    # Kimina's snippets: no statement apart from the file, so comparator checks the file against itself.
    text = (
        "import Mathlib\n\ndef double (n : ℕ) : ℕ := 2 * n\n\nlemma helper : double 1 = 2 := rfl\n\n"
        "namespace Imo\n\ntheorem t : double 2 = 4 := by simp [double]\n\nend Imo\n"
    )
    problem = Problem.lean_file(text, 10, "lean4-mathlib", "snippet")
    request = judge_request(problem, text, ("Mathlib",), 10)
    assert request["challenge"] == request["solution"]
    assert request["solution"].startswith("import Mathlib\n") and "namespace Imo" in request["solution"]
    assert request["theorem_names"] == ["helper", "Imo.t"] and request["definition_names"] == []
    assert request["permitted_axioms"] == ["Classical.choice", "Quot.sound", "propext"]
    assert request["timeout_s"] > 10
    with pytest.raises(VerifierUnavailable, match="no theorem"):
        judge_request(problem, "import Mathlib\n\ndef double (n : ℕ) : ℕ := 2 * n\n", ("Mathlib",), 10)
