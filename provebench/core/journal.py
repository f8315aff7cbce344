"""Append-only JSON-lines journals: a run's attempts, selftests' verdicts, re-verification's checks.

One JSON object per line, written whole and flushed per record, so that a process killed at any
point loses at most the lines in flight. A torn last line (the process died mid-write, or the disk
filled up) is never read, and is cut off before appending again.

Every journal's lines are defined here. A run's attempts are results: any line that cannot be read
is an error naming it. Selftest and re-verification journals are caches of checks: a line they cannot
use (junk, a line torn mid-file by an older provebench, another layout) is skipped, and its check
runs again.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provebench.core.errors import UserError
from provebench.core.inputs import first_error, parse_json, read_bytes
from provebench.core.model import CheckerInfo, Reason, Status, Verdict

JOURNAL_SCHEMA_VERSION: Literal[2] = 2
SCHEMA_VERSIONS = (1, 2)  # what an attempt line may say it is; a line that says nothing is v1
# Journals are read whole, as always; the bound only keeps a runaway file from taking the machine.
MAX_JOURNAL_BYTES = 1 << 36


class ApiRetry(BaseModel):
    """One retried call to a prover's API."""

    model_config = ConfigDict(frozen=True)

    error: str
    wait_seconds: float


class ProverAnswer(BaseModel):
    """The prover's side of an attempt: its proof, its raw reply and what producing them cost."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = ""
    proof: str | None = None
    raw_reply: str | None = None  # the answer the proof was taken from
    reasoning: str | None = None  # a reasoning model's thinking, where the endpoint sent it apart from the answer
    seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0  # every completion token, the reasoning's included
    tokens_reasoning: int = 0  # how many of tokens_out were reasoning, where the API says
    cost: float | None = None
    finish_reason: str | None = None
    api_retries: tuple[ApiRetry, ...] = ()
    cached: bool = False  # the reply came from the reply cache: no request was made, nothing was paid for it
    # An agent's tool calls in order, each {"tool", "arguments", "result", "seconds"} (and {"say": text}).
    trajectory: tuple[dict[str, Any], ...] | None = None


class AttemptRecord(BaseModel):
    """One attempt (schema v2): the prover's answer and the checker's verdict on it, as the checker gave it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[2] = JOURNAL_SCHEMA_VERSION
    problem: str
    sample: int = Field(ge=0)
    round: int = Field(ge=0)
    category: str = "uncategorized"
    prover: ProverAnswer = ProverAnswer()
    verdict: Verdict  # its checker is None when no check was made (the prover gave no proof)
    infra_retries: int = 0
    session: int = 0
    finished_at: float = 0.0

    @property
    def key(self) -> tuple[str, int, int]:
        """Identity of the attempt within its run."""
        return (self.problem, self.sample, self.round)

    def withheld(self, *parts: Literal["proof", "raw_reply"]) -> AttemptRecord:
        """This record without the prover's ``parts`` (what a submitter does not let a board publish).

        A raw reply withheld takes its reasoning with it: the thinking may hold the proof, or more. Either
        part withheld takes an agent's trajectory with it: its tactics and words are proof text.
        """
        withheld: list[str] = [*parts, "reasoning"] if "raw_reply" in parts else list(parts)
        if parts:
            withheld.append("trajectory")
        return self.model_copy(update={"prover": self.prover.model_copy(update=dict.fromkeys(withheld))})


class AttemptRecordV1(BaseModel):
    """One attempt: the prover's answer and the checker's verdict on it."""

    # Schema v1, flat: read from journals, boards and bundles written before v2, never written.
    # Its shape is frozen: it is what submission-attempt-v1.schema.json describes.
    model_config = ConfigDict(frozen=True, extra="ignore", title="AttemptRecord")

    schema_version: int = 1
    problem: str
    sample: int = Field(ge=0)
    round: int = Field(ge=0)
    status: Status
    reason: Reason
    category: str = "uncategorized"
    prover: str = ""
    proof: str | None = None
    raw_reply: str | None = None
    messages: tuple[str, ...] = ()
    check_seconds: float = 0.0
    cpu_seconds: float = 0.0
    proof_seconds: float | None = None
    checker_digest: str | None = None
    checker_version: str | None = None
    checker_recipe: str | None = None
    checker_packages: str | None = None
    checker_service: str | None = None
    benchmark_pass: bool | None = None
    computed_goal: str | None = None
    prover_seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None
    finish_reason: str | None = None
    api_retries: tuple[ApiRetry, ...] = ()
    infra_retries: int = 0
    session: int = 0
    finished_at: float = 0.0


