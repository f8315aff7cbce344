"""Submission bundles: a finished run packed for a leaderboard, and read back without trusting it.

A bundle is a ``.tar.gz`` of exactly three regular files: ``manifest.json``
(suite, checkers, prover, sampling, budget, submitter), ``attempts.jsonl``
(every attempt with its proof text and verdict) and ``summary.json`` (the
submitter's own summary, informational). Both JSON files are validated against
the versioned schemas shipped in ``provebench/boards/schemas/``, each attempt
line against its own schema version's (bundles packed before attempts were v2
hold v1 lines, read as they are); the manifest carries the SHA-256 of
``attempts.jsonl``. Nothing is ever extracted to disk: members
are read by name into memory under size limits, so a path traversal, a link or
a huge member is refused before it can do anything.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provebench import __version__
from provebench.boards.tarscan import TarBounds, scan_headers
from provebench.core.errors import UserError
from provebench.core.inputs import first_error, parse_json, read_bytes
from provebench.core.journal import AttemptRecord, AttemptRecordV1, attempt_from, schema_version
from provebench.core.model import CheckerInfo, Status
from provebench.core.outputs import write_atomic
from provebench.runs.manifest import SHA256_PATTERN, SuiteRef
from provebench.runs.run import RunDir, summarize_run
from provebench.runs.stats import latest_records

BUNDLE_FORMAT: Literal["provebench-submission"] = "provebench-submission"
BUNDLE_SCHEMA_VERSION: Literal[1] = 1  # the manifest's; each attempt line has its own (core.journal)
MANIFEST_MEMBER, ATTEMPTS_MEMBER, SUMMARY_MEMBER = "manifest.json", "attempts.jsonl", "summary.json"
MEMBERS = (MANIFEST_MEMBER, ATTEMPTS_MEMBER, SUMMARY_MEMBER)
MANIFEST_SCHEMA = f"submission-manifest-v{BUNDLE_SCHEMA_VERSION}.schema.json"
ATTEMPT_SCHEMAS = {1: "submission-attempt-v1.schema.json", 2: "submission-attempt-v2.schema.json"}
OpenData = Literal["full", "partial", "none"]


class Submitter(BaseModel):
    """Who submits, and what of their attempts a board may publish.

    ``open_data``: ``full`` publishes every attempt with its proof and the
    prover's raw reply; ``partial`` publishes the proofs of passing attempts
    only; ``none`` publishes verdicts and counts, no proof text.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    contact: str = Field(min_length=1, max_length=200)
    open_data: OpenData


class Sampling(BaseModel):
    """How the prover was sampled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    samples_per_problem: int = Field(ge=1)
    repair_rounds: int = Field(ge=0)
    ks: list[int]
    timeout_s: float | None = None
    protocol: str = "provebench"


class Budget(BaseModel):
    """What the run spent: the structured compute budget of an entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    samples_per_problem: int = Field(ge=1)
    attempts: int = Field(ge=0)
    tokens_in: int = Field(ge=0)
    tokens_out: int = Field(ge=0)
    cost: float | None = Field(default=None, ge=0)
    wall_seconds: float = Field(ge=0)
    prover_seconds: float = Field(ge=0)
    checker_cpu_seconds: float = Field(ge=0)


class AttemptsFile(BaseModel):
    """The attempts member as the manifest pins it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256_PATTERN)


class BundleManifest(BaseModel):
    """``manifest.json`` of a submission bundle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["provebench-submission"] = BUNDLE_FORMAT
    schema_version: Literal[1] = BUNDLE_SCHEMA_VERSION
    provebench_version: str
    created_at: str
    submitter: Submitter
    suite: SuiteRef
    checkers: list[CheckerInfo] = Field(min_length=1)
    prover: dict[str, Any]
    prompt_hashes: dict[str, str]
    sampling: Sampling
    budget: Budget
    problems: list[str] = Field(min_length=1)
    attempts: AttemptsFile


@dataclass(frozen=True)
class BundleLimits:
    """Largest members read from a bundle (bytes, uncompressed)."""

    manifest: int = 1 << 20
    attempts: int = 512 << 20
    summary: int = 16 << 20

    def of(self, member: str) -> int:
        """The limit of one member."""
        return {MANIFEST_MEMBER: self.manifest, ATTEMPTS_MEMBER: self.attempts, SUMMARY_MEMBER: self.summary}[member]


@dataclass(frozen=True)
class Bundle:
    """A bundle read back and validated: its manifest, attempts and own hash."""

    path: Path
    sha256: str
    manifest: BundleManifest
    attempts: tuple[AttemptRecord, ...]
    summary: dict[str, Any]


