"""Leaderboards: entries added only after their claims re-verify on the board's own pinned checkers.

A board is a folder: ``board.yaml`` pins the suite (name, version, content
hash) and the checker images (digests) that verdicts must come from; each
entry lives in ``entries/<id>/`` as ``entry.json`` (stats, budget, settings,
re-verification record) and ``attempts.jsonl`` (what the submitter's
``open_data`` lets the board publish). A refused bundle writes nothing under
the board. Re-verification progress is kept in the cache directory, keyed by
the bundle's hash, so an interrupted ``leaderboard add`` resumes.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provebench.bundle import Budget, Bundle, Sampling, SuiteRef, read_bundle
from provebench.checking import VerifierPool, check_many
from provebench.errors import UserError
from provebench.inputs import first_error, read_yaml
from provebench.journal import AttemptRecord, read_journal
from provebench.model import CheckerInfo, Problem, Reason, Status
from provebench.settings import Settings
from provebench.stats import CategorySummary, ProblemCounts, ProblemRef, summarize
from provebench.suites.load import Suite, find_suite
from provebench.verify.api import Verifier, make_group_verifier

BOARD_FILE = "board.yaml"
ENTRIES_DIR = "entries"
ENTRY_FILE = "entry.json"
PUBLISHED_ATTEMPTS = "attempts.jsonl"
DEFAULT_SAMPLE_FRACTION = 0.1

VerifierFactory = Callable[[Sequence[Problem], Settings], Verifier]


class BoardConfig(BaseModel):
    """``board.yaml``: what every entry of the board must have been checked with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: SuiteRef
    checkers: list[CheckerInfo] = Field(min_length=1)
    sample_fraction: float = Field(default=DEFAULT_SAMPLE_FRACTION, ge=0, le=1)


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
    """What the board checked again before accepting the entry."""

    model_config = ConfigDict(frozen=True)

    claimed_pass: int
    others: int
    others_sampled: int
    sample_fraction: float
    seed: int
    checked: int
    reproduced: int


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
    checkers: list[CheckerInfo]
    prover: dict[str, Any]
    prompt_hashes: dict[str, str]
    sampling: Sampling
    budget: Budget
    stats: EntryStats
    reverification: Reverification


@dataclass(frozen=True)
class Mismatch:
    """A claimed verdict that did not reproduce."""

    problem: str
    sample: int
    round: int
    claimed: Status
    got: Status
    reason: Reason
    message: str

    def line(self) -> str:
        """One line of the refusal report."""
        why = f" ({self.reason.value}{': ' + self.message if self.message else ''})"
        where = f"{self.problem} sample {self.sample} round {self.round}"
        return f"{where}: claimed {self.claimed.value}, got {self.got.value}{why}"


class EntryRefused(UserError):
    """The bundle's claims do not reproduce; ``report`` has one line per problem attempt."""

    def __init__(self, summary: str, report: list[str]) -> None:
        super().__init__(summary)
        self.report = report