def upgrade_v1(old: AttemptRecordV1, checkers: Sequence[CheckerInfo]) -> AttemptRecord:
    """A v1 record in the v2 shape; ``checkers`` are the ones its run declares (run manifest, bundle, entry).

    v1 kept the checker's digest, version, recipe and package list, not its image or proof system. Both come
    from the declared checker with that digest and identity; failing one, the image stays unknown ("") and
    the system is the one every declared checker has. ValueError if there is none to take.
    """
    checker = None
    if old.checker_digest is not None:
        kept = (old.checker_digest, old.checker_version or "", old.checker_recipe or "", old.checker_packages or "")
        checker = next((c for c in checkers if (c.digest, c.version, c.recipe, c.packages) == kept), None)
        if checker is None:
            systems = {c.system for c in checkers}
            if len(systems) != 1:
                raise ValueError(
                    "a schema v1 record does not name its checker's proof system, and no one system "
                    "is declared for its run to take it from"
                )
            digest, version, recipe, packages = kept
            checker = CheckerInfo(
                image="", digest=digest, system=systems.pop(), version=version, recipe=recipe, packages=packages
            )
    return AttemptRecord(
        problem=old.problem,
        sample=old.sample,
        round=old.round,
        category=old.category,
        prover=ProverAnswer(
            name=old.prover,
            proof=old.proof,
            raw_reply=old.raw_reply,
            seconds=old.prover_seconds,
            tokens_in=old.tokens_in,
            tokens_out=old.tokens_out,
            cost=old.cost,
            finish_reason=old.finish_reason,
            api_retries=old.api_retries,
        ),
        verdict=Verdict(
            status=old.status,
            reason=old.reason,
            messages=old.messages,
            check_seconds=old.check_seconds,
            cpu_seconds=old.cpu_seconds,
            proof_seconds=old.proof_seconds,
            checker=checker,
            computed_goal=old.computed_goal,
            benchmark_pass=old.benchmark_pass,
            service=old.checker_service,
        ),
        infra_retries=old.infra_retries,
        session=old.session,
        finished_at=old.finished_at,
    )


def schema_version(data: Any) -> int:
    """The schema version an attempt line says it has (1 if it says none); ValueError for one not known."""
    version = data.get("schema_version", 1) if isinstance(data, dict) else 1
    if type(version) is not int or version not in SCHEMA_VERSIONS:
        known = ", ".join(str(v) for v in SCHEMA_VERSIONS)
        raise ValueError(f"schema_version {repr(version)[:40]} is not one this provebench reads ({known})")
    return version


def attempt_from(data: Any, checkers: Sequence[CheckerInfo] = ()) -> AttemptRecord:
    """An attempt line's JSON value as a v2 record, whatever its version; ValidationError or ValueError if not one.

    ``checkers``: the ones the line's run declares, which a v1 line needs (``upgrade_v1``).
    """
    if schema_version(data) == 1:
        return upgrade_v1(AttemptRecordV1.model_validate(data), checkers)
    return AttemptRecord.model_validate(data)


class SelftestLine(BaseModel):
    """One verdict in a selftest's journal (``suites selftest --journal``), for one revision of a suite."""

    model_config = ConfigDict(frozen=True)

    problem: str
    suite_hash: str
    verdict: Verdict


class RecheckLine(BaseModel):
    """One check in re-verification's progress journal (in the cache), with the hash of the proof it judged."""

    model_config = ConfigDict(frozen=True)

    problem: str
    sample: int
    round: int
    proof_sha256: str
    status: Status
    reason: Reason
    message: str

    @property
    def key(self) -> tuple[str, int, int]:
        """The attempt checked."""
        return (self.problem, self.sample, self.round)


def complete_lines(path: Path) -> list[tuple[int, bytes]]:
    """Each complete, non-blank line with its number; a torn last line (no newline after it) is left out."""
    if not path.exists() and not path.is_symlink():
        return []
    data = read_bytes(path, "journal", MAX_JOURNAL_BYTES)  # a FIFO or a device is refused, not waited on
    lines = data.split(b"\n")
    lines.pop()  # after the last newline: empty, or a line torn by a kill mid-write
    return [(n, line) for n, line in enumerate(lines, 1) if line.strip()]


