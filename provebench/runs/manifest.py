"""A run's ``manifest.json``: one typed model, written by ``run.execute`` and read back by every reader.

Read back, the manifest is input like any other (a user may have edited, truncated or replaced it), so
it is checked once here and readers get the model. Every shape provebench has written reads: parts
added later (``selection``, a session's ``service``, a suite's ``benchmark_layout``, a checker's recipe)
have defaults, and keys this provebench does not know are kept (``extra="allow"``). ``SuiteRef`` is the
pin a submission bundle and a board carry too; they import it from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from provebench.core.errors import UserError
from provebench.core.inputs import first_error, parse_json, read_bytes
from provebench.core.model import CheckerInfo, System
from provebench.suites.layouts import BenchmarkLayout

MAX_MANIFEST_BYTES = 256 << 20  # a manifest lists problems and sessions: megabytes at most
MANIFEST_SCHEMA_VERSION: Literal[1] = 1
SHA256_PATTERN = r"^sha256:[0-9a-f]{64}$"


class SuiteRef(BaseModel):
    """The suite a run was made on, pinned by its content hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)  # the suite's name
    version: str  # the suite's version
    content_hash: str = Field(pattern=SHA256_PATTERN)  # the hash of its problems, contexts and templates


class _Part(BaseModel):
    # no Infinity or NaN in a typed number: JSON has none, and one read would be written back as null
    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)


class ManifestSuite(SuiteRef):
    """The suite as the run's manifest records it: its pin, where it was, and its results' own layout."""

    model_config = ConfigDict(frozen=True, extra="allow")

    path: str | None = None  # the folder it was loaded from
    system: System | None = None
    benchmark_layout: BenchmarkLayout | None = None

    def ref(self) -> SuiteRef:
        """The pin alone, as bundles and boards carry it."""
        return SuiteRef(name=self.name, version=self.version, content_hash=self.content_hash)


class ManifestProblem(_Part):
    """One problem the run covers."""

    id: str = Field(min_length=1)
    category: str


class Selection(_Part):
    """How the problems were chosen from the suite (recorded since runs took ``--limit``)."""

    of: int = Field(ge=0)  # the suite's problems
    categories: list[str] = Field(default_factory=list)
    limit: int | None = None
    seed: int | None = None  # only with a limit


class Host(_Part):
    """The machine a run was started on, for information."""

    hostname: str | None = None
    platform: str | None = None
    python: str | None = None
    cpus: int | None = None


class ManifestSession(_Part):
    """One process that worked on the run."""

    index: int = Field(ge=0)
    started_at: float
    ready_at: float | None = None  # when its checkers' identities were known and the manifest written
    pid: int | None = None
    service: str | None = None  # the checker service it checked through, if any


class RunManifest(_Part):
    """``manifest.json`` of a run directory."""

    schema_version: Literal[1] = MANIFEST_SCHEMA_VERSION
    provebench_version: str | None = None
    created_at: str
    suite: ManifestSuite
    checkers: list[CheckerInfo] = Field(default_factory=list)  # every context's checker: what v1 lines lack
    prover: dict[str, Any]  # the prover's own description (``Prover.describe``)
    prompt_templates: dict[str, str] = Field(default_factory=dict)  # template path -> hash
    problems: list[ManifestProblem] = Field(min_length=1)
    selection: Selection | None = None
    host: Host | None = None
    sessions: list[ManifestSession] = Field(default_factory=list)

    @field_validator("problems")
    @classmethod
    def _each_problem_once(cls, problems: list[ManifestProblem]) -> list[ManifestProblem]:
        seen: set[str] = set()
        for problem in problems:
            if problem.id in seen:
                raise ValueError(f"problem {problem.id!r} is listed twice")
            seen.add(problem.id)
        return problems

    def problem_ids(self) -> list[str]:
        """The run's problem ids, in its order."""
        return [p.id for p in self.problems]


def read_run_manifest(path: Path) -> RunManifest:
    """The manifest in ``path``, checked; a one-line ``UserError`` naming the file and the field otherwise."""
    data = parse_json(read_bytes(path, "run manifest", MAX_MANIFEST_BYTES), str(path))
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a provebench run manifest (not a JSON object)")
    try:
        return RunManifest.model_validate(data)
    except ValidationError as exc:
        where, msg = first_error(exc)
        raise UserError(f"{path}: not a provebench run manifest: {where or '(top level)'}: {msg}") from None
