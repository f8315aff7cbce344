"""Checking a finished run again with today's checkers, into a new run directory, without asking its prover.

A recheck is a run like any other (``run.execute``: manifest, journal, summary, the same engine and
orchestrator) whose prover is the old run's journal (``JournalReplay``) and whose work is one chain per
attempt the old run made, each ending at that attempt's round: every attempt is checked again as it was,
repair rounds included, and no round is added or dropped whatever the new verdicts are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provebench.checking.registry import make_group_verifier
from provebench.core.errors import UserError
from provebench.core.journal import AttemptRecord
from provebench.core.model import Verdict
from provebench.core.outputs import guard_output
from provebench.core.settings import Settings
from provebench.core.verifier import VerifierFactory
from provebench.provers.replay import JournalReplay
from provebench.runs.orchestrator import Chain, pending_chains, previous_attempt
from provebench.runs.run import JOURNAL_FILE, RECHECKED_FROM, RunDir, RunHooks, RunPlan, execute, summarize_run
from provebench.runs.stats import Summary, latest_records
from provebench.suites.load import find_suite

Key = tuple[str, int, int]


@dataclass(frozen=True)
class Change:
    """An attempt whose verdict is not what it was."""

    problem: str
    sample: int
    round: int
    old: Verdict
    new: Verdict

    def line(self) -> str:
        """``problem, sample, round: old -> new``, each verdict with its reason."""
        old, new = self.old, self.new
        return (
            f"{self.problem} sample {self.sample} round {self.round}: "
            f"{old.status.value} ({old.reason.value}) -> {new.status.value} ({new.reason.value})"
        )


@dataclass(frozen=True)
class Rechecked:
    """A finished recheck: the new run, the two summaries, and the verdicts that changed."""

    rundir: RunDir
    attempts: int
    before: Summary
    after: Summary
    changes: list[Change]


@dataclass(frozen=True)
class Source:
    """The finished run to check again: its directory, plan (the suite as it is now) and attempts, and its summary."""

    rundir: RunDir
    plan: RunPlan
    attempts: dict[Key, AttemptRecord]
    summary: Summary
    suite_changed: str | None  # how the suite's content hash changed since the run, if it did


def read_source(path: Path, settings: Settings) -> Source:
    """A finished run; one-line errors for what is not one (no journal, no attempt, attempts still to make)."""
    rundir = RunDir.existing(path)
    if not rundir.journal_path.is_file():
        raise UserError(f"{path}: the run has no {JOURNAL_FILE}: there is nothing to check again")
    manifest = rundir.read_manifest()
    config = rundir.config()
    records = rundir.records()
    if not records:
        raise UserError(f"{path}: the run's journal holds no attempt: there is nothing to check again")
    suite = find_suite(config.suite, settings.suites_dir)
    then, now = manifest.suite.content_hash, suite.content_hash
    problems = tuple(suite.problem(pid) for pid in manifest.problem_ids())
    made = {r.key for r in records}
    # A chain still pending whose next round was never journalled is work the run has not done; one whose
    # next round ended in ERROR was made, and is checked again like the rest.
    todo = [
        c
        for c in pending_chains(problems, config.n, config.repair_rounds, True, records)
        if (c.problem.id, c.sample, len(c.history)) not in made
    ]
    if todo:
        raise UserError(
            f"{path}: the run is not finished ({len(todo)} sample(s) still to attempt): finish it first with "
            f"`provebench run --resume {path}`"
        )
    return Source(
        rundir=rundir,
        plan=RunPlan(config=config, suite=suite, problems=problems),
        attempts=dict(sorted(latest_records(records).items())),
        summary=summarize_run(rundir, config),
        suite_changed=None if then == now else f"{then[:19]} then, {now[:19]} now",
    )


def recheck(
    source: Source,
    out: Path,
    settings: Settings,
    hooks: RunHooks,
    make_verifier: VerifierFactory = make_group_verifier,
) -> Rechecked:
    """Check every attempt of ``source`` again into the new run directory ``out`` (which must not exist)."""
    old = source.rundir
    if out.exists() or out.is_symlink():
        raise UserError(f"{out}: already exists; recheck writes a new run directory")
    guard_output(out, old.files(), "recheck")
    manifest = old.read_manifest()
    by_id = {p.id: p for p in source.plan.problems}
    work = [
        Chain(
            by_id[r.problem],
            r.sample,
            tuple(previous_attempt(source.attempts[(r.problem, r.sample, n)]) for n in range(r.round)),
            last_round=r.round,
        )
        for r in source.attempts.values()
    ]
    name = str(manifest.prover.get("name", "?"))
    described = {**manifest.prover, RECHECKED_FROM: str(old.path)}
    prover = JournalReplay(name, source.attempts, described, manifest.prompt_templates)
    config = source.plan.config.model_copy(update={"out": out})
    rundir = RunDir.create(out, source.plan.suite.name, prover.name)
    rundir.lock()
    try:
        after = execute(
            RunPlan(config, source.plan.suite, source.plan.problems),
            rundir,
            prover,
            settings,
            hooks,
            make_verifier,
            work=work,
        )
    finally:
        rundir.unlock()
    new = latest_records(rundir.records())
    changes = [
        Change(k[0], k[1], k[2], r.verdict, new[k].verdict)
        for k, r in source.attempts.items()
        if k in new and _differs(r.verdict, new[k].verdict)
    ]
    return Rechecked(rundir, len(work), source.summary, after, changes)


def _differs(old: Verdict, new: Verdict) -> bool:
    return (old.status, old.reason) != (new.status, new.reason)