def entry_id(name: str) -> str:
    """A file-safe id from an entry's name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return slug or "entry"


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
        """Every entry, ranked: most solved first, then lower cost, then name."""
        out = []
        for f in sorted((self.path / ENTRIES_DIR).glob(f"*/{ENTRY_FILE}")):
            try:
                out.append(Entry.model_validate_json(f.read_bytes()))
            except ValidationError as exc:
                where, msg = first_error(exc)
                raise UserError(f"{f}: not a leaderboard entry: {where}: {msg}") from None
        return sorted(out, key=lambda e: (-e.stats.solved, e.budget.cost or 0.0, e.name))

    def published_attempts(self, entry: Entry) -> list[AttemptRecord]:
        """The attempts an entry publishes."""
        return read_journal(self.path / ENTRIES_DIR / entry.id / PUBLISHED_ATTEMPTS)


def _published(records: Sequence[AttemptRecord], open_data: str) -> list[AttemptRecord]:
    """What ``open_data`` lets the board publish of the attempts."""
    if open_data == "full":
        return list(records)
    if open_data == "partial":
        return [r if r.status is Status.PASS else r.model_copy(update={"proof": None}) for r in records]
    return [r.model_copy(update={"proof": None, "raw_reply": None}) for r in records]


def _suite_for(bundle: Bundle, board: BoardConfig | None, settings: Settings) -> Suite:
    claimed = bundle.manifest.suite
    if board is not None and board.suite.name != claimed.name:
        raise UserError(f"{bundle.path}: a run of suite {claimed.name!r}; this board is for {board.suite.name!r}")
    suite = find_suite(claimed.name, settings.suites_dir)
    pinned = board.suite.content_hash if board is not None else suite.content_hash
    if claimed.content_hash != pinned:
        raise UserError(
            f"{bundle.path}: suite hash {claimed.content_hash[:19]}... does not match the board's "
            f"{pinned[:19]}... (the run used another revision of {claimed.name})"
        )
    if suite.content_hash != pinned:
        raise UserError(
            f"the local suite {suite.name} ({suite.content_hash[:19]}...) is not the board's revision "
            f"({pinned[:19]}...); re-verification needs the board's"
        )
    missing = sorted({p.id for p in suite.problems} - set(bundle.manifest.problems))
    extra = sorted(set(bundle.manifest.problems) - {p.id for p in suite.problems})
    if extra:
        raise UserError(f"{bundle.path}: problem {extra[0]!r} is not in suite {suite.name}")
    if missing:
        raise UserError(
            f"{bundle.path}: the run covers {len(bundle.manifest.problems)} of the {len(suite.problems)} problems "
            f"of {suite.name} (first missing: {missing[0]}); a board entry needs them all"
        )
    return suite


def _check_digests(bundle: Bundle, pins: list[CheckerInfo]) -> None:
    """Every verdict of the bundle came from an image the board pins."""
    pinned = {c.digest for c in pins}
    for c in bundle.manifest.checkers:
        if c.digest not in pinned:
            raise UserError(
                f"{bundle.path}: checker {c.image} {c.digest[:19]}... is not the board's pinned image "
                f"({', '.join(p.digest[:19] + '...' for p in pins)})"
            )
    for r in bundle.attempts:
        if r.checker_digest is not None and r.checker_digest not in pinned:
            raise UserError(f"{bundle.path}: attempt {r.key} was checked by {r.checker_digest[:19]}..., not pinned")


def _selection(bundle: Bundle, fraction: float) -> tuple[list[AttemptRecord], int, int]:
    """Every claimed PASS, and a sample of the other verdicts seeded by the bundle's hash."""
    seed = int(bundle.sha256.removeprefix("sha256:")[:12], 16)
    passes = [r for r in bundle.attempts if r.status is Status.PASS]
    others = [r for r in bundle.attempts if r.status is not Status.PASS]
    take = min(len(others), round(len(others) * fraction)) if others else 0
    sampled = random.Random(seed).sample(others, take)
    return passes + sorted(sampled, key=lambda r: r.key), len(others), seed


def _reproduces(claimed: AttemptRecord, got_status: Status) -> bool:
    # A PASS must be a PASS again; a refusal must be a refusal again (FAIL and TIMEOUT may trade
    # places on a machine of another speed, but never with PASS).
    return (claimed.status is Status.PASS) == (got_status is Status.PASS)


@dataclass
class AddHooks:
    """Progress of an add."""

    status: Callable[[str], None] = lambda _text: None
    checked: Callable[[int, int], None] = lambda _done, _total: None
    images: Callable[[set[str]], None] = lambda _names: None  # build missing images, with progress


