"""Boards that move with the checker: republishing on the current checker, and auditing a published board.

``republish`` re-verifies every entry whose proofs the board holds (every claimed
PASS, and the same seeded sample of the rest when every proof is published) on
this machine's checker, re-pins the board to that checker's identity, and marks
the entries it cannot carry over: those that publish no proofs and those whose
verdicts no longer reproduce wait for resubmission and are not ranked. Checks
are kept as they are made (``reverify``), so an interrupted republish resumes;
nothing under the board changes until every entry has been checked.

``verify`` re-checks published PASS proofs and reports, per entry, how many
reproduced; it writes nothing under the board.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from provebench.boards import reverify
from provebench.boards.add import board_suite
from provebench.boards.board import Board, BoardConfig, Entry, Reverification, Stale, now
from provebench.checking.engine import Engine, starting_line
from provebench.checking.registry import make_group_verifier
from provebench.core.errors import UserError
from provebench.core.journal import AttemptRecord
from provebench.core.model import CheckerInfo, Problem
from provebench.core.settings import Settings
from provebench.core.verifier import VerifierFactory


@dataclass
class MaintenanceHooks:
    """Progress of a republish or an audit."""

    status: Callable[[str], None] = lambda _text: None
    checked: Callable[[int, int], None] = lambda _done, _total: None
    images: Callable[[set[str]], None] = lambda _names: None  # build missing images, with progress


@dataclass
class EntryOutcome:
    """What re-checking one entry gave."""

    entry: str
    checked: int = 0
    reproduced: int = 0
    mismatches: list[str] = field(default_factory=list)
    skipped: str = ""  # why nothing was checked (no published proofs; already verified on this checker)


@dataclass
class RepublishReport:
    """A republished board: its new pins and what happened to each entry."""

    pins: list[CheckerInfo]
    outcomes: list[EntryOutcome]

    @property
    def resubmit(self) -> list[EntryOutcome]:
        """Entries that publish no proofs, so no board can check them again."""
        return [o for o in self.outcomes if o.skipped == NO_PROOFS]

    @property
    def not_reproduced(self) -> list[EntryOutcome]:
        """Entries with verdicts that no longer reproduce."""
        return [o for o in self.outcomes if o.mismatches]


NO_PROOFS = "publishes no proofs"
ALREADY = "already verified on this checker"


def _selection(entry: Entry, attempts: list[AttemptRecord], fraction: float) -> list[AttemptRecord] | None:
    """What to check again of an entry's published attempts, or None if its claimed PASSes have no proofs."""
    passes = [r for r in attempts if r.verdict.passed]
    if entry.open_data == "none" or any(r.prover.proof is None for r in passes):
        return None
    selected, _ = reverify.select(attempts, fraction, entry.reverification.seed, entry.open_data == "full")
    return selected


@dataclass(frozen=True)
class _Checking:
    """What checking an entry again needs: the suite's problems, the engine and its checkers' identity."""

    problems: dict[str, Problem]
    engine: Engine
    settings: Settings
    local: list[CheckerInfo]
    hooks: MaintenanceHooks
    command: str  # named in the message that says how to resume


def _prepare(
    board: Board, settings: Settings, hooks: MaintenanceHooks, make_verifier: VerifierFactory, command: str
) -> tuple[BoardConfig, _Checking]:
    """The board's pins, and what checking its entries again needs (no checker starts yet)."""
    config = board.config()
    if config is None:
        raise UserError(f"{board.path}: not a board (no board.yaml)")
    suite = board_suite(config, settings)
    hooks.images({p.checker_image for p in suite.problems})
    engine = Engine(
        settings,
        on_start=lambda system: hooks.status(starting_line(settings, system)),
        make=make_verifier,
    )
    engine.plan(list(suite.problems))
    try:
        local = reverify.local_checkers(engine, list(suite.problems))
    except BaseException:
        engine.close()
        raise
    return config, _Checking({p.id: p for p in suite.problems}, engine, settings, local, hooks, command)


def _progress(entry: Entry, c: _Checking) -> Path:
    # An audit keeps its own record: it resumes itself but does not take the results of a republish.
    subject = entry.bundle_sha256 if c.command == "republish" else f"{c.command}:{entry.bundle_sha256}"
    return reverify.progress_path(c.settings, subject, c.local)


def _check_entry(
    entry: Entry, selected: list[AttemptRecord], outcome: EntryOutcome, c: _Checking
) -> list[reverify.Mismatch]:
    """Check an entry's selected attempts again (resumably); its outcome is filled in, the mismatches returned."""
    c.hooks.status(f"entry {entry.id}")
    progress = _progress(entry, c)
    hooks = reverify.Hooks(c.hooks.status, c.hooks.checked)
    results = reverify.check_again(
        selected, c.problems, c.engine, c.settings, progress, entry.sampling.timeout_s, hooks
    )
    if errors := reverify.errors(selected, results):
        raise UserError(
            f"{len(errors)} check(s) of entry {entry.id} had no verdict (checker ERROR, first: "
            f"{errors[0].problem}); run leaderboard {c.command} again to resume"
        )
    bad = reverify.mismatches(selected, results)
    outcome.checked, outcome.reproduced = len(selected), len(selected) - len(bad)
    outcome.mismatches = [m.line() for m in bad]
    return bad


