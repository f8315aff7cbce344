"""Core value types shared by every layer: problems, verdicts, checker identity."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class System(str, Enum):
    """Proof systems provebench can check."""

    HOL_LIGHT = "hol-light"
    LEAN4 = "lean4"


class Kind(str, Enum):
    """What a problem asks for."""

    THEOREM = "theorem"
    FILL_IN = "fill-in"
    # A whole Lean file whose own theorems are the claim (Kimina Lean Server's snippets): no trusted
    # statement to compare with, so every other layer applies (flags, errors, sorry, axioms of each theorem).
    FILE = "file"


class Status(str, Enum):
    """The closed set of verdicts every checker reports."""

    PASS = "PASS"
    FAIL = "FAIL"
    TIMEOUT = "TIMEOUT"
    CHEATING = "CHEATING"
    ERROR = "ERROR"


class Reason(str, Enum):
    """Why a verdict is what it is; each belongs to one status."""

    PROVED = "proved"
    # FAIL
    NO_PROOF = "no-proof"
    PROVER_ERROR = "prover-error"
    TOO_LARGE = "too-large"
    INVALID_TEXT = "invalid-text"
    COMPILE_ERROR = "compile-error"
    TACTIC_FAILED = "tactic-failed"
    UNSOLVED_GOALS = "unsolved-goals"
    EXCEPTION = "exception"
    MEMORY_LIMIT = "memory-limit"
    STACK_OVERFLOW = "stack-overflow"
    OUTPUT_LIMIT = "output-limit"
    CRASHED = "crashed"
    NO_RESULT = "no-result"
    SORRY = "sorry"
    MISSING_THEOREM = "missing-theorem"
    WRONG_ANSWER = "wrong-answer"
    ANSWER_UNVERIFIED = "answer-unverified"
    # TIMEOUT
    WALL_TIMEOUT = "wall-timeout"
    CPU_TIMEOUT = "cpu-timeout"
    # CHEATING
    FORBIDDEN_CONSTRUCT = "forbidden-construct"
    NEW_AXIOM = "new-axiom"
    HYPOTHESES = "hypotheses"
    STATEMENT_MISMATCH = "statement-mismatch"
    DISALLOWED_AXIOM = "disallowed-axiom"
    NATIVE_CODE = "native-code"  # Lean.ofReduceBool / Lean.trustCompiler: trusts the compiler, not the kernel
    # ERROR
    BAD_GOAL = "bad-goal"
    BAD_CHILD_REPORT = "bad-child-report"
    SERVER_EXCEPTION = "server-exception"
    CHECKER_UNAVAILABLE = "checker-unavailable"
    CHECKER_OUT_OF_MEMORY = "checker-out-of-memory"  # the container's limit, not the check's own, killed it


class Problem(BaseModel):
    """One formal statement to prove, with everything a checker needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    suite: str
    system: System
    kind: Kind = Kind.THEOREM
    statement: str
    # HOL Light: ``statement`` is an OCaml expression whose value, in the problem's context, is the goal term
    # (s2n-bignum-bench computes some goals, e.g. ``(rand o concl o CONV) `...```); the checker evaluates it.
    statement_is_expression: bool = False
    original_statement: str | None = None  # the statement as the upstream benchmark words it, when kept
    context: str = ""
    informal: str = ""
    category: str = "uncategorized"
    timeout_s: float = Field(gt=0)
    reference_proof: str | None = None
    # Fill-in problems: the reference answer, and the statement with it substituted (answers are judged against it).
    answer: str | None = None
    answer_statement: str | None = None
    # Fill-in problems whose answer needs binders or is a function or set: per answer slot, the trusted
    # Lean command that compares it with the reference, with $solution, $answer, $op and $tactics to fill.
    answer_checks: tuple[tuple[str, str], ...] = ()
    checker_image: str
    # A context that differs per problem: the lines of this template file before
    # ``template_line`` (s2n-bignum: the proof file up to the theorem, earlier proofs admitted).
    template: str | None = None
    template_line: int | None = Field(default=None, ge=1)
    # When set, the template's includes of files under this folder are expanded (s2n-bignum from source).
    template_root: str | None = None
    # The memory one check of this suite needs, when more than provebench's default (s2n-bignum: 6 GB).
    memory_mb: int | None = Field(default=None, ge=256)
    # The memory its checker's loaded context needs beside one check, when more than provebench's default.
    context_memory_mb: int | None = Field(default=None, ge=256)

    @classmethod
    def lean_file(cls, code: str, timeout_s: float, checker_image: str, name: str = "snippet") -> Problem:
        """A whole Lean file as its own claim: its imports are the context (checkers are warm per import list)."""
        imports = []
        for line in code.split("\n"):  # only the leading imports: Lean refuses any later one
            if line.strip().startswith("import "):
                imports.append(line.strip())
            elif line.strip():
                break
        return cls(
            id=name,
            suite="snippets",
            system=System.LEAN4,
            kind=Kind.FILE,
            statement="",
            context="\n".join(imports),
            timeout_s=timeout_s,
            checker_image=checker_image,
        )

    @classmethod
    def adhoc(cls, system: System, statement: str, timeout_s: float, checker_image: str) -> Problem:
        """A problem made from a goal given on the command line."""
        return cls(
            id="goal",
            suite="adhoc",
            system=system,
            statement=statement,
            timeout_s=timeout_s,
            checker_image=checker_image,
        )


