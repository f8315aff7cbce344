"""Leaderboards: entries added only after their claims re-verify on the board's own pinned checker.

A board is a folder (``board``): ``board.yaml`` pins the suite (name, version, content
hash) and the checkers that verdicts must come from, by identity (recipe,
proof-system version, package list: what any machine rebuilds from the same
sources), and each entry has a folder of its own. A refused bundle writes
nothing under the board. Re-verification progress is kept in the cache
directory, so an interrupted ``leaderboard add`` resumes. Republishing a board
on a new checker is in ``maintenance``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provebench.boards import reverify
from provebench.boards.board import (
    DEFAULT_SAMPLE_FRACTION,
    ENTRIES_DIR,
    ENTRY_FILE,
    PUBLISHED_ATTEMPTS,
    Board,
    BoardConfig,
    Entry,
    EntryRefused,
    EntryStats,
    Reverification,
    entry_id,
    now,
    published,
)
from provebench.boards.bundle import Bundle, read_bundle
from provebench.checking.engine import Engine, starting_line
from provebench.checking.registry import make_group_verifier
from provebench.core.errors import UserError
from provebench.core.journal import AttemptRecord
from provebench.core.model import CheckerInfo
from provebench.core.outputs import write_atomic
from provebench.core.settings import Settings
from provebench.core.verifier import VerifierFactory
from provebench.runs.manifest import SuiteRef
from provebench.runs.stats import ProblemRef, summarize
from provebench.suites.load import Suite, find_suite


def board_suite(config: BoardConfig, settings: Settings) -> Suite:
    """The board's suite revision, found locally; re-verification needs exactly it."""
    suite = find_suite(config.suite.name, settings.suites_dir)
    pinned = config.suite.content_hash
    if suite.content_hash != pinned:
        raise UserError(
            f"the local suite {suite.name} ({suite.content_hash[:19]}...) is not the board's revision "
            f"({pinned[:19]}...); re-verification needs the board's"
        )
    return suite


def _suite_for(bundle: Bundle, board: BoardConfig | None, settings: Settings) -> Suite:
    claimed = bundle.manifest.suite
    if board is not None and board.suite.name != claimed.name:
        raise UserError(f"{bundle.path}: a run of suite {claimed.name!r}; this board is for {board.suite.name!r}")
    suite = board_suite(board, settings) if board is not None else find_suite(claimed.name, settings.suites_dir)
    if claimed.content_hash != suite.content_hash:
        raise UserError(
            f"{bundle.path}: suite hash {claimed.content_hash[:19]}... does not match the board's "
            f"{suite.content_hash[:19]}... (the run used another revision of {claimed.name})"
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


def _check_run_checkers(bundle: Bundle, pins: list[CheckerInfo]) -> None:
    """Every verdict of the bundle came from a checker with a pinned identity."""
    refusal = reverify.pin_refusal(bundle.manifest.checkers, pins, "the run's", "in the run")
    if refusal is not None:
        raise UserError(f"{bundle.path}: {refusal.line}; re-run on the board's checker")
    for r in bundle.attempts:
        c = r.verdict.checker  # None: no check was made (the prover gave no proof)
        if c is not None and not any(c.same_checker(p) for p in pins):
            why = "; ".join(c.identity_differences(reverify.pin_for(c, pins) or pins[0], ("in the run", "pinned")))
            raise UserError(f"{bundle.path}: attempt {r.key} was checked by another checker: {why}")


def refuse_local_checkers(local: list[CheckerInfo], pins: list[CheckerInfo], board: Path) -> None:
    """A one-line refusal if this machine's checker is not the board's pinned one, with what to do."""
    refusal = reverify.pin_refusal(local, pins, "this machine's")
    if refusal is None:
        return
    if refusal.parts == {"package list"}:
        hint = "the same recipe built from other Debian packages: build it from the snapshot the board was pinned with"
    else:
        hint = (
            f"the checker changed since the board was pinned: republish the board on it (provebench leaderboard "
            f"republish --board {board}) or check with the pinned recipe"
        )
    raise UserError(f"{refusal.line}; {hint}")


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
        if e.bundle_sha256 == bundle.sha256 and e.stale is None:
            raise UserError(f"{bundle_path}: already on the board as entry {e.id!r}")
        if e.id == eid and e.stale is None:
            raise UserError(f"the board already has an entry {eid!r}; submit under another --name")
    if sample_fraction is not None:
        fraction = sample_fraction
    else:
        fraction = config.sample_fraction if config is not None else DEFAULT_SAMPLE_FRACTION
    seed = reverify.seed_of(bundle.sha256)
    selected, others = reverify.select(bundle.attempts, fraction, seed)
    problems = {p.id: p for p in suite.problems}

    to_check = [problems[r.problem] for r in selected] or list(suite.problems)
    hooks.images({p.checker_image for p in to_check})
    engine = Engine(
        settings,
        on_start=lambda system: hooks.status(starting_line(settings, system)),
        make=make_verifier,
    )
    try:
        engine.plan(to_check)
        local = reverify.local_checkers(engine, to_check)
        pins = config.checkers if config is not None else local
        refuse_local_checkers(local, pins, board.path)
        _check_run_checkers(bundle, pins)
        progress = reverify.progress_path(settings, bundle.sha256, local)
        results = reverify.check_again(
            selected,
            problems,
            engine,
            settings,
            progress,
            m.sampling.timeout_s,
            reverify.Hooks(hooks.status, hooks.checked),
        )
    finally:
        engine.close()

    errors = reverify.errors(selected, results)
    if errors:
        raise UserError(
            f"{len(errors)} re-verification check(s) had no verdict (checker ERROR, first: {errors[0].problem}); "
            "run leaderboard add again to resume"
        )
    mismatches = reverify.mismatches(selected, results)
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
        added_at=now(),
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
            claimed_pass=sum(r.verdict.passed for r in selected),
            others=others,
            others_sampled=sum(not r.verdict.passed for r in selected),
            sample_fraction=fraction,
            seed=seed,
            checked=len(selected),
            reproduced=len(selected),
            on=local,
            at=now(),
        ),
    )
    _write_entry(board, entry, published(bundle.attempts, m.submitter.open_data))
    if config is None:
        suite_ref = SuiteRef(name=suite.name, version=suite.manifest.version, content_hash=suite.content_hash)
        board.write_config(BoardConfig(suite=suite_ref, checkers=pins, sample_fraction=fraction))
    progress.unlink(missing_ok=True)
    return entry


def _write_entry(board: Board, entry: Entry, attempts: list[AttemptRecord]) -> None:
    """Write the entry's folder whole (a temporary folder, then a swap); a stale entry of its id is replaced."""
    entries = board.path / ENTRIES_DIR
    entries.mkdir(parents=True, exist_ok=True)
    tmp = entries / f".{entry.id}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    write_atomic(tmp / ENTRY_FILE, entry.model_dump_json(indent=2) + "\n")  # flushed before the folder swap
    write_atomic(tmp / PUBLISHED_ATTEMPTS, "".join(r.model_dump_json() + "\n" for r in attempts))
    target = entries / entry.id
    if target.exists():  # only a stale entry gets here: the resubmission replaces it
        old = entries / f".{entry.id}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)