def sha256_of(data: bytes) -> str:
    """``sha256:<hex>`` of some bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@cache
def schema(name: str) -> dict[str, Any]:
    """A shipped JSON schema, by file name."""
    text = resources.files("provebench.boards").joinpath("schemas", name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def generated_schemas() -> dict[str, dict[str, Any]]:
    """The schemas as the models define them; the shipped files must equal these (a test says so)."""
    models: dict[str, type[BaseModel]] = {
        MANIFEST_SCHEMA: BundleManifest,
        ATTEMPT_SCHEMAS[1]: AttemptRecordV1,
        ATTEMPT_SCHEMAS[2]: AttemptRecord,
    }
    return {
        name: {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://provebench.dev/schemas/{name}",
            **model.model_json_schema(),
        }
        for name, model in models.items()
    }


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(name))


def _validate(name: str, data: Any, where: str) -> None:
    validator = _validator(name)
    if validator.is_valid(data):  # the common case, without collecting errors
        return
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        path = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        version = name.removesuffix(".schema.json").rpartition("-")[2]
        raise UserError(f"{where}: not valid under submission schema {version}: {path}: {error.message}")


# ---------------------------------------------------------------- packing


def _attempt_for_bundle(r: AttemptRecord, open_data: OpenData) -> AttemptRecord:
    # The proof text always travels (re-verification needs it); raw replies only when they may be published.
    return r if open_data == "full" else r.withheld("raw_reply")


def pack(rundir: RunDir, out: Path, submitter: Submitter) -> BundleManifest:
    """Write the bundle of a finished run to ``out``; one-line errors for runs that cannot be submitted."""
    config = rundir.config()
    manifest = rundir.read_manifest()
    summary = summarize_run(rundir, config)
    if not summary.complete:
        raise UserError(f"{rundir.path}: the run is incomplete; finish it with provebench run --resume {rundir.path}")
    records = sorted(latest_records(rundir.records()).values(), key=lambda r: r.key)
    errors = [r for r in records if r.verdict.status is Status.ERROR]
    if errors:
        raise UserError(
            f"{rundir.path}: {len(errors)} attempt(s) have no verdict (checker ERROR, first: {errors[0].problem}); "
            f"retry them with provebench run --resume {rundir.path}"
        )
    lines = "".join(_attempt_for_bundle(r, submitter.open_data).model_dump_json() + "\n" for r in records)
    attempts_bytes = lines.encode("utf-8")
    t = summary.totals
    bundle_manifest = BundleManifest(
        provebench_version=__version__,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        submitter=submitter,
        suite=manifest.suite.ref(),
        checkers=manifest.checkers,
        prover=manifest.prover,
        prompt_hashes=manifest.prompt_templates,
        sampling=Sampling(
            samples_per_problem=config.n,
            repair_rounds=config.repair_rounds,
            ks=config.ks,
            timeout_s=config.timeout_s,
            protocol=config.protocol,
        ),
        budget=Budget(
            samples_per_problem=config.n,
            attempts=len(records),
            tokens_in=t.tokens_in,
            tokens_out=t.tokens_out,
            cost=t.cost,
            wall_seconds=t.wall_seconds,
            prover_seconds=t.prover_seconds,
            checker_cpu_seconds=t.checker_cpu_seconds,
        ),
        problems=manifest.problem_ids(),
        attempts=AttemptsFile(count=len(records), sha256=sha256_of(attempts_bytes)),
    )
    members = {
        MANIFEST_MEMBER: (bundle_manifest.model_dump_json(indent=2) + "\n").encode("utf-8"),
        ATTEMPTS_MEMBER: attempts_bytes,
        SUMMARY_MEMBER: (summary.model_dump_json(indent=2) + "\n").encode("utf-8"),
    }
    write_tar(out, members)
    return bundle_manifest


def write_tar(out: Path, members: dict[str, bytes]) -> None:
    """A gzipped tar of regular files with fixed metadata, written atomically.

    Built in memory (the members are there already), so the file on disk is only ever written whole.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    write_atomic(out, buffer.getvalue())


# ---------------------------------------------------------------- reading


