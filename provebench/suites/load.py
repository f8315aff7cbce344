"""Suites in provebench's own format: a folder with ``suite.yaml`` and a problems file.

``suite.yaml`` names the suite, its proof system, version, checker image,
default timeout, the trusted context every checker loads once, and the
problems file (YAML list or JSONL, one problem per entry). Loading validates
everything and reports the first problem as one line naming file and field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provebench.containers import image_for_build, resource_root
from provebench.core.errors import UserError
from provebench.core.inputs import (
    MAX_TIMEOUT_S,
    MemoryMB,
    TimeoutSeconds,
    first_error,
    read_bytes,
    read_jsonl,
    read_yaml,
)
from provebench.core.model import Kind, Problem, ProblemExtension, System
from provebench.core.settings import CheckerBuild
from provebench.suites.extensions import known_extensions
from provebench.suites.folder import PROMPTS_DIR, inside, prompt_path, read_prompt_bytes
from provebench.suites.layouts import BenchmarkLayout

SUITE_FILE = "suite.yaml"
SUITE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"  # what a suite is named by (never a path: no "/", no leading ".")
# Fields that say where things are, or size containers, rather than what is checked: not in the content hash.
_UNHASHED_MANIFEST = {"context_memory_mb", "source", "benchmark_layout"}
_UNHASHED_PROBLEM = {"context_memory_mb", "template", "template_root", "prompt_files"}


class SuiteManifest(BaseModel):
    """The fields of ``suite.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=SUITE_NAME, description="the suite's name, as `--suite` gives it")
    system: System = Field(description="the proof system of every problem")
    version: str = Field(description="the suite's version, recorded with every run and board entry")
    description: str = Field(default="", description="what the suite holds, for people")
    checker_image: str = Field(description="the checker image's recipe, e.g. hol-light or lean4-mathlib")
    default_timeout_s: TimeoutSeconds = Field(default=30.0, description="a check's time limit, unless the problem's")
    context: str = Field(
        default="", description="trusted code every checker loads once (HOL Light phrases; Lean: the imports)"
    )
    problems_file: str = Field(
        default="problems.yaml", description="the problems file in the suite folder: YAML list or JSONL"
    )
    source: str = Field(default="", description="where an importer read the suite from (not hashed)")
    metadata: dict[str, str] = Field(default_factory=dict)  # e.g. the upstream revision it was imported from
    template_includes: bool = False  # templates include each other (all under templates/)
    memory_mb: MemoryMB | None = None  # one check's memory limit, unless the user sets one
    # What a checker's loaded context holds besides its checks, when more than provebench's default headroom
    # (s2n-bignum: the walkers' GBs): the memory each checker container reserves above one check's limit.
    context_memory_mb: MemoryMB | None = None
    # Every problem's timeout is multiplied by this: timeouts measured on a faster checker than this suite's
    # (s2n-bignum-bench's come from its native build; provebench's image runs HOL Light's bytecode toplevel).
    timeout_scale: float = Field(default=1.0, gt=0, le=1000, allow_inf_nan=False)
    # How the benchmark lays out its results (columns, verdict names), for reports beside its published tables.
    benchmark_layout: BenchmarkLayout | None = None
    # HOL Light: check in the bytecode toplevel or compiled to native code (``--checker`` overrides it).
    checker: CheckerBuild | None = None
    prompts: tuple[Annotated[str, Field(pattern=SUITE_NAME)], ...] = Field(
        default=(),
        description="the benchmark's own prompt files, by name, in the folder's prompts/ (hashed with the suite; "
        "a prompt preset's suite_prompt sends one)",
    )


class ProblemEntry(BaseModel):
    """One entry of a problems file: the core fields; any other field belongs to a problem extension."""

    model_config = ConfigDict(frozen=True, extra="allow")

    # HOL Light names may end in '
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._'-]*$", description="the problem's id, unique in the suite")
    statement: str = Field(
        min_length=1, description="the goal: a HOL Light term (no backquotes), or a Lean theorem proved by sorry"
    )
    kind: Kind = Field(default=Kind.THEOREM, description="a theorem to prove, an answer to fill in, or a Lean file")
    category: str = Field(default="uncategorized", description="the category runs select by and report per")
    timeout_s: TimeoutSeconds | None = Field(
        default=None, description="this problem's time limit (default: the suite's), times its timeout_scale"
    )
    informal: str = Field(default="", description="the statement in words, for prompts")
    reference_proof: str | None = Field(default=None, description="a proof the checker accepts (`suites selftest`)")
    template: str | None = None  # a file in the suite folder; the context is its lines before template_line
    template_line: int | None = Field(default=None, ge=1, description="the line of the template the problem is at")


