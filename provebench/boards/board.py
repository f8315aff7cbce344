"""A leaderboard's folder: ``board.yaml`` (what every entry must have been checked with) and its entries.

Each entry lives in ``entries/<id>/`` as ``entry.json`` (stats, budget, settings, re-verification
record) and ``attempts.jsonl`` (what the submitter's ``open_data`` lets the board publish). Files
are written atomically. Adding entries is in ``add``; republishing in ``maintenance``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provebench.boards.bundle import Budget, Sampling
from provebench.core.errors import UserError
from provebench.core.inputs import first_error, read_bytes, read_yaml
from provebench.core.journal import AttemptRecord, read_journal
from provebench.core.model import CheckerInfo
from provebench.core.outputs import write_atomic
from provebench.runs.manifest import SuiteRef
from provebench.runs.stats import CategorySummary, ProblemCounts

BOARD_FILE = "board.yaml"
ENTRIES_DIR = "entries"
ENTRY_FILE = "entry.json"
PUBLISHED_ATTEMPTS = "attempts.jsonl"
DEFAULT_SAMPLE_FRACTION = 0.1


class BoardConfig(BaseModel):
    """``board.yaml``: what every entry of the board must have been checked with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: SuiteRef = Field(description="the suite and revision every entry must have been run on")
    checkers: list[CheckerInfo] = Field(min_length=1, description="the checkers every entry is verified on")
    sample_fraction: float = Field(
        default=DEFAULT_SAMPLE_FRACTION,
        ge=0,
        le=1,
        description="the share of an entry's non-PASS verdicts `leaderboard add` checks again (`--sample` overrides)",
    )


class EntryStats(BaseModel):
    """An entry's results, computed by the board from the attempts (never the submitter's summary)."""

    model_config = ConfigDict(frozen=True)

    problems: int
    solved: int
    solved_interval_95: tuple[float, float]
    pass_at_k: dict[int, float]
    by_category: dict[str, CategorySummary]
    by_problem: dict[str, ProblemCounts]


class Reverification(BaseModel):
    """What the board checked again, on which checker, and when."""

    model_config = ConfigDict(frozen=True)

    claimed_pass: int
    others: int
    others_sampled: int
    sample_fraction: float
    seed: int
    checked: int
    reproduced: int
    on: list[CheckerInfo] = Field(default_factory=list)  # empty in entries made before checkers were recorded
    at: str = ""


class Stale(BaseModel):
    """Why an entry is no longer verified on the board's current checker (it waits for resubmission)."""

    model_config = ConfigDict(frozen=True)

    reason: Literal["no-published-proofs", "not-reproduced"]
    detail: str
    since: str


class Entry(BaseModel):
    """``entries/<id>/entry.json``."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    contact: str
    open_data: str
    submitted_at: str
    added_at: str
    bundle_sha256: str
    provebench_version: str
    suite: SuiteRef
    checkers: list[CheckerInfo]  # the run's own checkers
    prover: dict[str, Any]
    prompt_hashes: dict[str, str]
    sampling: Sampling
    budget: Budget
    stats: EntryStats
    reverification: Reverification
    earlier_reverifications: list[Reverification] = Field(default_factory=list)
    stale: Stale | None = None

    @property
    def verified_on(self) -> list[CheckerInfo]:
        """The checkers the board last re-verified this entry on."""
        return self.reverification.on or self.checkers


class EntryRefused(UserError):
    """The bundle's claims do not reproduce; ``report`` has one line per problem attempt."""

    def __init__(self, summary: str, report: list[str]) -> None:
        super().__init__(summary)
        self.report = report


def entry_id(name: str) -> str:
    """A file-safe id from an entry's name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return slug or "entry"


def now() -> str:
    """The time stamp boards record."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Board:
    """A leaderboard folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def config_path(self) -> Path:
        """``board.yaml``."""
        return self.path / BOARD_FILE

    def config(self) -> BoardConfig | None:
        """The board's pins, or None for a board not made yet."""
        if not self.config_path.exists():
            return None
        data = read_yaml(self.config_path, "board file")
        try:
            return BoardConfig.model_validate(data)
        except ValidationError as exc:
            where, msg = first_error(exc)
            raise UserError(f"{self.config_path}: {where or '(top level)'}: {msg}") from None

    def entries(self) -> list[Entry]:
        """Every entry, stale ones too, ranked: most solved first, then lower cost, then name."""
        out = []
        for f in sorted((self.path / ENTRIES_DIR).glob(f"*/{ENTRY_FILE}")):
            if f.parent.name.startswith("."):  # an add interrupted mid-swap (.ID.tmp, .ID.old): not an entry
                continue
            try:
                out.append(Entry.model_validate_json(read_bytes(f, "leaderboard entry")))  # regular, bounded
            except ValidationError as exc:
                where, msg = first_error(exc)
                raise UserError(f"{f}: not a leaderboard entry: {where}: {msg}") from None
        return sorted(out, key=lambda e: (-e.stats.solved, e.budget.cost or 0.0, e.name))

    def ranked(self) -> list[Entry]:
        """The entries verified on the board's current checker, ranked."""
        return [e for e in self.entries() if e.stale is None]

    def published_attempts(self, entry: Entry) -> list[AttemptRecord]:
        """The attempts an entry publishes (schema v1 ones take their checkers' images from the entry's)."""
        return read_journal(self.path / ENTRIES_DIR / entry.id / PUBLISHED_ATTEMPTS, checkers=entry.checkers)

    def write_entry_file(self, entry: Entry) -> None:
        """Replace an existing entry's ``entry.json`` atomically (its attempts stay)."""
        write_atomic(self.path / ENTRIES_DIR / entry.id / ENTRY_FILE, entry.model_dump_json(indent=2) + "\n")

    def write_config(self, config: BoardConfig) -> None:
        """Write ``board.yaml`` atomically."""
        write_atomic(self.config_path, yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))


def published(records: Sequence[AttemptRecord], open_data: str) -> list[AttemptRecord]:
    """What ``open_data`` lets the board publish of the attempts."""
    if open_data == "full":
        return list(records)
    if open_data == "partial":
        return [r if r.verdict.passed else r.withheld("proof") for r in records]
    return [r.withheld("proof", "raw_reply") for r in records]