def _read_members(path: Path, raw: bytes, limits: BundleLimits) -> dict[str, bytes]:
    """The three members of the archive ``raw`` (read from ``path``), refusing anything else in it."""
    try:
        # Headers first, bounded: tarfile would read a 300 MB PAX header or GNU long name whole.
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            scan_headers(stream, str(path), TarBounds(data_bytes=limits.manifest + limits.attempts + limits.summary))
        tar = tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise UserError(f"{path}: not a submission bundle (a .tar.gz): {_first_line(exc)}") from None
    out: dict[str, bytes] = {}
    with tar:
        try:
            for member in tar:
                name = member.name
                if name not in MEMBERS:
                    raise UserError(f"{path}: unexpected member {_shown(name)}; a bundle holds only {_expected()}")
                if not member.isfile():
                    raise UserError(f"{path}: member {name!r} is not a regular file")
                if name in out:
                    raise UserError(f"{path}: member {name!r} appears twice")
                limit = limits.of(name)
                if member.size > limit:
                    raise UserError(f"{path}: member {name!r} is {member.size} bytes, over the limit of {limit}")
                f = tar.extractfile(member)
                assert f is not None  # a regular file
                data = f.read(limit + 1)
                if len(data) > limit:
                    raise UserError(f"{path}: member {name!r} is over the limit of {limit} bytes")
                out[name] = data
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise UserError(f"{path}: damaged archive: {_first_line(exc)}") from None
    missing = [m for m in MEMBERS if m not in out]
    if missing:
        raise UserError(f"{path}: missing member {missing[0]!r}")
    return out


def _shown(name: str) -> str:
    """A member's name for an error line: a PAX path may be 64 KB long."""
    return repr(name) if len(name) <= 100 else repr(name[:100]) + f"... ({len(name)} characters)"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _expected() -> str:
    return ", ".join(MEMBERS)


def read_bundle(path: Path, limits: BundleLimits | None = None) -> Bundle:
    """Open, validate and cross-check a bundle; a one-line error names the first thing wrong."""
    limits = limits or BundleLimits()
    raw = read_bytes(path, "bundle")  # a regular file, bounded: not /dev/zero, not a FIFO
    members = _read_members(path, raw, limits)
    manifest_data = parse_json(members[MANIFEST_MEMBER], f"{path}: {MANIFEST_MEMBER}")
    _validate(MANIFEST_SCHEMA, manifest_data, f"{path}: {MANIFEST_MEMBER}")
    manifest = BundleManifest.model_validate(manifest_data)
    attempts_bytes = members[ATTEMPTS_MEMBER]
    if sha256_of(attempts_bytes) != manifest.attempts.sha256:
        raise UserError(f"{path}: {ATTEMPTS_MEMBER} does not match the SHA-256 in the manifest (altered after packing)")
    attempts = []
    for n, line in enumerate(attempts_bytes.split(b"\n"), 1):
        if not line.strip():
            continue
        where = f"{path}: {ATTEMPTS_MEMBER}: line {n}"
        data = parse_json(line, where)
        try:
            _validate(ATTEMPT_SCHEMAS[schema_version(data)], data, where)
            attempts.append(attempt_from(data, manifest.checkers))  # a v1 line takes its checker from the manifest
        except ValidationError as exc:
            at, msg = first_error(exc)
            raise UserError(f"{where}: {at or '(line)'}: {msg}") from None
        except ValueError as exc:
            raise UserError(f"{where}: {exc}") from None
    if len(attempts) != manifest.attempts.count:
        raise UserError(f"{path}: {len(attempts)} attempts, but the manifest says {manifest.attempts.count}")
    _check_attempts(path, manifest, attempts)
    summary = parse_json(members[SUMMARY_MEMBER], f"{path}: {SUMMARY_MEMBER}")
    return Bundle(path, sha256_of(raw), manifest, tuple(attempts), summary if isinstance(summary, dict) else {})


def _check_attempts(path: Path, manifest: BundleManifest, attempts: list[AttemptRecord]) -> None:
    """Every sample of every problem is there once; nothing else is."""
    problems = set(manifest.problems)
    if len(problems) != len(manifest.problems):
        raise UserError(f"{path}: the manifest lists a problem twice")
    seen: set[tuple[str, int, int]] = set()
    n = manifest.sampling.samples_per_problem
    rounds = manifest.sampling.repair_rounds
    for r in attempts:
        if r.problem not in problems:
            raise UserError(f"{path}: attempt for {r.problem!r}, which the manifest does not list")
        if r.sample >= n or r.round > rounds:
            raise UserError(f"{path}: attempt {r.key} is outside n={n} samples and {rounds} repair round(s)")
        if r.key in seen:
            raise UserError(f"{path}: attempt {r.key} appears twice")
        if r.verdict.status is Status.ERROR:
            raise UserError(f"{path}: attempt {r.key} has no verdict (ERROR); the run must be finished first")
        seen.add(r.key)
    for pid in manifest.problems:
        for sample in range(n):
            if (pid, sample, 0) not in seen:
                raise UserError(f"{path}: missing attempt: problem {pid!r}, sample {sample}")