def add_entry(
    bundle_path: Path,
    board_path: Path,
    settings: Settings,
    hooks: AddHooks | None = None,
    make_verifier: VerifierFactory = make_group_verifier,
    sample_fraction: float | None = None,
) -> Entry:
    """Validate, re-verify and write one entry; raises ``UserError``/``EntryRefused`` and writes nothing then."""
    hooks = hooks or AddHooks()
    board = Board(board_path)
    config = board.config()
    bundle = read_bundle(bundle_path)
    suite = _suite_for(bundle, config, settings)
    m = bundle.manifest
    eid = entry_id(m.submitter.name)
    for e in board.entries():
        if e.bundle_sha256 == bundle.sha256:
            raise UserError(f"{bundle_path}: already on the board as entry {e.id!r}")
        if e.id == eid:
            raise UserError(f"the board already has an entry {eid!r}; submit under another --name")
    if sample_fraction is not None:
        fraction = sample_fraction
    else:
        fraction = config.sample_fraction if config is not None else DEFAULT_SAMPLE_FRACTION
    selected, others, seed = _selection(bundle, fraction)
    problems = {p.id: p for p in suite.problems}

    to_check = [problems[r.problem] for r in selected] or list(suite.problems)
    hooks.images({p.checker_image for p in to_check})
    pool = VerifierPool(
        settings,
        on_start=lambda system: hooks.status(f"starting warm {system.value} checker(s); loading takes a while"),
        make=make_verifier,
    )
    try:
        pool.plan(to_check)
        local = _local_checkers(pool, to_check)
        pins = config.checkers if config is not None else local
        for c in local:
            if c.digest not in {p.digest for p in pins}:
                raise UserError(
                    f"this machine's {c.image} image is {c.digest[:19]}..., not the board's pinned "
                    f"{', '.join(p.digest[:19] + '...' for p in pins)}; build the pinned image to re-verify"
                )
        _check_digests(bundle, pins)
        results = _reverify(bundle, selected, problems, pool, settings, hooks)
    finally:
        pool.close()

    errors = [r for r in selected if results[r.key][0] is Status.ERROR]
    if errors:
        raise UserError(
            f"{len(errors)} re-verification check(s) had no verdict (checker ERROR, first: {errors[0].problem}); "
            "run leaderboard add again to resume"
        )
    mismatches = [
        Mismatch(r.problem, r.sample, r.round, r.status, *results[r.key])
        for r in selected
        if not _reproduces(r, results[r.key][0])
    ]
    if mismatches:
        raise EntryRefused(
            f"{bundle_path}: refused: {len(mismatches)} of {len(selected)} re-verified verdicts do not reproduce",
            [x.line() for x in mismatches],
        )

    summary = summarize(
        [ProblemRef(id=p.id, category=p.category) for p in suite.problems],
        bundle.attempts,
        m.sampling.samples_per_problem,
        m.sampling.ks,
        wall_seconds=m.budget.wall_seconds,
    )
    entry = Entry(
        id=eid,
        name=m.submitter.name,
        contact=m.submitter.contact,
        open_data=m.submitter.open_data,
        submitted_at=m.created_at,
        added_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        bundle_sha256=bundle.sha256,
        provebench_version=m.provebench_version,
        suite=m.suite,
        checkers=m.checkers,
        prover=m.prover,
        prompt_hashes=m.prompt_hashes,
        sampling=m.sampling,
        budget=m.budget,
        stats=EntryStats.model_validate(summary.model_dump(include=set(EntryStats.model_fields))),
        reverification=Reverification(
            claimed_pass=sum(r.status is Status.PASS for r in selected),
            others=others,
            others_sampled=sum(r.status is not Status.PASS for r in selected),
            sample_fraction=fraction,
            seed=seed,
            checked=len(selected),
            reproduced=len(selected),
        ),
    )
    _write_entry(board, entry, _published(bundle.attempts, m.submitter.open_data), config, suite, pins, fraction)
    _progress_file(settings, bundle).unlink(missing_ok=True)
    return entry