def republish(
    board_path: Path,
    settings: Settings,
    hooks: MaintenanceHooks | None = None,
    make_verifier: VerifierFactory = make_group_verifier,
) -> RepublishReport:
    """Re-verify the board's entries on this machine's checker and re-pin the board to it."""
    hooks = hooks or MaintenanceHooks()
    board = Board(board_path)
    entries = board.entries()
    config, checking = _prepare(board, settings, hooks, make_verifier, "republish")
    local = checking.local
    outcomes: list[EntryOutcome] = []
    updated: list[Entry] = []
    try:
        for entry in entries:
            outcome = EntryOutcome(entry.id)
            outcomes.append(outcome)
            if entry.stale is None and all(any(c.same_checker(v) for v in entry.verified_on) for c in local):
                outcome.skipped = ALREADY
                continue
            attempts = board.published_attempts(entry)
            fraction = entry.reverification.sample_fraction
            selected = _selection(entry, attempts, fraction)
            if selected is None:
                outcome.skipped = NO_PROOFS
                stale = Stale(reason="no-published-proofs", detail="its proofs are not published", since=now())
                updated.append(entry.model_copy(update={"stale": entry.stale or stale}))
                continue
            bad = _check_entry(entry, selected, outcome, checking)
            updated.append(_reverified(entry, selected, attempts, fraction, local, bad))
    finally:
        checking.engine.close()
    for entry in updated:
        board.write_entry_file(entry)
    board.write_config(config.model_copy(update={"checkers": local}))
    for entry in entries:  # the board holds the results now
        _progress(entry, checking).unlink(missing_ok=True)
    return RepublishReport(local, outcomes)


def _reverified(
    entry: Entry,
    selected: list[AttemptRecord],
    attempts: list[AttemptRecord],
    fraction: float,
    local: list[CheckerInfo],
    bad: list[reverify.Mismatch],
) -> Entry:
    """The entry after its re-verification on ``local``: verified there, or stale with the first mismatch."""
    record = Reverification(
        claimed_pass=sum(r.verdict.passed for r in selected),
        others=sum(not r.verdict.passed for r in attempts),
        others_sampled=sum(not r.verdict.passed for r in selected),
        sample_fraction=fraction,
        seed=entry.reverification.seed,
        checked=len(selected),
        reproduced=len(selected) - len(bad),
        on=local,
        at=now(),
    )
    stale = None
    if bad:
        detail = f"{len(bad)} of {len(selected)} verdicts did not reproduce, first: {bad[0].line()}"
        stale = Stale(reason="not-reproduced", detail=detail, since=now())
    # Entries made before checkers and times were recorded get them from what the entry itself says.
    last = entry.reverification.model_copy(
        update={"on": entry.verified_on, "at": entry.reverification.at or entry.added_at}
    )
    earlier = [*entry.earlier_reverifications, last]
    return entry.model_copy(update={"reverification": record, "earlier_reverifications": earlier, "stale": stale})


@dataclass
class AuditReport:
    """A board checked on this machine: per entry, how many published PASS proofs reproduced."""

    outcomes: list[EntryOutcome]
    pin_note: str  # how this machine's checker differs from the board's pin ("" when it is the pinned one)

    @property
    def all_reproduced(self) -> bool:
        """Whether every checked proof passed again."""
        return not any(o.mismatches for o in self.outcomes)


def audit(
    board_path: Path,
    settings: Settings,
    sample_fraction: float = 1.0,
    seed: int = 0,
    hooks: MaintenanceHooks | None = None,
    make_verifier: VerifierFactory = make_group_verifier,
) -> AuditReport:
    """Check a seeded ``sample_fraction`` of every entry's published PASS proofs on this machine's checker."""
    hooks = hooks or MaintenanceHooks()
    board = Board(board_path)
    entries = board.entries()
    config, checking = _prepare(board, settings, hooks, make_verifier, "verify")
    refusal = reverify.pin_refusal(checking.local, config.checkers, "this machine's")
    outcomes = []
    try:
        for entry in entries:
            outcome = EntryOutcome(entry.id)
            outcomes.append(outcome)
            passes = [r for r in board.published_attempts(entry) if r.verdict.passed and r.prover.proof is not None]
            if not passes:
                outcome.skipped = NO_PROOFS
                continue
            take = min(len(passes), max(1, round(len(passes) * sample_fraction)))
            chosen = sorted(random.Random(seed).sample(passes, take), key=lambda r: r.key)
            _check_entry(entry, chosen, outcome, checking)
    finally:
        checking.engine.close()
    for entry in entries:  # complete: the next audit checks again
        _progress(entry, checking).unlink(missing_ok=True)
    return AuditReport(outcomes, refusal.line if refusal is not None else "")
