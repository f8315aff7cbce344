"""harness/lean/judge.py, the runner of the trusted judge, and the verifier with the judge.

comparator itself is not here (no Lean toolchain): a stand-in command shows what judge.py gives the judge
(a fresh folder with Challenge.lean, Solution.lean and comparator's config.json) and what it does with
the judge's exit code, output and time. The end-to-end tests at the bottom run the verifier with both
DOUBLES: tests/doubles/lean_repl.py as the REPL and tests/doubles/comparator.py as the judge.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from provebench.core.errors import VerifierUnavailable
from provebench.core.model import CheckerInfo, Kind, Problem, Reason, Status, System
from provebench.systems.lean.judge_run import LocalJudge
from provebench.systems.lean.session import LocalLeanLauncher
from provebench.systems.lean.verifier import LeanVerifier
from tests.lean_support import lean_problem

ROOT = Path(__file__).resolve().parents[2]
JUDGE = ROOT / "harness" / "lean" / "judge.py"
REPL_DOUBLE = [sys.executable, str(ROOT / "tests" / "doubles" / "lean_repl.py")]
INFO = CheckerInfo(image="double", digest="double", system=System.LEAN4, version="doubles")
# Prints what it was given (its folder, the files, the config), then comparator's success line.
SHOW = (
    "import json, os, sys; cfg = json.load(open(sys.argv[1])); "
    "print(json.dumps({'cwd': os.getcwd(), 'files': sorted(os.listdir('.')), 'config': cfg, "
    "'solution': open(cfg['solution_module'] + '.lean').read()})); print('Your solution is okay!')"
)
REQUEST: dict[str, Any] = {
    "challenge": "import Mathlib\ntheorem t : 1 + 1 = 2 := by sorry\n",
    "solution": "import Mathlib\ntheorem t : 1 + 1 = 2 := by norm_num\n",
    "theorem_names": ["t"],
    "definition_names": [],
    "permitted_axioms": ["Classical.choice", "Quot.sound", "propext"],
    "timeout_s": 30,
}


def _judge(comparator: str, request: dict[str, Any], *extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(JUDGE), "--comparator", comparator, *extra],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_the_judge_gets_a_fresh_folder_with_both_files_and_comparator_s_config(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    (template / "lakefile.toml").write_text('name = "judge"\n')
    answer = _judge(f"{sys.executable} -c {json.dumps(SHOW)}", REQUEST, "--template", str(template))
    assert answer["ok"] is True and answer["exit_code"] == 0 and answer["timed_out"] is False
    seen = json.loads(answer["output"].splitlines()[0])
    assert seen["files"] == ["Challenge.lean", "Solution.lean", "config.json", "lakefile.toml"]
    assert seen["solution"] == REQUEST["solution"]
    assert seen["config"] == {
        "challenge_module": "Challenge",
        "solution_module": "Solution",
        "theorem_names": ["t"],
        "definition_names": [],
        "permitted_axioms": ["Classical.choice", "Quot.sound", "propext"],
        "enable_nanoda": False,
    }
    assert not Path(seen["cwd"]).exists()  # removed after the judgement


@pytest.mark.parametrize(
    ("script", "why"),
    [
        ("print('Your solution is okay!'); raise SystemExit(1)", "the closing line with a failing exit code"),
        ("print('Your solution is okay!'); print('more')", "exit 0 without the closing line last"),
    ],
)
def test_okay_needs_both_exit_code_zero_and_the_closing_line(script: str, why: str) -> None:
    assert _judge(f"{sys.executable} -c {json.dumps(script)}", REQUEST)["ok"] is False, why


def test_a_judge_over_its_time_is_killed_with_what_it_started() -> None:
    # The stand-in starts a child that would outlive it and says its pid; both go at the limit.
    script = (
        "import subprocess, sys, time; "
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
        "print(c.pid, flush=True); time.sleep(600)"
    )
    answer = _judge(f"{sys.executable} -c {json.dumps(script)}", REQUEST | {"timeout_s": 1})
    assert answer["timed_out"] is True and answer["ok"] is False and answer["exit_code"] is None
    child = int(answer["output"].split()[0])
    deadline = time.monotonic() + 30
    while _alive(child):
        assert time.monotonic() < deadline, "the judge's child outlived the judgement"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie, killed but not yet reaped by its new parent, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_local_judge_runs_judge_py_and_a_judge_that_does_not_answer_is_the_checker_s_fault() -> None:
    show = f"{sys.executable} -c {json.dumps(SHOW)}"
    answer = LocalJudge(show)(REQUEST)
    assert answer["ok"] is True and answer["solution_started"] is False and "Solution.lean" in answer["output"]
    assert answer["challenge_started"] is False  # the stand-in printed no "Building Challenge"
    with pytest.raises(VerifierUnavailable, match="did not answer"):
        LocalJudge("/nonexistent/comparator")(REQUEST)  # judge.py cannot start it: no answer comes


def test_the_solution_step_is_found_in_the_whole_output_however_much_the_build_prints() -> None:
    # comparator's line before the candidate's build, then a build that prints far beyond what is kept:
    # the failure after it is still the proof's (it must not look as if the statement's side failed).
    script = (
        "import sys; print('Building Challenge'); print('Building Solution', flush=True); "
        "print('warning: unused variable\\n' * 20000); "
        "print('uncaught exception: Illegal axiom detected: \\'cheat\\'', file=sys.stderr); raise SystemExit(1)"
    )
    answer = _judge(f"{sys.executable} -c {json.dumps(script)}", REQUEST)
    assert answer["solution_started"] is True and answer["challenge_started"] is True
    assert len(answer["output"]) < 100_000
    assert "Building Challenge" in answer["output"] and "Illegal axiom detected" in answer["output"]


COMPARATOR_DOUBLE = f"{sys.executable} {ROOT / 'tests' / 'doubles' / 'comparator.py'}"
POINT = """structure Point where
  x : ℕ
  y : ℕ
  pos : 0 < x

