"""The Lean checker's every verdict path, through the real in-container driver and a DOUBLE of the Lean REPL.

No Lean toolchain runs here, so the REPL is tests/doubles/lean_repl.py,
which speaks the REPL's JSON protocol exactly but judges declarations as text.
The driver (harness/lean/driver.py) and the verifier are the real ones.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from provebench.checking.engine import Engine
from provebench.core.model import CheckerInfo, Kind, Problem, Reason, Status, System
from provebench.suites.combibench import answer_check_template
from provebench.systems.lean.commands import answer_command, candidate_body, split_answers
from provebench.systems.lean.fill_in import FillInAnswer
from provebench.systems.lean.session import LocalLeanLauncher
from provebench.systems.lean.verifier import LeanVerifier
from provebench.systems.lean.vetting import LeanLexicalError, flags, tokenize
from tests.lean_support import lean_problem

DOUBLE = [sys.executable, str(Path(__file__).resolve().parents[1] / "doubles" / "lean_repl.py")]
INFO = CheckerInfo(image="double", digest="double", system=System.LEAN4, version="lean-repl-double")

STATEMENT = """open Finset

def double (n : ℕ) : ℕ := 2 * n

theorem double_add (a b : ℕ) : double (a + b) = double a + double b := by sorry
"""
PROOF = STATEMENT.replace("by sorry", "by simp [double]; ring")
FILL_IN = """abbrev choose_two_solution : ℕ := sorry

theorem choose_two : Nat.choose 5 2 = choose_two_solution := by sorry
"""


THEOREM = lean_problem("double_add", STATEMENT)
CHOOSE = lean_problem("choose_two", FILL_IN, Kind.FILL_IN, "10")


@pytest.fixture(scope="module")
def verifier() -> Iterator[LeanVerifier]:
    v = LeanVerifier(LocalLeanLauncher(DOUBLE, max_uses=50), INFO, header="import Mathlib", checkers=1)
    v.prepare()
    yield v
    v.close()


def _got(v: LeanVerifier, problem: Problem, proof: str, timeout_s: float | None = None) -> tuple[Status, Reason]:
    verdict = v.check(problem, proof, timeout_s)
    return verdict.status, verdict.reason


def test_a_proof_of_the_statement_passes(verifier: LeanVerifier) -> None:
    assert _got(verifier, THEOREM, PROOF) == (Status.PASS, Reason.PROVED)
    assert _got(verifier, THEOREM, "import Mathlib\n\n" + PROOF) == (Status.PASS, Reason.PROVED)  # the header's import


@pytest.mark.parametrize(
    ("proof", "expected"),
    [
        (STATEMENT, (Status.FAIL, Reason.SORRY)),  # sorry is found before anything runs
        (PROOF.replace("theorem double_add (a b : ℕ)", "theorem double_add (a : ℕ) (b : ℕ)"), None),
        (PROOF.replace("def double (n : ℕ) : ℕ := 2 * n", "def double (n : ℕ) : ℕ := 0"), None),
        (PROOF.replace("double_add", "double_add'"), (Status.FAIL, Reason.MISSING_THEOREM)),
        (PROOF + "\n-- double: error unknown tactic\n", (Status.FAIL, Reason.COMPILE_ERROR)),
        (PROOF.replace("ring", "native_decide"), (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)),
        ("axiom cheat : False\n" + PROOF, (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)),
        ("import Lean\n" + PROOF, (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)),
        ("", (Status.FAIL, Reason.NO_PROOF)),
        (PROOF + "\x00", (Status.FAIL, Reason.INVALID_TEXT)),
        (PROOF + "/- never closed", (Status.FAIL, Reason.COMPILE_ERROR)),
    ],
)
def test_each_way_to_fail(verifier: LeanVerifier, proof: str, expected: tuple[Status, Reason] | None) -> None:
    got = _got(verifier, THEOREM, proof)
    assert got[0] is not Status.PASS
    if expected is None:  # a changed statement: the double compares declarations as text
        expected = (Status.CHEATING, Reason.STATEMENT_MISMATCH)
    assert got == expected


def test_exit_after_a_trivial_answer_cannot_skip_the_checks(verifier: LeanVerifier) -> None:
    # #exit is flagged; past the flags, the theorem is missing because the checks run as their own command.
    assert _got(verifier, THEOREM, "#exit\n" + PROOF)[0] is Status.CHEATING


def test_fill_in_answers_are_judged_in_a_trusted_command(verifier: LeanVerifier) -> None:
    right = FILL_IN.replace("abbrev choose_two_solution : ℕ := sorry", "abbrev choose_two_solution : ℕ := 10")
    right = right.replace("by sorry", "by decide")
    assert _got(verifier, CHOOSE, right) == (Status.PASS, Reason.PROVED)
    wrong = right.replace(":= 10", ":= 11")
    assert _got(verifier, CHOOSE, wrong) == (Status.FAIL, Reason.WRONG_ANSWER)
    no_answer = CHOOSE.model_copy(update={"extensions": ()})
    assert _got(verifier, no_answer, right) == (Status.FAIL, Reason.ANSWER_UNVERIFIED)


BINDER = """abbrev count_solution {k} : (Fin k → ℕ) → ℕ := sorry

