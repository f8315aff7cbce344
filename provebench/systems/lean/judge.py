"""The trusted final judgement on a Lean candidate: Lean FRO's comparator, in the checker, per candidate.

The warm REPL is a first filter (fast feedback; it elaborates trusted commands on the candidate's own
environment, which a hostile file can reach). A candidate that passes it is judged again by comparator
(``harness/lean/judge.py`` runs it): the statement as trusted (``Challenge``) and the candidate file
(``Solution``) are each built, exported with lean4export, and compared constant by constant as
expressions (every constant the statement's theorems depend on: definitions, structures,
inductives, instances), the theorems' axioms are checked against the standard three, and the solution
is replayed in Lean's kernel. Nothing of the candidate is elaborated in the process that decides.
A fill-in problem's answer slots are definition holes (their bodies are free), and each slot's
equality with the reference answer is one more theorem both files state, proved only in the solution.
A whole file checked as its own claim (Kimina's snippets) has no statement apart from it: the file is
both files, so comparator checks what matters of a file: it builds, every theorem it declares replays in
the kernel, and those theorems use the standard axioms only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from provebench.core.errors import VerifierUnavailable
from provebench.core.model import Kind, Problem, Reason, Status
from provebench.systems.lean.commands import (
    answer_command,
    candidate_body,
    declarations,
    namespace_at_end,
    reference_answers,
)
from provebench.systems.lean.compare import NATIVE_AXIOMS, STANDARD_AXIOMS, Found
from provebench.systems.lean.fill_in import FillInAnswer

JUDGE_OVERHEAD_S = 600.0  # beyond the problem's own limit: two builds, two exports, a kernel replay
# comparator's failures (thrown, so printed on stderr as "uncaught exception: ..."), at its pinned commit.
_FAILURE = re.compile(
    r"(?P<what>Const not found in solution|Const not found in challenge|Illegal axiom detected"
    r"|Challenge and solution constant kind don't match|Challenge and solution theorem statement do not match"
    r"|Const does not match between challenge and target|Solution constant is not a theorem"
    r"|Solution constant is not a definition|Challenge constant is not a definition"
    r"|Child exited with|process 'landrun' exited with code)[: ]*'?(?P<name>[^'\n]*)'?"
)
_STATEMENT_SIDE = frozenset({"Const not found in challenge", "Challenge constant is not a definition"})


@dataclass(frozen=True)
class Judgement:
    """What comparator said of one candidate."""

    ok: bool
    exit_code: int | None
    timed_out: bool
    challenge_started: bool  # comparator ran and began building the statement's file
    solution_started: bool  # comparator got to the candidate's build (found in its whole output)
    output: str
    seconds: float

    @classmethod
    def parse(cls, raw: Any) -> Judgement:
        """judge.py's answer; one that does not fit is the checker's fault (KeyError, TypeError, ValueError)."""
        return cls(
            ok=raw["ok"] is True,
            exit_code=None if raw["exit_code"] is None else int(raw["exit_code"]),
            timed_out=raw["timed_out"] is True,
            challenge_started=raw["challenge_started"] is True,
            solution_started=raw["solution_started"] is True,
            output=str(raw["output"]),
            seconds=float(raw["seconds"]),
        )


def answer_theorems(problem: Problem, mathlib: bool) -> tuple[list[str], list[str]]:
    """Per answer slot, the trusted equality with the reference answer: as stated, and as proved."""
    pairs = reference_answers(problem) or []
    fill_in = problem.extension(FillInAnswer)
    templates = dict(fill_in.answer_checks) if fill_in is not None else {}
    stated, proved = [], []
    for i, (slot, answer) in enumerate(pairs):
        check = answer_command(slot, answer, mathlib=mathlib, template=templates.get(slot))
        head, sep, _tactics = check.rpartition(":= by ")
        theorem = f"theorem pb_answer_{i}" + head.removeprefix("example")
        stated.append(f"{theorem}{sep}sorry\n")
        proved.append(theorem + check[len(head) :])
    return stated, proved


def judge_request(problem: Problem, proof: str, header_imports: tuple[str, ...], timeout_s: float) -> dict[str, Any]:
    """What judge.py needs: both files, the theorems to compare, the answer slots, the axioms allowed."""
    if problem.kind is Kind.FILE:
        return _file_request(problem, proof, header_imports, timeout_s)
    mathlib = any(m.split(".")[0] == "Mathlib" for m in header_imports)
    stated, proved = answer_theorems(problem, mathlib)
    header = problem.context.rstrip() + "\n\n"
    declared = declarations(problem.statement)
    theorems = [name for kind, name in declared if kind in ("theorem", "lemma")]
    if not theorems:  # comparator with no theorem to compare accepts any file
        raise VerifierUnavailable(f"problem {problem.id}: no theorem found in its statement")
    holes = [name for kind, name in declared if kind in ("def", "abbrev") and name.endswith("_solution")]
    prefix = f"{namespace}." if (namespace := namespace_at_end(problem.statement)) else ""
    return {
        "challenge": header + problem.statement.rstrip() + "\n\n" + "\n".join(stated),
        "solution": header + candidate_body(proof, header_imports).rstrip() + "\n\n" + "\n".join(proved),
        # The answer theorems are appended, so they are declared in whatever namespace the statement leaves open.
        "theorem_names": theorems + [prefix + f"pb_answer_{i}" for i in range(len(stated))],
        "definition_names": holes,
        "permitted_axioms": sorted(STANDARD_AXIOMS),
        "timeout_s": timeout_s + JUDGE_OVERHEAD_S,
    }


def _file_request(problem: Problem, proof: str, header_imports: tuple[str, ...], timeout_s: float) -> dict[str, Any]:
    """A whole file judged as its own claim: the file is the Challenge and the Solution, every theorem compared."""
    text = problem.context.rstrip() + "\n\n" + candidate_body(proof, header_imports).rstrip() + "\n"
    theorems = [name for kind, name in declarations(text) if kind in ("theorem", "lemma")]
    if not theorems:  # the REPL passes no such file; comparator would accept it
        raise VerifierUnavailable(f"{problem.id}: no theorem found in the file to judge")
    return {
        "challenge": text,
        "solution": text,
        "theorem_names": theorems,
        "definition_names": [],
        "permitted_axioms": sorted(STANDARD_AXIOMS),
        "timeout_s": timeout_s + JUDGE_OVERHEAD_S,
    }


def judged(judgement: Judgement, theorem_names: list[str], candidate_is_challenge: bool = False) -> Found | None:
    """The (status, reason, message) of comparator's judgement; None when it found the proof okay.

    Whatever comparator refuses on the solution's side is the proof's failure, never an ERROR: only a
    failure on the trusted statement's side, which no candidate can reach, is the checker's. A whole file
    (``candidate_is_challenge``) is the statement's side too: once comparator has begun building it, every
    refusal is the file's.
    """
    if judgement.ok:
        return None
    started = judgement.challenge_started if candidate_is_challenge else judgement.solution_started
    if not started:
        # It stopped before the candidate's build began: the statement's side, which no candidate reaches.
        last = judgement.output.strip().splitlines()[-1:] or [f"exit code {judgement.exit_code}"]
        raise VerifierUnavailable(f"the trusted judge failed on the statement: {last[0][:300]}")
    # From here on the candidate's build prints into the same output: every refusal is the proof's verdict.
    if judgement.timed_out:
        return Status.TIMEOUT, Reason.WALL_TIMEOUT, "the trusted judge (comparator) ran out of time"
    found = list(_FAILURE.finditer(judgement.output))
    if not found:  # the kernel's replay, or anything else comparator refuses: the proof is not accepted
        last = judgement.output.strip().splitlines()[-1:] or [f"exit code {judgement.exit_code}"]
        return Status.FAIL, Reason.COMPILE_ERROR, f"the trusted judge (comparator) refused it: {last[0][:300]}"
    m = found[-1]  # comparator's own message comes last, after whatever the candidate's build printed
    what, name = m["what"], m["name"].strip()
    said = f"comparator: {m.group(0).strip()[:300]}"
    if what == "Illegal axiom detected":
        if name == "sorryAx":
            return Status.FAIL, Reason.SORRY, said
        if name in NATIVE_AXIOMS:
            return Status.CHEATING, Reason.NATIVE_CODE, said
        return Status.CHEATING, Reason.DISALLOWED_AXIOM, said
    if what == "Child exited with":
        return Status.FAIL, Reason.COMPILE_ERROR, "the candidate did not build in the trusted judge (comparator)"
    if what == "process 'landrun' exited with code":
        # lean4export aborts on a name the module lacks: a theorem of the statement is not where it should be.
        return Status.FAIL, Reason.MISSING_THEOREM, f"{said}: the statement's theorems could not be exported from it"
    if what == "Const not found in solution" and name in theorem_names:
        return Status.FAIL, Reason.MISSING_THEOREM, said
    if what in _STATEMENT_SIDE:
        # A message about the statement's side, after the candidate's build: never an ERROR the output could forge.
        where = "" if candidate_is_challenge else " (on the statement's side: check the suite)"
        return Status.FAIL, Reason.COMPILE_ERROR, f"{said}{where}"
    return Status.CHEATING, Reason.STATEMENT_MISMATCH, said