def _local_checkers(pool: VerifierPool, problems: Sequence[Problem]) -> list[CheckerInfo]:
    """The checkers this machine would re-verify with (known before any loads)."""
    seen: dict[str, CheckerInfo] = {}
    for p in problems:
        c = pool.for_problem(p, prepare=False).checker
        seen.setdefault(c.digest, c)
    return list(seen.values())


def _as_run(problem: Problem, run_timeout_s: float | None) -> Problem:
    """The problem with the time limit the run had: its own, or the run's shorter override.

    A shorter limit is the submitter's handicap and must be kept for refusals to reproduce;
    a longer one is not the suite's rule, so claims get no more time than the problem allows.
    """
    if run_timeout_s is None or run_timeout_s >= problem.timeout_s:
        return problem
    return problem.model_copy(update={"timeout_s": run_timeout_s})


def _progress_file(settings: Settings, bundle: Bundle) -> Path:
    return settings.cache_dir / "reverify" / (bundle.sha256.removeprefix("sha256:")[:32] + ".jsonl")


def _reverify(
    bundle: Bundle,
    selected: list[AttemptRecord],
    problems: dict[str, Problem],
    pool: VerifierPool,
    settings: Settings,
    hooks: AddHooks,
) -> dict[tuple[str, int, int], tuple[Status, Reason, str]]:
    """Check the selected attempts on the warm pool; results already journalled are reused."""
    path = _progress_file(settings, bundle)
    done: dict[tuple[str, int, int], tuple[Status, Reason, str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                d = json.loads(line)
                done[(d["problem"], d["sample"], d["round"])] = (Status(d["status"]), Reason(d["reason"]), d["message"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line: that check runs again
    todo = [r for r in selected if r.key not in done]
    if len(done):
        hooks.status(f"resuming re-verification: {len(selected) - len(todo)} of {len(selected)} already checked")
    hooks.status(f"re-verifying {len(selected)} attempts ({len(todo)} to check)")
    path.parent.mkdir(parents=True, exist_ok=True)
    count = len(selected) - len(todo)
    hooks.checked(count, len(selected))
    with path.open("a", encoding="utf-8") as journal:
        items = [(_as_run(problems[r.problem], bundle.manifest.sampling.timeout_s), r.proof or "") for r in todo]
        for r, verdict in zip(todo, check_many(pool, items, None, settings.checkers), strict=True):
            message = verdict.messages[0].splitlines()[0][:200] if verdict.messages else ""
            done[r.key] = (verdict.status, verdict.reason, message)
            if verdict.status is not Status.ERROR:  # an ERROR is checked again on the next try
                row = {"problem": r.problem, "sample": r.sample, "round": r.round}
                row.update(status=verdict.status.value, reason=verdict.reason.value, message=message)
                journal.write(json.dumps(row) + "\n")
                journal.flush()
            count += 1
            hooks.checked(count, len(selected))
    return done


def _write_entry(
    board: Board,
    entry: Entry,
    published: list[AttemptRecord],
    config: BoardConfig | None,
    suite: Suite,
    pins: list[CheckerInfo],
    fraction: float,
) -> None:
    """Write the entry's folder whole (a temporary folder, then a rename), and the board file if new."""
    entries = board.path / ENTRIES_DIR
    entries.mkdir(parents=True, exist_ok=True)
    tmp = entries / f".{entry.id}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    (tmp / ENTRY_FILE).write_text(entry.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (tmp / PUBLISHED_ATTEMPTS).write_text("".join(r.model_dump_json() + "\n" for r in published), encoding="utf-8")
    os.replace(tmp, entries / entry.id)
    if config is None:
        new = BoardConfig(
            suite=SuiteRef(name=suite.name, version=suite.manifest.version, content_hash=suite.content_hash),
            checkers=pins,
            sample_fraction=fraction,
        )
        board.config_path.write_text(yaml.safe_dump(new.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
