"""The Lean REPL double (tests/doubles/lean_repl.py) held to the real REPL's own recorded transcripts.

leanprover-community/repl tests itself with pairs ``test/X.in`` and ``test/X.expected.out``: its
test.sh runs the REPL from the checkout's root with X.in on stdin and compares what it prints with
X.expected.out. Here the double takes the real REPL's place, started and read the way provebench
starts and reads the REPL (the check driver's ``Repl``, harness/lean/driver.py), and its replies are
compared with the recording as JSON values, not as text. Every recorded reply (the Mathlib tests'
too) also goes through provebench's readers: the driver's framing, then lean_wire's models.

The transcripts are never copied into this repository: PROVEBENCH_LEAN_REPL_SRC names a folder holding
the REPL's ``test/`` at the pinned tag (provebench.containers.LEAN_REPL_PIN), a checkout or an
exported tree. Without it every test here skips with that reason, CI included (the copy is data from
outside the repository, see tests/conftest.py). ``make test-lean-repl`` exports the tree from a bare
mirror and runs this module; by hand, with this project's mirror:

    mkdir -p /tmp/repl-v4.24.0 && git --git-dir=/work/.mirror/leanprover-community+repl/repo \\
        archive v4.24.0 test | tar -x -C /tmp/repl-v4.24.0
    PROVEBENCH_LEAN_REPL_SRC=/tmp/repl-v4.24.0 pytest -m upstream tests/integration/test_lean_repl_conformance.py

The double does not elaborate Lean, so some transcripts are beyond it: KNOWN_GAPS names each with the
reason. A listed transcript that the double starts to reproduce fails its test, so the list stays honest.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from provebench.containers import resource_root
from provebench.systems.lean.wire import Message, ReplResponse, Sorry

SOURCE_VARIABLE = "PROVEBENCH_LEAN_REPL_SRC"
DOUBLE = [sys.executable, str(Path(__file__).resolve().parents[1] / "doubles" / "lean_repl.py")]
REPLY_TIMEOUT_S = 30.0


def _transcripts() -> Path | None:
    named = os.environ.get(SOURCE_VARIABLE)
    folder = Path(named, "test") if named else None
    return folder if folder is not None and any(folder.glob("*.in")) else None


FOLDER = _transcripts()
SKIP_REASON = (
    f"{SOURCE_VARIABLE} does not name a folder with the Lean REPL's test/*.in "
    "(its test/ at the pinned tag, e.g. `make test-lean-repl`; see this module's docstring)"
)
pytestmark = [pytest.mark.upstream, pytest.mark.skipif(FOLDER is None, reason=SKIP_REASON)]


def _cases(folder: Path) -> list[str]:
    """test.sh's transcripts (those with a recording), in its order: by code point (LC_COLLATE=C). The order
    matters: a transcript may unpickle what an earlier one pickled."""
    return sorted(p.name.removesuffix(".in") for p in folder.glob("*.in") if p.with_suffix(".expected.out").is_file())


CASES = _cases(FOLDER) if FOLDER else []
RECORDED = sorted(str(p.relative_to(FOLDER)) for p in FOLDER.rglob("*.expected.out")) if FOLDER else []

_TACTICS = "tactic mode, and the double runs no tactics"
# What the double cannot reproduce because it does not elaborate Lean. Where a transcript's command replies
# match and only its tactic replies do not, the reason says so.
KNOWN_GAPS: dict[str, str] = {
    "all_tactics": "allTactics: each tactic's goals, used constants and proof state need the elaborator",
    "all_tactics-20250622": f"allTactics' tactic list; then `exact hp` on its proof state is {_TACTICS}",
    "app_type_mismatch": "the kernel's 'declaration has metavariables' error, then cases/rfl/apply in tactic mode",
    "app_type_mismatch2": "the kernel's application type mismatch, then cases/rfl/have/apply in tactic mode",
    "assumption_proof": f"its command reply matches; `assumption` closing the goal is {_TACTICS}",
    "by_cases": f"its command reply matches; by_cases splitting the goal into pos/neg is {_TACTICS}",
    "calc": "allTactics' tactic list; each calc step's sorry has the step's goal (3 = 4, 4 = 5), not the stated one",
    "def_eval": "#check prints the elaborated term and its type (`rfl : f = f`)",
    "dup_msg": "#check prints the type inferred for `def f := 2`; an unknown `g` needs Lean's prelude to resolve names",
    "file": "allTactics' tactic list for the file's `exact rfl` (the file itself is read and run)",
    "file2": "allTactics' tactic list for the file's `rw [...]` (the file itself is read and run)",
    "file_env": "#check prints each constant's elaborated signature (the file is run on env 1)",
    "have_by_sorry": "the unsolved-goals error a lone `have` leaves and the have's own goal; then tactic mode",
    "incomplete": "unsolved-goals errors of unfinished tactic proofs, with the goals and cases Lean computes",
    "infotree": "the infotree and the unused-variable linter's warning",
    "infotree_theorem": "the infotree: syntax kinds, elaborators, expected types",
    "invalid_line_break": "the joined `bysorry`/`byrfl` are unknown identifiers only against Lean's prelude "
    "(the joining itself is reproduced: line_breaks passes)",
    "invalid_tactic": f"its command reply matches; an unknown identifier inside a tactic is {_TACTICS}",
    "name_generator": f"its command reply matches; have/exact/simp with simp traces are {_TACTICS}",
    "no_goal_sorry": "elaboration errors: `set Nat` is not a type, and the `body` case tag",
    "no_goal_sorry_2": "the second sorry finds no goal left ('No goals to be solved'): tactics are not run",
    "options": "#print output of a core constant, with and without pp.universes",
    "pickle_proof_state_1": f"its command replies match; tactics on pickled proof states are {_TACTICS}",
    "pickle_proof_state_2": "unpickles a proof state pickle_proof_state_1 reached by running tactics",
    "pickle_proof_state_env": f"its command replies match; tactics on pickled proof states are {_TACTICS}",
    "proof_branching": f"its command reply matches; And.intro splitting the goal is {_TACTICS}",
    "proof_branching2": f"its command reply matches; intro/have/apply on real goals are {_TACTICS}",
    "proof_step": f"its command reply matches; apply/have/exact on real goals are {_TACTICS}",
    "proof_transitivity": f"exact on real goals is {_TACTICS}; the real tactic replies also number proof states, "
    "which the second command's sorry follows",
    "readme": f"its command reply matches; apply/exact on real goals are {_TACTICS}",
    "root_goals": "rootGoals: each declaration's root goal as a sorry, and `exact?`'s suggestion",
    "self_proof_apply_check": "Lean's termination check refuses the self-referential proof; the kernel's verdict "
    "in tactic mode",
    "self_proof_check": "`exact?` (library search) fails; allTactics' and rootGoals' proof states; tactic mode",
    "self_proof_exact_check": "Lean's termination check refuses the self-referential proof; the kernel's verdict "
    "in tactic mode",
    "self_proof_rw": "Lean's termination check refuses the self-referential proof; the kernel's verdict in tactic mode",
    "sorry_hypotheses": f"its command reply matches; `have ... := sorry` is {_TACTICS}",
    "synthesize_placeholder": "elaboration: the placeholder `_` cannot be synthesized, with its context",
    "tactic_mode_sorry": f"its command reply matches; `sorry` as a tactic is {_TACTICS}",
    "trace_simp": f"simp's trace messages (set_option trace) and `trace` output; on a proof state they are {_TACTICS}",
    "unfinished_tactic_block": "Lean's parser: the expected-token error (endPos null) at the end of `by`, and "
    "the unsolved goal",
    "unknown_tactic": f"its command reply matches; Lean's tactic parser refusing `exat` is {_TACTICS}",
    "variables": "the unused-variable linter; `variable` binders as hypotheses and `∃ k` as Lean prints it",
}


def json_values(text: str) -> list[Any]:
    """The JSON values of a recording, one after another."""
    decoder, i = json.JSONDecoder(), 0
    values: list[Any] = []
    while True:
        i += len(text[i:]) - len(text[i:].lstrip())  # the blank lines between replies
        if i == len(text):
            return values
        value, i = decoder.raw_decode(text, i)
        values.append(value)


def load_driver() -> ModuleType:
    """provebench's Lean check driver (it runs in the checker image, so it is a script, not a module)."""
    spec = importlib.util.spec_from_file_location("lean_driver", resource_root() / "harness" / "lean" / "driver.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def replies(driver: ModuleType, argv: list[str], given: bytes, cwd: Path) -> list[dict[str, Any]]:
    """What a REPL prints for ``given`` on its stdin (closed after it), read by the driver until the REPL exits."""
    repl = driver.Repl(argv, 0)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)  # the REPL's relative paths (test/X.lean, pickles) are from the checkout's root
        repl.start()
    try:
        repl.send(given)
        repl.proc.stdin.close()
        read: list[dict[str, Any]] = []
        while True:
            try:
                reply = repl.receive(REPLY_TIMEOUT_S)
            except driver.ReplGone:
                return read
            assert reply is not None, f"no reply within {REPLY_TIMEOUT_S:.0f} s after {read}"
            read.append(reply)
    finally:
        repl.kill()


