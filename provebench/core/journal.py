"""Append-only JSON-lines journals: a run's attempts, selftests' verdicts, re-verification's checks.

One JSON object per line, written whole and flushed per record, so that a process killed at any
point loses at most the lines in flight. A torn last line (the process died mid-write, or the disk
filled up) is never read, and is cut off before appending again.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provebench.core.errors import UserError
from provebench.core.inputs import first_error, read_bytes
from provebench.core.model import Reason, Status

JOURNAL_SCHEMA_VERSION = 1
# Journals are read whole, as always; the bound only keeps a runaway file from taking the machine.
MAX_JOURNAL_BYTES = 1 << 36


class ApiRetry(BaseModel):
    """One retried call to a prover's API."""

    model_config = ConfigDict(frozen=True)

    error: str
    wait_seconds: float


class AttemptRecord(BaseModel):
    """One attempt: the prover's answer and the checker's verdict on it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: int = JOURNAL_SCHEMA_VERSION
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
    proof_seconds: float | None = None  # the proof's own CPU time, once compiled (HOL Light checkers)
    checker_digest: str | None = None  # for information: a rebuild of the same checker gets another digest
    checker_version: str | None = None
    checker_recipe: str | None = None  # with the version and package list: the checker's identity
    checker_packages: str | None = None
    checker_service: str | None = None  # the checker service that checked (--server), if any
    benchmark_pass: bool | None = None  # the benchmark's own judge, when the run asked for it
    computed_goal: str | None = None  # the goal a statement expression computed in the checker
    prover_seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None
    finish_reason: str | None = None
    api_retries: tuple[ApiRetry, ...] = ()
    infra_retries: int = 0
    session: int = 0
    finished_at: float = 0.0

    @property
    def key(self) -> tuple[str, int, int]:
        """Identity of the attempt within its run."""
        return (self.problem, self.sample, self.round)


def complete_lines(path: Path) -> list[tuple[int, bytes]]:
    """Each complete, non-blank line with its number; a torn last line (no newline after it) is left out."""
    if not path.exists() and not path.is_symlink():
        return []
    data = read_bytes(path, "journal", MAX_JOURNAL_BYTES)  # a FIFO or a device is refused, not waited on
    lines = data.split(b"\n")
    lines.pop()  # after the last newline: empty, or a line torn by a kill mid-write
    return [(n, line) for n, line in enumerate(lines, 1) if line.strip()]


def read_journal(path: Path, problems: Collection[str] | None = None) -> list[AttemptRecord]:
    """Every complete record, verified; a torn last line is ignored, anything else wrong is an error.

    With ``problems``, a record for any other problem is an error. Each (problem, sample, round)
    has at most one verdict: ERROR records (no verdict: the checker failed) may come before it,
    since a resumed run redoes them; any record after a verdict for the same key is an error,
    as it would be counted twice or contradict the first.
    """
    records = []
    decided: dict[tuple[str, int, int], tuple[int, AttemptRecord]] = {}
    for n, line in complete_lines(path):
        try:
            record = AttemptRecord.model_validate_json(line)
        except ValidationError as exc:
            where, msg = first_error(exc)
            raise UserError(f"{path}: line {n}: not an attempt record: {where or '(line)'}: {msg}") from None
        if problems is not None and record.problem not in problems:
            raise UserError(f"{path}: line {n}: attempt for problem {record.problem!r}, which the run does not list")
        if (first := decided.get(record.key)) is not None:
            m, earlier = first
            what = "a duplicate of" if earlier.status is record.status else "a verdict conflicting with"
            raise UserError(
                f"{path}: line {n}: {what} line {m} for problem {record.problem!r}, sample {record.sample}, "
                f"round {record.round} ({earlier.status.value} there, {record.status.value} here)"
            )
        if record.status is not Status.ERROR:
            decided[record.key] = (n, record)
        records.append(record)
    return records


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

    def append(self, record: AttemptRecord) -> None:
        """Write one record as one line and flush it to the OS."""
        self.write(record.model_dump_json())
