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
from provebench.systems.lean.fill_in import FillInAnswer
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


PAIR = (
    "abbrev pair_1_solution : ℕ := sorry\n\ndef pair_2_solution : ℕ := sorry\n\n"
    "lemma pair_help : True := trivial\n\ntheorem pair : pair_1_solution + pair_2_solution = 13 := by sorry\n"
)
PAIR_PROOF = "import Mathlib\n\n" + PAIR.replace("ℕ := sorry", "ℕ := 5").replace("by sorry", "by rfl") + "\n\n"


@pytest.mark.parametrize(
    ("imports", "norm_num"),
    [(("Mathlib",), True), (("Mathlib.Data.Nat.Choose.Basic",), True), (("Init",), False)],
)
def test_the_request_is_the_context_the_statement_and_one_trusted_answer_theorem_per_slot(
    imports: tuple[str, ...], norm_num: bool
) -> None:
    # Exactly the files comparator builds: the context, the statement (or the candidate's body) and, per
    # answer slot, its equality with the reference (norm_num only where Mathlib is imported), one a paragraph.
    problem = lean_problem("pair", PAIR, Kind.FILL_IN, "[10, 3]", context="import Mathlib\n")
    request = judge_request(problem, PAIR_PROOF, imports, 10)

    def tactics(slot: str) -> str:
        return f"first | rfl{f' | norm_num [{slot}]' if norm_num else ''} | decide | simp [{slot}]"

    answers = ["theorem pb_answer_0 : (pair_1_solution) = (10)", "theorem pb_answer_1 : (pair_2_solution) = (3)"]
    assert request["challenge"] == "import Mathlib\n\n" + PAIR + "\n" + "\n".join(f"{a} := by sorry\n" for a in answers)
    # The candidate's import of a header module is dropped, its lines kept as blank ones.
    body = "\n\n" + PAIR_PROOF.removeprefix("import Mathlib\n\n") if imports == ("Mathlib",) else PAIR_PROOF
    body = body.rstrip()
    assert request["solution"] == "import Mathlib\n\n" + body + "\n\n" + (
        f"{answers[0]} := by {tactics('pair_1_solution')}\n\n{answers[1]} := by {tactics('pair_2_solution')}\n"
    )
    # A lemma is a theorem to compare; a `def` answer slot is a hole as an `abbrev` one is.
    assert request["theorem_names"] == ["pair_help", "pair", "pb_answer_0", "pb_answer_1"]
    assert request["definition_names"] == ["pair_1_solution", "pair_2_solution"]


def test_a_slot_s_own_answer_check_is_used_and_an_answer_holding_by_stays_whole() -> None:
    # The suite's template for a slot decides its trusted theorem; only the last `:= by` starts the tactics.
    answer = "[(let k : ℕ := by exact 10; k), 3]"
    check = (("pair_2_solution", "example : ($solution : ℕ) $op $answer := by $tactics"),)
    problem = lean_problem("pair", PAIR, Kind.FILL_IN, answer).model_copy(
        update={"extensions": (FillInAnswer(answer=answer, answer_checks=check),)}
    )
    request = judge_request(problem, PAIR_PROOF, ("Mathlib",), 10)
    assert request["challenge"].endswith(
        "theorem pb_answer_0 : (pair_1_solution) = ((let k : ℕ := by exact 10; k)) := by sorry\n\n"
        "theorem pb_answer_1 : (pair_2_solution : ℕ) = 3 := by sorry\n"
    )
    assert request["solution"].endswith(
        "theorem pb_answer_1 : (pair_2_solution : ℕ) = 3 := by first | rfl | norm_num [pair_2_solution] | decide"
        " | simp [pair_2_solution] | (ext; simp [pair_2_solution])\n"
    )


def test_a_statement_without_a_theorem_is_refused_with_the_problem_named() -> None:
    problem = lean_problem("no_claim", "def double (n : ℕ) : ℕ := 2 * n\n", context=HEADER)
    with pytest.raises(VerifierUnavailable, match="^problem no_claim: no theorem found in its statement$"):
        judge_request(problem, PROOF, ("Mathlib",), 10)


@pytest.mark.parametrize("exit_code", [0, 1, None])
def test_a_well_formed_answer_is_read_as_it_is(exit_code: int | None) -> None:
    raw = {
        "ok": exit_code == 0,
        "exit_code": exit_code,
        "timed_out": exit_code is None,
        "challenge_started": True,
        "solution_started": True,
        "output": "Building Challenge\n",
        "seconds": 2.5,
    }
    assert Judgement.parse(raw) == Judgement(
        ok=exit_code == 0,
        exit_code=exit_code,
        timed_out=exit_code is None,
        challenge_started=True,
        solution_started=True,
        output="Building Challenge\n",
        seconds=2.5,
    )


LONG = "x" * 400


@pytest.mark.parametrize(
    ("tail", "said"),
    [
        ("", "exit code 1"),  # nothing printed after the progress lines: the exit code is what there is to say
        ("first\nsecond\n(kernel) declaration type mismatch\n", "(kernel) declaration type mismatch"),
        (LONG + "\n", "x" * 300),
    ],
)
def test_a_refusal_comparator_does_not_name_is_told_by_its_last_line(tail: str, said: str) -> None:
    output = "" if not tail else BEFORE_SOLUTION + "Building Solution\n" + tail
    started = Judgement(False, 1, False, True, True, output, 1.0)
    found = judged(started, ["double_add"])
    assert found == (Status.FAIL, Reason.COMPILE_ERROR, f"the trusted judge (comparator) refused it: {said}")
    with pytest.raises(VerifierUnavailable) as failed:
        judged(Judgement(False, 1, False, False, False, output, 1.0), ["double_add"])
    assert str(failed.value) == f"the trusted judge failed on the statement: {said}"


def test_the_judge_s_messages_say_what_happened_and_are_bounded() -> None:
    timed_out = judged(_judgement(BEFORE_SOLUTION + "Building Solution\n", None, timed_out=True), ["double_add"])
    assert timed_out == (Status.TIMEOUT, Reason.WALL_TIMEOUT, "the trusted judge (comparator) ran out of time")
    axiom = judged(
        _judgement(BEFORE_SOLUTION + f"Building Solution\nuncaught exception: Illegal axiom detected: '{LONG}'\n"),
        ["double_add"],
    )
    assert axiom == (
        Status.CHEATING,
        Reason.DISALLOWED_AXIOM,
        "comparator: " + ("Illegal axiom detected: '" + LONG)[:300],
    )