class CheckerInfo(BaseModel):
    """The pinned checker that produced a verdict.

    Its identity is what decides verdicts and what any machine reproduces from the same sources: the
    proof system, the recipe (Dockerfile, harness sources and build arguments, as ``name:hash``), the
    proof-system version and a hash of the image's installed package list. The image tag and digest are
    kept for information only: a rebuild of the same recipe gets another digest.
    """

    model_config = ConfigDict(frozen=True)

    image: str
    digest: str
    system: System
    version: str
    recipe: str = ""  # e.g. "hol-light:a1378df59036"; empty in records made before identities were kept
    packages: str = ""  # "sha256:<hex>" of the image's sorted package list

    def identity_differences(self, pinned: CheckerInfo, labels: tuple[str, str] = ("here", "pinned")) -> list[str]:
        """Each part of the identity that differs from ``pinned``'s, as ``what (this one's, pinned's)``.

        A part that either side did not record differs: an unknown identity is nobody's.
        """
        mine, theirs = self.identity_parts(), pinned.identity_parts()
        return [
            f"{what} ({_short(mine[what]) or 'not recorded'} {labels[0]}, "
            f"{_short(theirs[what]) or 'not recorded'} {labels[1]})"
            for what in mine
            if mine[what] != theirs[what] or not mine[what]
        ]

    def identity_parts(self) -> dict[str, str]:
        """The parts of the identity by name, in the order a refusal names them."""
        return {
            "proof system": self.system.value,
            "recipe": self.recipe,
            "proof-system version": self.version,
            "package list": self.packages,
        }

    def same_checker(self, pinned: CheckerInfo) -> bool:
        """Whether this checker has ``pinned``'s identity (and so gives its verdicts)."""
        return not self.identity_differences(pinned)


def _short(h: str) -> str:
    return h[:19] + "..." if len(h) > 19 else h


class Verdict(BaseModel):
    """The outcome of checking one proof."""

    model_config = ConfigDict(frozen=True)

    status: Status
    reason: Reason
    messages: tuple[str, ...] = ()
    check_seconds: float = 0.0
    cpu_seconds: float = 0.0
    checker: CheckerInfo | None = None
    # The goal checked, when the problem's statement is an expression computing it in the checker.
    computed_goal: str | None = None
    # Whether the benchmark's own, laxer judge would accept the proof, when a run asks for it
    # (CombiBench: the file with answer examples appended compiles without errors or sorry).
    benchmark_pass: bool | None = None
    # The proof system's own reply to the candidate (Lean: the REPL's JSON), for whole-file checks
    # only: Kimina's API reports it.
    system_response: dict[str, Any] | None = None
    # The checker service that checked (its URL), when a command checked through one (``--server``).
    service: str | None = None

    @property
    def passed(self) -> bool:
        """True only for PASS."""
        return self.status is Status.PASS
