"""A run's ``manifest.json`` read back: the parts that summaries, reports, resumes and bundles rely on, checked.

The manifest is written by ``run.execute``; read back, it is input like any other (a user may have
edited, truncated or replaced it), so its shape is checked once here and every reader can index it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provebench.core.errors import UserError
from provebench.core.inputs import first_error, parse_json, read_bytes
from provebench.core.model import CheckerInfo
from provebench.suites.layouts import BenchmarkLayout

MAX_MANIFEST_BYTES = 256 << 20  # a manifest lists problems and sessions: megabytes at most


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class ManifestSuite(_Part):
    """The suite the run was made on, pinned by its content hash."""

    name: str = Field(min_length=1)
    version: str | int | float
    content_hash: str = Field(min_length=1)
    path: str | None = None
    benchmark_layout: BenchmarkLayout | None = None


class ManifestProblem(_Part):
    """One problem the run covers."""

    id: str = Field(min_length=1)
    category: str


class ManifestSession(_Part):
    """One process that worked on the run."""

    index: int = Field(ge=0)
    started_at: float


class RunManifest(_Part):
    """What of a run manifest provebench reads; other fields are kept as they are."""

    created_at: str
    suite: ManifestSuite
    checkers: list[CheckerInfo] = Field(default_factory=list)
    prover: dict[str, Any]
    prompt_templates: dict[str, str] = Field(default_factory=dict)
    problems: list[ManifestProblem] = Field(min_length=1)
    sessions: list[ManifestSession] = Field(default_factory=list)


def read_run_manifest(path: Path) -> dict[str, Any]:
    """The manifest in ``path`` as JSON data, checked; a one-line ``UserError`` for anything else."""
    data = parse_json(read_bytes(path, "run manifest", MAX_MANIFEST_BYTES), str(path))
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a provebench run manifest (not a JSON object)")
    try:
        manifest = RunManifest.model_validate(data)
    except ValidationError as exc:
        where, msg = first_error(exc)
        raise UserError(f"{path}: not a provebench run manifest: {where or '(top level)'}: {msg}") from None
    seen: set[str] = set()
    for problem in manifest.problems:
        if problem.id in seen:
            raise UserError(f"{path}: not a provebench run manifest: problem {problem.id!r} is listed twice")
        seen.add(problem.id)
    return data