def _attempt_line(line: bytes, where: str, checkers: Sequence[CheckerInfo]) -> AttemptRecord:
    """One journal line as a v2 record; a one-line error saying ``where`` if it is not one."""
    try:  # a line that says it is v2, in one pass (a journal is read whole, often)
        record = AttemptRecord.model_validate_json(line)
        if "schema_version" in record.model_fields_set:
            return record
    except ValidationError:
        pass  # read again below, to say what is wrong with it (or to read it as v1)
    try:
        return attempt_from(parse_json(line, where), checkers)
    except ValidationError as exc:
        at, msg = first_error(exc)
        raise UserError(f"{where}: {at or '(line)'}: {msg}") from None
    except ValueError as exc:
        raise UserError(f"{where}: {exc}") from None


def read_journal(
    path: Path, problems: Collection[str] | None = None, checkers: Sequence[CheckerInfo] = ()
) -> list[AttemptRecord]:
    """Every complete record, verified; a torn last line is ignored, anything else wrong is an error.

    Lines of schema v1 and v2 may be mixed (a v1 run resumed appends v2); ``checkers`` are those the
    run declares, which v1 lines need. With ``problems``, a record for any other problem is an error.
    Each (problem, sample, round) has at most one verdict: ERROR records (no verdict: the checker
    failed) may come before it, since a resumed run redoes them; any record after a verdict for the
    same key is an error, as it would be counted twice or contradict the first.
    """
    records = []
    decided: dict[tuple[str, int, int], tuple[int, AttemptRecord]] = {}
    for n, line in complete_lines(path):
        record = _attempt_line(line, f"{path}: line {n}: not an attempt record", checkers)
        if problems is not None and record.problem not in problems:
            raise UserError(f"{path}: line {n}: attempt for problem {record.problem!r}, which the run does not list")
        status = record.verdict.status
        if (first := decided.get(record.key)) is not None:
            m, earlier = first
            was = earlier.verdict.status
            what = "a duplicate of" if was is status else "a verdict conflicting with"
            raise UserError(
                f"{path}: line {n}: {what} line {m} for problem {record.problem!r}, sample {record.sample}, "
                f"round {record.round} ({was.value} there, {status.value} here)"
            )
        if status is not Status.ERROR:
            decided[record.key] = (n, record)
        records.append(record)
    return records


Line = TypeVar("Line", SelftestLine, RecheckLine)


def read_cache(path: Path, line: type[Line]) -> list[Line]:
    """The complete lines of a cache journal that are ``line``s; any other line is skipped, so its check runs again."""
    out = []
    for _n, data in complete_lines(path):
        try:
            out.append(line.model_validate_json(data))
        except ValidationError:
            continue  # junk, a line torn mid-file (older provebench kept them), or an older layout
    return out


def _cut_torn_tail(fd: int) -> None:
    """Truncate after the last newline, so the next record starts on a line of its own."""
    size = os.fstat(fd).st_size
    chunk = 1 << 16
    end = size
    while end > 0:
        start = max(0, end - chunk)
        cut = os.pread(fd, end - start, start).rfind(b"\n")
        if cut >= 0:
            end = start + cut + 1
            break
        end = start
    if end != size:
        os.ftruncate(fd, end)


class Lines:
    """Appends JSON lines to one regular file; a torn last line is cut off first. One writer at a time.

    Each line goes to the OS in unbuffered writes; if one fails part-way (disk full, size limit) the
    part already written is cut off again, so the file keeps only whole lines and can be appended to.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def open(self) -> None:
        """Open for appending, first cutting off a torn last line; one-line errors."""
        try:
            # O_NONBLOCK: a FIFO in the journal's place is refused below instead of waited on
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            raise UserError(f"{self.path}: cannot open the journal: {exc.strerror}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UserError(f"{self.path}: the journal is not a regular file")
            _cut_torn_tail(fd)
        except OSError as exc:
            os.close(fd)
            raise UserError(f"{self.path}: cannot append to the journal: {exc.strerror}") from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def write(self, line: str) -> None:
        """One line (JSON without newlines), in the OS when this returns; OSError if it could not be written."""
        if self._fd is None:
            raise RuntimeError(f"{self.path} is not open")
        data = memoryview((line + "\n").encode("utf-8"))
        before = os.fstat(self._fd).st_size
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except BaseException:
            try:
                os.ftruncate(self._fd, before)  # no half line for the next record to be glued to
            except OSError:
                pass  # then the torn line is cut when the journal is next opened
            raise

    def append(self, line: AttemptRecord | SelftestLine | RecheckLine) -> None:
        """Write one journal line (an attempt in the current schema) and flush it to the OS."""
        self.write(line.model_dump_json())

    def __enter__(self) -> Lines:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush to disk and close."""
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None


class Journal(Lines):
    """A run's ``attempts.jsonl``; one writer per run (the run holds a lock)."""