theorem point_pos (p : Point) : 0 < p.x := by sorry
"""


def _judged_verifier() -> LeanVerifier:
    """The REPL double as the first filter, the comparator double as the trusted judge, through the driver."""
    judge = LocalJudge(COMPARATOR_DOUBLE)
    return LeanVerifier(LocalLeanLauncher(REPL_DOUBLE), INFO, header="import Mathlib", checkers=1, judge=judge)


def test_the_judge_gives_the_final_verdict_on_what_the_repl_lets_through() -> None:
    v = _judged_verifier()
    point = lean_problem("point_pos", POINT)
    choose = lean_problem(
        "choose_two",
        "abbrev choose_two_solution : ℕ := sorry\n\n"
        "theorem choose_two : Nat.choose 5 2 = choose_two_solution := by sorry\n",
        Kind.FILL_IN,
        "10",
    )
    try:
        honest = "import Mathlib\n\n" + POINT.replace("by sorry", "p.pos")
        assert v.check(point, honest).status is Status.PASS
        # A structure redefined with a weaker field keeps the theorem's text: the REPL's fingerprint (types
        # of the statement's theorems and definitions) lets it through; the judge compares the structure.
        weaker = honest.replace("pos : 0 < x", "pos : 0 ≤ x + 1").replace("p.pos", "by omega")
        got = v.check(point, weaker)
        assert (got.status, got.reason) == (Status.CHEATING, Reason.STATEMENT_MISMATCH), got.messages
        assert any("Point" in m for m in got.messages), got.messages
        answered = "import Mathlib\n\n" + choose.statement.replace("ℕ := sorry", "ℕ := 10").replace(
            "by sorry", "by rfl"
        )
        assert v.check(choose, answered).status is Status.PASS  # the slot a definition hole, its answer a theorem
    finally:
        v.close()


def test_a_theorem_hidden_in_a_namespace_left_open_is_the_proof_s_failure() -> None:
    # Vetting bypassed: the theorem left inside a namespace the candidate never closes, so the name the
    # statement asks for does not exist. A FAIL (the candidate's doing), never an ERROR.
    v = _judged_verifier()
    point = lean_problem("point_pos", POINT)
    try:
        hidden = "import Mathlib\n\nnamespace Decoy\n\n" + POINT.replace("by sorry", "p.pos")
        got = v.check_unvetted_for_tests(point, hidden)
        assert got.status is Status.FAIL and got.reason is Reason.MISSING_THEOREM, (
            got.status,
            got.reason,
            got.messages,
        )
    finally:
        v.close()


def test_a_statement_mismatch_of_the_repl_is_the_judge_s_to_decide() -> None:
    # The REPL compares types as printed text; a printing difference alone (real Lean: hygienic binder
    # names after a helper lemma) must not refuse an honest proof the judge accepts. Here the REPL double
    # sees a changed statement that the judge double also refuses: the refusal is the judge's.
    v = _judged_verifier()
    point = lean_problem("point_pos", POINT)
    try:
        changed = "import Mathlib\n\n" + POINT.replace("0 < p.x := by sorry", "0 ≤ p.x := by omega")
        got = v.check(point, changed)
        assert (got.status, got.reason) == (Status.CHEATING, Reason.STATEMENT_MISMATCH), got.messages
        assert any(m.startswith("comparator:") for m in got.messages), got.messages
    finally:
        v.close()


def test_an_indented_theorem_is_held_to_and_a_statement_with_none_is_never_a_pass() -> None:
    # CombiBench's imo_2022_p1 indents its theorem; missed, the candidate could leave it out and pass.
    v = _judged_verifier()
    statement = "abbrev p_solution : ℕ := sorry\n\n theorem p : Nat.choose 5 2 = p_solution := by sorry\n"
    indented = lean_problem("p", statement, Kind.FILL_IN, "10")
    nothing = lean_problem("q", "def q : ℕ := 3\n")
    try:
        got = v.check(indented, "import Mathlib\n\nabbrev p_solution : ℕ := 10\n")
        assert (got.status, got.reason) == (Status.FAIL, Reason.MISSING_THEOREM), got.messages
        with pytest.raises(VerifierUnavailable, match="no theorem found"):
            v.check(nothing, "import Mathlib\n\ndef q : ℕ := 3\n")
    finally:
        v.close()


def _file(text: str) -> Problem:
    return Problem.lean_file(text, 10, "lean4-mathlib", "snippet")


def test_a_whole_file_the_repl_passes_is_judged_by_the_judge_with_the_repl_s_reply_kept() -> None:
    # Vetting bypassed: an axiom in a namespace, used by its short name there. The REPL's double misses it
    # (it resolves no names in namespaces); comparator's double, reading the file as both modules, does not.
    v = _judged_verifier()
    honest = "import Mathlib\n\nnamespace X\n\ntheorem two : (1 : ℕ) + 1 = 2 := by\n  norm_num\n\nend X\n"
    axiom = honest.replace("theorem", "axiom cheat : (1 : ℕ) + 1 = 2\n\ntheorem").replace(
        ":= by\n  norm_num", ":= cheat"
    )
    try:
        got = v.check(_file(honest), honest)
        assert (got.status, got.reason) == (Status.PASS, Reason.PROVED), got.messages
        got = v.check_unvetted_for_tests(_file(axiom), axiom)
        assert (got.status, got.reason) == (Status.CHEATING, Reason.DISALLOWED_AXIOM), got.messages
        assert got.messages == ("comparator: Illegal axiom detected: 'X.cheat'",)
        assert got.system_response is not None and set(got.system_response) == {"env"}  # the REPL's clean reply
    finally:
        v.close()


def test_a_file_that_fails_as_its_own_challenge_fails_and_only_a_judge_that_never_ran_is_an_error() -> None:
    # A whole file is its own statement: once comparator builds it as the Challenge, the file's code runs,
    # so a refusal there is the file's verdict; a failure turned into ERROR would count in neither n nor c.
    honest = "import Mathlib\n\ntheorem two : (1 : ℕ) + 1 = 2 := by\n  norm_num\n"
    fails = json.dumps("print('Building Challenge'); print('uncaught exception: Child exited with 1'); exit(1)")
    never_ran = json.dumps("print('uncaught exception: Comparator.Config.enable_nanoda: Bool expected'); exit(1)")
    for command, error in ((fails, False), (never_ran, True)):
        judge = LocalJudge(f"{sys.executable} -c {command}")
        v = LeanVerifier(LocalLeanLauncher(REPL_DOUBLE), INFO, header="import Mathlib", checkers=1, judge=judge)
        try:
            if error:
                with pytest.raises(VerifierUnavailable, match="failed on the statement"):
                    v.check(_file(honest), honest)
            else:
                verdict = v.check(_file(honest), honest)
                assert (verdict.status, verdict.reason) == (Status.FAIL, Reason.COMPILE_ERROR), verdict
        finally:
            v.close()