theorem count (k : ℕ) (n : Fin k → ℕ) : count_solution n = ∏ i : Fin k, (n i + 1) := by sorry
"""


def test_answers_with_binders_are_judged_by_the_problems_template(verifier: LeanVerifier) -> None:
    template = answer_check_template(BINDER, "count_solution")
    assert template == "example {k} : ($solution (k := k)) $op (($answer : (Fin k → ℕ) → ℕ)) := by $tactics"
    answer = "fun n => (∏ i : Fin k, (n i + 1))"
    # The reference answer mentions the binder k: only the template binds it, and it ascribes the slot's type.
    assert answer_command("count_solution", answer, template=template) == (
        "example {k} : (count_solution (k := k)) = ((fun n => (∏ i : Fin k, (n i + 1)) : (Fin k → ℕ) → ℕ)) := by "
        "first | rfl | norm_num [count_solution] | decide | simp [count_solution] | (ext; simp [count_solution])\n"
    )
    assert "≠" in answer_command("count_solution", answer, negate=True, template=template)
    problem = lean_problem("count", BINDER, Kind.FILL_IN, answer).model_copy(
        update={"extensions": (FillInAnswer(answer=answer, answer_checks=(("count_solution", template),)),)}
    )
    right = BINDER.replace(":= sorry", f":= {answer}").replace("by sorry", "by simp [count_solution]")
    assert _got(verifier, problem, right) == (Status.PASS, Reason.PROVED)
    wrong = right.replace(f":= {answer}", f":= {answer.replace('+ 1', '+ 2')}", 1)
    assert wrong != right and _got(verifier, problem, wrong)[0] is Status.FAIL


def test_a_hang_is_a_timeout_and_the_checker_recovers() -> None:
    v = LeanVerifier(LocalLeanLauncher(DOUBLE), INFO, header="import Mathlib", checkers=1)
    try:
        assert _got(v, THEOREM, PROOF + "\n-- double: hang\n", timeout_s=1) == (Status.TIMEOUT, Reason.WALL_TIMEOUT)
        assert _got(v, THEOREM, PROOF) == (Status.PASS, Reason.PROVED)  # respawned, header run again
        assert _got(v, THEOREM, PROOF + "\n-- double: crash\n") == (Status.FAIL, Reason.CRASHED)
        assert _got(v, THEOREM, PROOF) == (Status.PASS, Reason.PROVED)
    finally:
        v.close()


def test_the_repl_is_recycled_after_its_uses() -> None:
    v = LeanVerifier(LocalLeanLauncher(DOUBLE, max_uses=3), INFO, header="import Mathlib", checkers=1)
    try:
        # Each check is three commands (statement once, candidate, fingerprint): recycling happens between them.
        verdicts = [_got(v, THEOREM, PROOF) for _ in range(5)]
    finally:
        v.close()
    assert verdicts == [(Status.PASS, Reason.PROVED)] * 5 and v.recycled >= 2


def test_a_header_that_does_not_load_is_a_checker_error() -> None:
    from provebench.core.errors import VerifierUnavailable

    v = LeanVerifier(LocalLeanLauncher(DOUBLE), INFO, header="-- double: error unknown package 'Mathlib'\n")
    with pytest.raises(VerifierUnavailable, match="header does not load"):
        v.prepare()
    v.close()


def test_the_tokenizer_understands_comments_and_strings() -> None:
    text = 'theorem t : True := by\n  -- sorry here is a comment\n  /- and /- nested -/ sorry -/ trivial\n#eval "sorry"'
    words = [t.text for t in tokenize(text)]
    assert "sorry" not in words and "#eval" in words and "trivial" in words
    assert [f.word for f in flags(text, "")] == ["#eval"]
    with pytest.raises(LeanLexicalError, match="unterminated comment"):
        tokenize("/- open")
    assert [f.word for f in flags("example := by decide +native", "")] == ["decide +native"]
    assert [f.word for f in flags("set_option debug.skipKernelTC true", "")] == [
        "skipKernelTC",
        "set_option debug.skipKernelTC",
    ]
    assert [t.text for t in tokenize("def «end» := Foo.«x.y».z")] == ["def", "«end»", ":", "=", "Foo.«x.y».z"]
    assert [f.word for f in flags("theorem x := Lean.ofReduceBool", "")] == ["ofReduceBool"]


def test_what_the_statement_uses_is_allowed_as_often_as_it_does() -> None:
    statement = "variable (n : ℕ)\ninstance : Inhabited ℕ := ⟨0⟩\ntheorem t : n = n := by sorry"
    assert flags(statement.replace("by sorry", "rfl"), statement) == []
    extra = statement.replace("by sorry", "rfl") + "\ninstance : Inhabited ℕ := ⟨1⟩"
    assert [f.word for f in flags(extra, statement)] == ["instance"]
    assert [f.word for f in flags(statement, statement)] == ["sorry"]


def test_candidate_bodies_and_answers() -> None:
    assert candidate_body("import Mathlib\nimport Mathlib\n\ntheorem t", ("Mathlib",)) == "\n\n\ntheorem t"
    assert candidate_body("import Lean\ntheorem t", ("Mathlib",)).startswith("import Lean")
    assert split_answers("[3 / 4, f (a, b), 1 / 2]", 3) == ["3 / 4", "f (a, b)", "1 / 2"]
    assert split_answers("[1, 2]", 3) is None and split_answers("7", 1) == ["7"]


def test_every_lean4_core_reference_proof_passes_and_its_statement_does_not(tmp_path: Path) -> None:
    from provebench.suites.load import find_suite

    suite = find_suite("lean4-core", tmp_path)
    assert len(suite.problems) >= 30 and all(p.reference_proof for p in suite.problems)
    assert sum(p.kind is Kind.FILL_IN for p in suite.problems) >= 3
    v = LeanVerifier(LocalLeanLauncher(DOUBLE), INFO, header=suite.manifest.context, checkers=1)
    try:
        passed = [_got(v, p, p.reference_proof or "") for p in suite.problems]
        unproved = [_got(v, p, p.statement)[0] for p in suite.problems]
    finally:
        v.close()
    assert passed == [(Status.PASS, Reason.PROVED)] * len(suite.problems)
    assert Status.PASS not in unproved


def _use_the_repl_double(monkeypatch: pytest.MonkeyPatch) -> None:
    """provebench commands in this test check Lean on the local backend, with the REPL double."""
    monkeypatch.setenv("PROVEBENCH_BACKEND", "local")
    monkeypatch.setenv("PROVEBENCH_LEAN_REPL_COMMAND", " ".join(DOUBLE))


def test_the_cli_checks_and_runs_lean_problems_on_the_local_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from provebench.cli.main import main

    _use_the_repl_double(monkeypatch)
    monkeypatch.setenv("PROVEBENCH_SUITES_DIR", str(tmp_path / "suites"))
    proof = tmp_path / "proof.lean"
    proof.write_text("theorem pb_and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := ⟨h.2, h.1⟩\n")
    assert main(["check", "--suite", "lean4-core", "--problem", "pb_and_swap", str(proof), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "PASS"
    proof.write_text("theorem pb_and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := by sorry\n")
    assert main(["check", "--suite", "lean4-core", "--problem", "pb_and_swap", str(proof), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "sorry"
    assert main(["suites", "selftest", "lean4-core", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["checked"] == report["passed"] == 30 and report["failures"] == []
    assert report["tightest"]["problem"].startswith("pb_") and 0 <= report["tightest"]["share"] < 1

    # A journalled selftest stopped mid-way (two verdicts and a torn line) goes on from its journal.
    journal = tmp_path / "selftest.jsonl"
    assert main(["suites", "selftest", "lean4-core", "--sample", "5", "--journal", str(journal), "--json"]) == 0
    capsys.readouterr()
    lines = journal.read_text().splitlines()
    assert len(lines) == 5 and all(json.loads(line)["verdict"]["status"] == "PASS" for line in lines)
    journal.write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])
    assert main(["suites", "selftest", "lean4-core", "--sample", "5", "--journal", str(journal), "--json"]) == 0
    out = capsys.readouterr()
    assert "2 of 5 verdicts from" in out.err
    assert [line.split()[0] for line in out.err.splitlines() if " PASS " in line] == ["3/5", "4/5", "5/5"]
    assert json.loads(out.out)["checked"] == json.loads(out.out)["passed"] == 5
    rows = [json.loads(line) for line in journal.read_text().splitlines() if line.endswith("}")]
    assert sorted(r["problem"] for r in rows) == sorted(json.loads(line)["problem"] for line in lines)
    # A verdict from another checker (another recipe) does not count: that problem is checked again. One from
    # another build of the same checker (another image digest, the same identity) does.
    rows[0]["verdict"]["checker"]["recipe"] = "lean4-mathlib:another-recipe"
    rows[1]["verdict"]["checker"]["digest"] = "sha256:another-build"
    journal.write_text("".join(json.dumps(r) + "\n" for r in rows))
    planned: list[str] = []
    plan = Engine.plan
    monkeypatch.setattr(Engine, "plan", lambda engine, ps: (planned.extend(p.id for p in ps), plan(engine, ps))[1])
    assert main(["suites", "selftest", "lean4-core", "--sample", "5", "--journal", str(journal), "--json"]) == 0
    assert "4 of 5 verdicts from" in capsys.readouterr().err
    # The checkers are planned for (and start on) what is left to check only.
    assert set(planned) == {rows[0]["problem"]}


def test_a_selftest_leaves_out_problems_over_max_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import shutil

    from provebench.cli.main import main

    _use_the_repl_double(monkeypatch)
    suite = tmp_path / "lean4-slow"
    shutil.copytree(Path(__file__).resolve().parents[2] / "problems" / "lean4-core", suite)
    problems = suite / "problems.yaml"
    # Two problems get a long timeout, as s2n-bignum's longest reference proofs have.
    text = problems.read_text().replace("- id: pb_and_swap\n", "- id: pb_and_swap\n  timeout_s: 9000\n", 1)
    problems.write_text(text.replace("- id: pb_or_swap\n", "- id: pb_or_swap\n  timeout_s: 9000\n", 1))
    args = ["suites", "selftest", str(suite), "--sample", "30", "--json"]
    assert main([*args, "--max-timeout", "600"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["checked"] == report["passed"] == 28 and report["left_out"] == ["pb_and_swap", "pb_or_swap"]
    assert "left out (timeout over 600 s): pb_and_swap, pb_or_swap" in out.err
    assert main(args) == 0  # without the limit, the same sample has all 30
    assert json.loads(capsys.readouterr().out)["left_out"] == []
    assert main([*args, "--max-timeout", "10"]) == 2
    assert capsys.readouterr().err.strip() == (
        "provebench: error: every problem to check has a timeout over --max-timeout 10 s"
    )


def test_a_run_of_a_lean_suite_journals_lean_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from provebench.cli.main import main

    _use_the_repl_double(monkeypatch)
    answers = tmp_path / "answers.jsonl"
    right = "theorem pb_or_swap (p q : Prop) : p ∨ q → q ∨ p := fun h => h.elim Or.inr Or.inl\n"
    wrong = "abbrev pb_two_pow_ten_solution : Nat := 1000\n\n"
    wrong += "theorem pb_two_pow_ten : 2 ^ 10 = pb_two_pow_ten_solution := rfl\n"
    answers.write_text(
        json.dumps({"problem_id": "pb_or_swap", "answer": right})
        + "\n"
        + json.dumps({"problem_id": "pb_two_pow_ten", "answer": wrong})
        + "\n"
    )
    out = tmp_path / "run"
    args = ["run", "--suite", "lean4-core", "--prover", "replay", "--answers", str(answers), "--out", str(out)]
    args += ["--problem", "pb_or_swap", "--problem", "pb_two_pow_ten", "--no-progress"]
    assert main(args) == 0
    records = [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]
    got = {r["problem"]: (r["verdict"]["status"], r["verdict"]["reason"]) for r in records}
    assert got == {"pb_or_swap": ("PASS", "proved"), "pb_two_pow_ten": ("FAIL", "wrong-answer")}


def test_the_baseline_prover_and_the_prompts_speak_lean(tmp_path: Path) -> None:
    import asyncio

    from provebench.provers.baseline import BaselineProver, BaselineSettings, fill_lean_statement
    from provebench.provers.prompting import PromptTemplates
    from provebench.suites.load import find_suite

    suite = find_suite("lean4-core", tmp_path)
    problem = suite.problem("pb_add_comm_nat")
    assert fill_lean_statement(problem.statement, "omega").endswith(":= by omega\n")
    assert fill_lean_statement("theorem t : True := sorry\n", "trivial") == "theorem t : True := (by trivial)\n"
    prover = BaselineProver(BaselineSettings())
    prover.prepare(suite.problems)
    outputs = [asyncio.run(prover.attempt(problem, i, ())).proof for i in range(4)]
    assert all("sorry" not in o and o.startswith("theorem pb_add_comm_nat") for o in outputs)
    v = LeanVerifier(LocalLeanLauncher(DOUBLE), INFO, header="", checkers=1)
    try:
        assert Status.PASS in {v.check(problem, o).status for o in outputs}
    finally:
        v.close()
    messages = PromptTemplates.for_system(System.LEAN4, None).render(suite.problem("pb_two_pow_ten"), ())
    assert "pb_two_pow_ten_solution" in messages.user and "fill-in problem" in messages.user
    assert "Lean 4" in messages.system and "Mathlib" not in messages.system


def test_the_combibench_protocol_reports_the_benchmarks_own_score_beside_provebenchs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from provebench.cli.main import main

    _use_the_repl_double(monkeypatch)
    answers = {
        "pb_or_swap": "theorem pb_or_swap (p q : Prop) : p ∨ q → q ∨ p := fun h => h.elim Or.inr Or.inl\n",
        # compiles, so CombiBench's judge accepts it; provebench refuses native_decide
        "pb_ten_is_even": "theorem pb_ten_is_even : 10 % 2 = 0 := by native_decide\n",
        # a wrong answer: both refuse it
        "pb_sum_list": "abbrev pb_sum_list_solution : Nat := 16\n\n"
        "theorem pb_sum_list : [3, 5, 7].foldl (· + ·) 0 = pb_sum_list_solution := rfl\n",
    }
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(json.dumps({"problem_id": k, "answer": v}) + "\n" for k, v in answers.items()))
    out = tmp_path / "run"
    args = ["run", "--suite", "lean4-core", "--prover", "replay", "--answers", str(path), "--out", str(out)]
    args += ["--protocol", "combibench", "--no-progress", "--json"]
    for pid in answers:
        args += ["--problem", pid]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["samples_per_problem"] == 16  # CombiBench's n
    assert summary["solved"] == 1
    assert summary["benchmark"]["solved"] == 2 and summary["benchmark"]["accepted_but_refused"] == 1
    lines = (out / "attempts.jsonl").read_text().splitlines()
    records = [{"problem": r["problem"], **r["verdict"]} for r in map(json.loads, lines)]
    # The replay prover has one answer per problem: the other 15 samples are FAIL no-proof, never judged.
    judged = {(r["problem"], r["status"], r["benchmark_pass"]) for r in records if r["benchmark_pass"] is not None}
    assert judged == {
        ("pb_or_swap", "PASS", True),
        ("pb_ten_is_even", "CHEATING", True),
        ("pb_sum_list", "FAIL", False),
    }
    assert main(["report", str(out)]) == 0
    assert "the benchmark's own judge" in capsys.readouterr().out


def test_the_repl_is_recycled_above_its_memory_cap_and_runs_under_its_address_space_limit() -> None:
    # A 1 MB cap: every REPL is over it after a check, so each check ends with a fresh REPL.
    v = LeanVerifier(LocalLeanLauncher(DOUBLE, max_rss_mb=1), INFO, header="import Mathlib", checkers=1)
    try:
        assert [_got(v, THEOREM, PROOF) for _ in range(3)] == [(Status.PASS, Reason.PROVED)] * 3
    finally:
        v.close()
    assert v.recycled == 3
    # The address-space limit applies to the REPL: 8 MB is too little for a Python interpreter to start.
    from provebench.core.errors import VerifierUnavailable

    starved = LeanVerifier(LocalLeanLauncher(DOUBLE, memory_mb=8), INFO, header="import Mathlib", checkers=1)
    with pytest.raises(VerifierUnavailable):
        starved.prepare()
    starved.close()


def test_a_refused_file_runs_as_code_on_a_repl_that_is_then_retired() -> None:
    # Kimina's API reports a snippet's own run; the strict verdict still refuses it, and the REPL that ran
    # the refused file serves nothing after it.
    v = LeanVerifier(LocalLeanLauncher(DOUBLE, max_uses=50), INFO, header="import Mathlib", checkers=1)
    native = Problem.lean_file("import Mathlib\ntheorem t : 1 + 1 = 2 := by native_decide\n", 10, "lean4-mathlib")
    try:
        refused = v.check(native, "import Mathlib\ntheorem t : 1 + 1 = 2 := by native_decide\n")
        assert (refused.status, refused.reason) == (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)
        assert refused.system_response is not None and "env" in refused.system_response  # the REPL's reply
        assert v.replaced == 1
        # Refused on the theorem's own path (not a file): nothing runs, nothing is replaced.
        assert _got(v, THEOREM, PROOF.replace("ring", "native_decide")) == (Status.CHEATING, Reason.FORBIDDEN_CONSTRUCT)
        assert v.replaced == 1
        assert _got(v, THEOREM, PROOF) == (Status.PASS, Reason.PROVED)  # on the REPL started in its place
    finally:
        v.close()
