"""Core value types shared by every layer: problems, verdicts, checker identity."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_serializer, field_validator


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


class ProblemExtension(BaseModel):
    """What one proof system's checker or one benchmark's tools keep about a problem beyond the core fields.

    Subclasses live beside the code that reads them (the HOL Light checker's computed goals, the Lean
    checker's fill-in answers, s2n-bignum-bench's own wording of a goal) and register under ``key`` when
    their module is imported; the core carries them without knowing any. In a problems file their fields
    sit beside the core ones, for problems of ``system`` and of one of ``kinds`` (``suites.load``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: ClassVar[str]
    system: ClassVar[System]
    kinds: ClassVar[frozenset[Kind]] = frozenset(Kind)
    required: ClassVar[bool] = False  # whether every problem of ``kinds`` needs it

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _EXTENSION_TYPES[cls.key] = cls


_EXTENSION_TYPES: dict[str, type[ProblemExtension]] = {}
E = TypeVar("E", bound=ProblemExtension)


def extension_types() -> dict[str, type[ProblemExtension]]:
    """The extension types registered so far, by key (``suites.extensions`` loads every known one)."""
    return dict(_EXTENSION_TYPES)


class Problem(BaseModel):
    """One formal statement to prove, with everything a checker needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    suite: str
    system: System
    kind: Kind = Kind.THEOREM
    statement: str
    context: str = ""
    informal: str = ""
    category: str = "uncategorized"
    timeout_s: float = Field(gt=0)
    reference_proof: str | None = None
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
    # The suite's own prompt files (paths in its folder's prompts/, each hashed with the suite): what a prompt
    # preset with ``suite_prompt`` sends. Where they lie is not what is checked: never in a problem's hash.
    prompt_files: tuple[str, ...] = ()
    # What one proof system's checker or one benchmark's tools keep beyond these fields (ProblemExtension).
    extensions: tuple[SerializeAsAny[ProblemExtension], ...] = ()

    @field_validator("extensions", mode="before")
    @classmethod
    def _extensions_by_key(cls, value: Any) -> Any:
        """Extensions given as ``{key: fields}`` (a dump read back) become their registered types."""
        if not isinstance(value, Mapping):
            return value
        made = []
        for key, fields in value.items():
            if key not in _EXTENSION_TYPES:
                raise ValueError(f"unknown problem extension {key!r} (its module is not loaded)")
            made.append(_EXTENSION_TYPES[key].model_validate(fields))
        return tuple(made)

    @field_validator("extensions")
    @classmethod
    def _one_of_each(cls, value: tuple[ProblemExtension, ...]) -> tuple[ProblemExtension, ...]:
        keys = [e.key for e in value]
        if len(set(keys)) != len(keys):
            raise ValueError(f"problem extensions repeat a key: {sorted(keys)}")
        return tuple(sorted(value, key=lambda e: e.key))

    @field_serializer("extensions")
    def _dump_extensions(self, value: tuple[ProblemExtension, ...]) -> dict[str, dict[str, Any]]:
        return {e.key: e.model_dump(mode="json") for e in value}

    def limit(self, override: float | None) -> float:
        """The time limit of a check of this problem: its own, or a shorter one asked for.

        The one rule of every path (a run, ``check``, the service, Ray, re-verification): a longer limit
        than the problem's is not the suite's rule, so no check gets more time than its problem allows.
        """
        return self.timeout_s if override is None else min(override, self.timeout_s)

    def extension(self, kind: type[E]) -> E | None:
        """This problem's extension of type ``kind``, if it has one."""
        return next((e for e in self.extensions if isinstance(e, kind)), None)

    def content_fields(self, exclude: set[str]) -> dict[str, Any]:
        """The fields a content hash covers: defaults left out, and each extension's beside the core ones.

        Extensions' fields sat on the problem itself before they moved out of the core, and a suite's
        hash (so every board's pin of it) must not change with where a field is declared.
        """
        view = self.model_dump(mode="json", exclude=exclude | {"extensions"}, exclude_defaults=True)
        for e in self.extensions:
            view |= e.model_dump(mode="json", exclude_defaults=True)
        return view

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

    image: str  # the image's tag, e.g. "provebench/hol-light:a1378df59036"
    digest: str  # the image's digest, for information (a rebuild of the same recipe gets another)
    system: System  # the proof system it checks
    version: str  # the proof system's version in the image
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
    # The CPU time of the proof itself, once compiled (HOL Light): what s2n-bignum-bench's own times measure.
    # cpu_seconds less this is the check's fixed cost (parsing, hiding equal theorems, compiling, forking).
    proof_seconds: float | None = None
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