@dataclass(frozen=True)
class Suite:
    """A loaded, validated suite."""

    manifest: SuiteManifest
    problems: tuple[Problem, ...]
    path: Path
    content_hash: str

    @property
    def name(self) -> str:
        """The suite's name."""
        return self.manifest.name

    def problem(self, problem_id: str) -> Problem:
        """The problem with this id, or a one-line error."""
        for p in self.problems:
            if p.id == problem_id:
                return p
        raise UserError(f"suite {self.name} has no problem {problem_id!r}")

    def files(self) -> list[Path]:
        """Every file in the suite's folder: inputs of any command that reads the suite, never its output."""
        return [f for f in self.path.rglob("*") if f.is_file()]


def _first_error(exc: ValidationError) -> str:
    where, msg = first_error(exc)
    return f"field '{where or '(top level)'}': {msg}"


def _read_entries(path: Path) -> list[Any]:
    if path.suffix == ".jsonl":
        return [value for _, value in read_jsonl(path)]
    data = read_yaml(path)
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a list of problems")
    return data


def load_suite(folder: Path) -> Suite:
    """Load and validate the suite in ``folder``."""
    manifest_path = folder / SUITE_FILE
    inside(folder, SUITE_FILE, str(folder))
    raw = read_yaml(manifest_path)
    if not isinstance(raw, dict):
        raise UserError(f"{manifest_path}: expected a mapping of suite fields")
    try:
        manifest = SuiteManifest.model_validate(raw)
    except ValidationError as exc:
        raise UserError(f"{manifest_path}: {_first_error(exc)}") from None
    inside(folder, manifest.problems_file, f"{manifest_path}: field 'problems_file'")
    problems_path = folder / manifest.problems_file
    checker_image = _checker_image(manifest, manifest_path)
    problems: list[Problem] = []
    seen: set[str] = set()
    template_hashes: dict[str, str] = {}
    prompt_hashes, prompt_files = _prompt_files(folder, manifest, manifest_path)
    for index, entry in enumerate(_read_entries(problems_path), 1):
        label = f"problem {index}"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            label += f" ({entry['id']})"
        try:
            e = ProblemEntry.model_validate(entry)
        except ValidationError as exc:
            raise UserError(f"{problems_path}: {label}: {_first_error(exc)}") from None
        if e.id in seen:
            raise UserError(f"{problems_path}: {label}: duplicate id {e.id!r}")
        seen.add(e.id)
        extensions = _extensions(dict(e.model_extra or {}), manifest.system, e.kind, f"{problems_path}: {label}")
        template = _template_path(folder, e, f"{problems_path}: {label}", template_hashes, manifest.template_includes)
        timeout_s = (e.timeout_s or manifest.default_timeout_s) * manifest.timeout_scale
        if not 0 < timeout_s <= MAX_TIMEOUT_S:  # each factor is bounded; their product must be too
            bound = f"over the limit of {MAX_TIMEOUT_S:.0f} s" if timeout_s > 0 else "not above 0"
            raise UserError(
                f"{problems_path}: {label}: field 'timeout_s' times the suite's timeout_scale is"
                f" {timeout_s:g} s, {bound}"
            )
        problems.append(
            Problem(
                id=e.id,
                suite=manifest.name,
                system=manifest.system,
                kind=e.kind,
                statement=e.statement,
                context=manifest.context,
                informal=e.informal,
                category=e.category,
                timeout_s=timeout_s,
                reference_proof=e.reference_proof,
                checker_image=checker_image,
                template=str(template) if template else None,
                template_line=e.template_line,
                template_root=str(folder.resolve() / "templates") if template and manifest.template_includes else None,
                memory_mb=manifest.memory_mb,
                context_memory_mb=manifest.context_memory_mb,
                extensions=extensions,
                prompt_files=prompt_files,
            )
        )
    if not problems:
        raise UserError(f"{problems_path}: the suite has no problems")
    if manifest.template_includes:  # any template file can be included: all of them are content
        for path in sorted((folder / "templates").rglob("*")):
            rel = path.relative_to(folder).as_posix()
            inside(folder, rel, str(folder))  # a symlink out (file or folder) would bring in uncounted text
            if path.is_file():
                template_hashes[rel] = hashlib.sha256(read_bytes(path, "template")).hexdigest()
    # Defaults are left out, so that a field added to the model later does not change every suite's hash; and
    # so is the memory reserved for a checker's context, which sizes containers but does not decide verdicts.
    # Extensions' fields are hashed beside the core ones, where they sat before they moved out of the core.
    # Nothing about where the suite or its source lies is hashed (templates count by their path in the suite
    # folder and their text), so a suite moved or imported into another folder keeps its hash.
    digest = hashlib.sha256(
        json.dumps(
            {
                "manifest": manifest.model_dump(mode="json", exclude_defaults=True, exclude=_UNHASHED_MANIFEST),
                "problems": [p.content_fields(_UNHASHED_PROBLEM) for p in problems],
                "templates": template_hashes,
                # Only when the suite has prompt files: every other suite keeps the hash it had before they came.
                **({"prompts": prompt_hashes} if prompt_hashes else {}),
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    return Suite(manifest=manifest, problems=tuple(problems), path=folder, content_hash=f"sha256:{digest}")


def _prompt_files(folder: Path, manifest: SuiteManifest, where: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    """The hashes of the suite's prompt files (by their path in the folder), and their paths for its problems."""
    hashes: dict[str, str] = {}
    paths: list[str] = []
    for name in manifest.prompts:
        if f"{PROMPTS_DIR}/{name}" in hashes:
            raise UserError(f"{where}: field 'prompts': {name!r} is named twice")
        path = prompt_path(folder, name, f"{where}: field 'prompts'")
        hashes[f"{PROMPTS_DIR}/{name}"] = hashlib.sha256(read_prompt_bytes(path)).hexdigest()
        paths.append(str(path))
    return hashes, tuple(paths)


def _checker_image(manifest: SuiteManifest, where: Path) -> str:
    """The suite's checker image in the build its ``checker`` names."""
    if manifest.checker is None:
        return manifest.checker_image
    try:
        return image_for_build(manifest.checker_image, manifest.checker.value)
    except UserError as exc:
        raise UserError(f"{where}: field 'checker': {exc}") from None


def _extensions(fields: dict[str, Any], system: System, kind: Kind, where: str) -> tuple[ProblemExtension, ...]:
    """The extensions a problems-file entry's other fields make, each checked against the problem's system and kind."""
    made = []
    for ext in known_extensions().values():
        mine = {name: fields.pop(name) for name in list(fields) if name in ext.model_fields}
        if mine and ext.system is not system:
            raise UserError(f"{where}: field {next(iter(mine))!r} is for {ext.system.value} suites only")
        if mine and kind not in ext.kinds:
            kinds = " or ".join(sorted(k.value for k in ext.kinds))
            raise UserError(f"{where}: field {next(iter(mine))!r} is for {kinds} problems only")
        if not mine:
            if ext.required and ext.system is system and kind in ext.kinds:
                needed = [name for name, field in ext.model_fields.items() if field.is_required()] or [ext.key]
                raise UserError(f"{where}: a {kind.value} problem needs field {needed[0]!r}")
            continue
        try:
            made.append(ext.model_validate(mine))
        except ValidationError as exc:
            raise UserError(f"{where}: {_first_error(exc)}") from None
    if fields:
        raise UserError(f"{where}: field {next(iter(fields))!r}: Extra inputs are not permitted")
    return tuple(made)


def _template_path(
    folder: Path, e: ProblemEntry, where: str, hashes: dict[str, str], includes: bool = False
) -> Path | None:
    """The template file of a problem, inside the suite folder; its hash goes into the suite's."""
    if (e.template is None) != (e.template_line is None):
        raise UserError(f"{where}: template and template_line go together")
    if e.template is None:
        return None
    path = inside(folder, e.template, f"{where}: template")
    if includes and not path.is_relative_to(folder.resolve() / "templates"):
        raise UserError(f"{where}: template {e.template!r}: with template_includes, templates lie under templates/")
    if e.template not in hashes:
        hashes[e.template] = hashlib.sha256(read_bytes(path, "template")).hexdigest()
    return path


def suite_roots(suites_dir: Path) -> list[Path]:
    """Where suites are looked up by name: bundled first, then the user's."""
    return [resource_root() / "problems", suites_dir]


def find_suite(name_or_path: str, suites_dir: Path) -> Suite:
    """Load a suite by name (bundled or the user's) or by folder path."""
    as_path = Path(name_or_path)
    if (as_path / SUITE_FILE).is_file():
        return load_suite(as_path)
    for root in suite_roots(suites_dir):
        if (root / name_or_path / SUITE_FILE).is_file():
            return load_suite(root / name_or_path)
    known = ", ".join(sorted(s.name for s in list_suites(suites_dir))) or "none"
    raise UserError(f"unknown suite {name_or_path!r}; known suites: {known}")


def suite_folders(suites_dir: Path) -> dict[str, Path]:
    """The folders of the suites found by name, each by the name ``find_suite`` knows it by (bundled first)."""
    found: dict[str, Path] = {}
    for folder in list_suites(suites_dir):
        found.setdefault(folder.name, folder)
    return found


def list_suites(suites_dir: Path) -> list[Path]:
    """Every folder holding a ``suite.yaml`` under the lookup roots."""
    found = []
    for root in suite_roots(suites_dir):
        if root.is_dir():
            found.extend(sorted(p.parent for p in root.glob(f"*/{SUITE_FILE}")))
    return found