def check_wire(reply: dict[str, Any]) -> None:
    """A reply as provebench takes it: a command's comes back from lean_wire key for key; an error is one message
    (the driver reports it as repl-error); a tactic's (provebench sends none) has messages and sorries of the
    command's shapes."""
    if "env" in reply:
        assert ReplResponse.parse(reply).as_json() == reply
    elif "proofStatus" in reply:
        for model, key in ((Message, "messages"), (Sorry, "sorries")):
            for item in reply.get(key, []):
                assert model.model_validate(item).model_dump(mode="json", exclude_unset=True) == item
    else:
        assert list(reply) == ["message"] and isinstance(reply["message"], str), reply


@pytest.fixture(scope="module")
def driver() -> ModuleType:
    return load_driver()


@pytest.fixture(scope="module")
def double_replies(driver: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Every transcript through the double, in test.sh's order, in one copy of test/ (pickles go there)."""
    assert FOLDER is not None
    root = tmp_path_factory.mktemp("repl")
    shutil.copytree(FOLDER, root / "test", ignore=shutil.ignore_patterns("Mathlib"))
    return {case: replies(driver, DOUBLE, (root / "test" / f"{case}.in").read_bytes(), root) for case in CASES}


@pytest.mark.parametrize("case", CASES or ["no-transcripts"])
def test_the_double_answers_as_the_real_repl(case: str, double_replies: dict[str, list[dict[str, Any]]]) -> None:
    assert FOLDER is not None
    got = double_replies[case]
    for reply in got:
        check_wire(reply)
    expected = json_values((FOLDER / f"{case}.expected.out").read_text(encoding="utf-8"))
    if case in KNOWN_GAPS:
        assert got != expected, f"{case} now matches the real REPL: take it off KNOWN_GAPS"
        pytest.xfail(KNOWN_GAPS[case])
    assert got == expected


def test_every_known_gap_is_a_transcript() -> None:
    assert sorted(set(KNOWN_GAPS) - set(CASES)) == []


@pytest.mark.parametrize("recorded", RECORDED or ["no-recordings"])
def test_provebench_reads_every_recorded_reply(recorded: str, driver: ModuleType, tmp_path: Path) -> None:
    assert FOLDER is not None
    path = FOLDER / recorded
    expected = json_values(path.read_text(encoding="utf-8"))
    # The driver's reader on the REPL's own bytes: a stand-in REPL that prints the recording.
    assert replies(driver, ["cat", str(path)], b"", tmp_path) == expected
    for reply in expected:
        check_wire(reply)
