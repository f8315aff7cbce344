"""A run from start to summary: plan, run directory, manifest, orchestrator, statistics.

The run directory holds ``config.yaml`` (the resolved config), ``manifest.json``
(versions, hashes, image digests, sessions), the ``attempts.jsonl`` journal and
``summary.json``. A run is resumed from its directory alone.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import platform
import random
import socket
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from provebench import __version__
from provebench.checking.engine import Engine, starting_line
from provebench.checking.proof_sessions import DEFAULT_SESSIONS, ProofSessions
from provebench.checking.registry import make_group_verifier
from provebench.core.errors import RunStopped, UserError
from provebench.core.journal import AttemptRecord, Journal, complete_lines, read_journal
from provebench.core.model import Problem
from provebench.core.outputs import write_atomic
from provebench.core.settings import Settings
from provebench.core.verifier import VerifierFactory
from provebench.provers.api import Prover
from provebench.provers.limiter import AdaptiveLimiter
from provebench.runs.config import CONFIG_FILE, RunConfig, build_config, read_config_file, read_ids_file, write_config
from provebench.runs.manifest import (
    Host,
    ManifestProblem,
    ManifestSession,
    ManifestSuite,
    RunManifest,
    Selection,
    read_run_manifest,
)
from provebench.runs.orchestrator import Chain, Limits, OnRecord, Orchestrator, pending_chains
from provebench.runs.stats import ProblemRef, Summary, summarize
from provebench.suites.load import Suite, find_suite

MANIFEST_FILE = "manifest.json"
JOURNAL_FILE = "attempts.jsonl"
SUMMARY_FILE = "summary.json"
RECHECKED_FROM = "rechecked_from"  # in a rechecked run's manifest, under "prover": the run its answers are from
IMPORTED_FROM = "imported_from"  # in an imported run's manifest, under "prover": the log its answers are from


@dataclass(frozen=True)
class RunPlan:
    """A validated config with the suite and the problems it selects."""

    config: RunConfig
    suite: Suite
    problems: tuple[Problem, ...]


def plan_run(config: RunConfig, settings: Settings) -> RunPlan:
    """Load the suite and select problems by category and id; one-line errors for unknown ones."""
    suite = find_suite(config.suite, settings.suites_dir)
    problems = list(suite.problems)
    if config.categories:
        known = {p.category for p in problems}
        unknown = sorted(set(config.categories) - known)
        if unknown:
            raise UserError(f"suite {suite.name} has no category {unknown[0]!r}; it has: {', '.join(sorted(known))}")
        problems = [p for p in problems if p.category in config.categories]
    wanted = list(config.problems)
    if config.problems_file is not None:
        wanted += read_ids_file(config.problems_file)
    if wanted:
        for pid in wanted:
            suite.problem(pid)  # one-line error for an unknown id
        chosen = set(wanted)
        problems = [p for p in problems if p.id in chosen]
    if not problems:
        raise UserError(f"no problems of suite {suite.name} match the selection")
    if config.limit is not None and config.limit < len(problems):
        picked = set(random.Random(config.seed).sample(range(len(problems)), config.limit))
        problems = [p for i, p in enumerate(problems) if i in picked]  # in the suite's order
    return RunPlan(config=config, suite=suite, problems=tuple(problems))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunDir:
    """The files of one run, and the lock that keeps two processes from writing them at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.config_path = path / CONFIG_FILE
        self.manifest_path = path / MANIFEST_FILE
        self.journal_path = path / JOURNAL_FILE
        self.summary_path = path / SUMMARY_FILE
        self._lock: IO[bytes] | None = None

    @staticmethod
    def new_path(out: Path | None, suite: str, prover: str) -> Path:
        """Where a new run goes (default ``runs/<UTC time>-<suite>-<prover>``); it must not hold a run."""
        if out is None:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
            out = Path("runs") / f"{stamp}-{suite}-{prover}"
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            hint = " (to continue it: --resume)" if (out / CONFIG_FILE).exists() else ""
            raise UserError(f"{out}: already exists and is not empty{hint}")
        return out

    @classmethod
    def create(cls, out: Path | None, suite: str, prover: str) -> RunDir:
        """A new run directory."""
        out = cls.new_path(out, suite, prover)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{out}: cannot create the run directory: {exc.strerror}") from None
        return cls(out)

    @classmethod
    def existing(cls, path: Path) -> RunDir:
        """A run directory made by an earlier run."""
        rd = cls(path)
        if not rd.config_path.is_file():
            raise UserError(f"{path}: not a run directory (no {CONFIG_FILE})")
        return rd

    def lock(self) -> None:
        """Take the run's lock, or fail with a one-line error if another process holds it."""
        self._lock = (self.path / ".lock").open("wb")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"{self.path}: another provebench process is running this run") from None

    def unlock(self) -> None:
        """Release the lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def read_manifest(self) -> RunManifest:
        """The manifest, checked; a one-line error if it is missing or is not a run manifest."""
        if not self.manifest_path.exists():
            raise UserError(f"{self.path}: the run has no {MANIFEST_FILE} yet (it stopped before its checker started)")
        return read_run_manifest(self.manifest_path)

    def write_json(self, path: Path, data: Any) -> None:
        """Write JSON whole or not at all."""
        write_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")

    def config(self) -> RunConfig:
        """The run's own resolved config."""
        return build_config(read_config_file(self.config_path), {}, str(self.config_path))

    def files(self) -> list[Path]:
        """The run's own files: inputs of every command that reads the run, never one's output."""
        return [self.config_path, self.manifest_path, self.journal_path, self.summary_path]

    def records(self) -> list[AttemptRecord]:
        """The journal's complete records, each for a problem of the manifest and each key decided once."""
        if not self.manifest_path.exists():
            if complete_lines(self.journal_path):  # attempts nothing names: they cannot be told from another run's
                raise UserError(f"{self.path}: the journal holds attempts but the run's {MANIFEST_FILE} is missing")
            return []
        manifest = self.read_manifest()
        return read_journal(self.journal_path, set(manifest.problem_ids()), manifest.checkers)


def summarize_run(rundir: RunDir, config: RunConfig) -> Summary:
    """The summary of a run directory, computed from its manifest and journal only."""
    manifest = rundir.read_manifest()
    problems = [ProblemRef(id=p.id, category=p.category) for p in manifest.problems]
    records = rundir.records()
    last_at: dict[int, float] = {}
    for r in records:
        last_at[r.session] = max(last_at.get(r.session, 0.0), r.finished_at)
    wall = sum(max(0.0, last_at[s.index] - s.started_at) for s in manifest.sessions if s.index in last_at)
    return summarize(problems, records, config.n, config.ks, wall_seconds=wall, layout=manifest.suite.benchmark_layout)


@dataclass
class RunHooks:
    """What the run tells its caller while it goes."""

    status: Callable[[str], None] = lambda _text: None
    started: Callable[[int, int, list[AttemptRecord]], None] = lambda _total, _pending, _done: None
    on_record: OnRecord = lambda _r, _done: None
    requests: Callable[[AdaptiveLimiter], None] = lambda _limiter: None  # the window of prover requests in flight


def _host() -> Host:
    return Host(
        hostname=socket.gethostname(),
        platform=platform.platform(),
        python=sys.version.split()[0],
        cpus=os.cpu_count(),
    )


def _manifest(
    plan: RunPlan, prover: Prover, engine: Engine, old: RunManifest | None, started_at: float, service: str | None
) -> RunManifest:
    """The manifest with this session: the run's plan now, with what a resumed run recorded before kept."""
    checkers = list(old.checkers) if old else []
    for problem in plan.problems:  # every context's checker, known without loading it
        checker = engine.checker(problem)
        if checker not in checkers:
            checkers.append(checker)
    sessions = list(old.sessions) if old else []
    sessions.append(
        ManifestSession(
            index=len(sessions), started_at=started_at, ready_at=time.time(), pid=os.getpid(), service=service
        )
    )
    return RunManifest(
        provebench_version=__version__,
        created_at=old.created_at if old else _now(),
        suite=ManifestSuite(
            name=plan.suite.name,
            version=plan.suite.manifest.version,
            content_hash=plan.suite.content_hash,
            path=str(plan.suite.path),
            system=plan.suite.manifest.system,
            benchmark_layout=plan.suite.manifest.benchmark_layout,
        ),
        checkers=checkers,
        prover=prover.describe(),
        prompt_templates=prover.template_hashes(),
        problems=[ManifestProblem(id=p.id, category=p.category) for p in plan.problems],
        selection=Selection(
            of=len(plan.suite.problems),
            categories=plan.config.categories,
            limit=plan.config.limit,
            seed=plan.config.seed if plan.config.limit is not None else None,
        ),
        host=_host(),
        sessions=sessions,
    )


def refuse_replayed(path: Path, manifest: RunManifest) -> None:
    """A run whose answers were replayed (a recheck, an imported Inspect log) asked no prover: none resumes it."""
    if isinstance(rechecked := manifest.prover.get(RECHECKED_FROM), str):
        raise UserError(
            f"{path}: is a recheck of {rechecked}, which asked no prover: recheck that run again into a new directory"
        )
    if isinstance(imported := manifest.prover.get(IMPORTED_FROM), str):
        raise UserError(
            f"{path}: was imported from the Inspect log {imported}, which asked no prover: "
            "import it again into a new directory"
        )


def resumed_manifest(rundir: RunDir, plan: RunPlan) -> RunManifest | None:
    """The manifest of the run to resume, if it got that far; a refusal for what would mix two runs in one journal.

    The manifest pins the suite's content and the problems the journal's attempts were made on: a
    resume without it could not tell whether its attempts were on the statements checked now.
    """
    if not rundir.manifest_path.exists():
        if complete_lines(rundir.journal_path):
            raise UserError(
                f"{rundir.path}: cannot resume: the journal holds attempts but {MANIFEST_FILE} is missing, so "
                "what they were made on cannot be checked; start a new run"
            )
        return None  # stopped before anything was journalled: nothing to mix up
    old = rundir.read_manifest()
    refuse_replayed(rundir.path, old)
    if old.suite.content_hash != plan.suite.content_hash:
        raise UserError(
            f"suite {plan.suite.name} changed since this run started "
            f"({old.suite.content_hash[:19]} then, {plan.suite.content_hash[:19]} now); start a new run"
        )
    if set(old.problem_ids()) != {p.id for p in plan.problems}:
        raise UserError(
            f"{rundir.path}: cannot resume: the run's problems changed since it started (a problems file "
            "edited since?); start a new run"
        )
    return old


def execute(
    plan: RunPlan,
    rundir: RunDir,
    prover: Prover,
    settings: Settings,
    hooks: RunHooks,
    make_verifier: VerifierFactory = make_group_verifier,
    resume: bool = False,
    work: Sequence[Chain] | None = None,
) -> Summary:
    """Run (or resume) ``plan`` in ``rundir``; the summary is written even when the run stops early.

    ``work``: the chains to run (a recheck's, one per attempt); default, what the journal still needs.
    """
    config = plan.config
    old = resumed_manifest(rundir, plan) if resume else None
    write_config(config, rundir.config_path)
    done = rundir.records()
    chains: list[Chain] = (
        list(work)
        if work is not None
        else pending_chains(plan.problems, config.n, config.repair_rounds, prover.can_repair, done)
    )
    started_at = time.time()
    if config.protocol == "combibench":
        settings = settings.model_copy(update={"benchmark_judge": True})
    engine = Engine(settings, make_verifier, infra_retries=config.infra_retries)
    engine.plan(plan.problems)
    sessions = ProofSessions(engine, limit=max(DEFAULT_SESSIONS, config.prover_connections))  # one per attempt
    prover.use_checkers(sessions)  # the agent prover steps through proof sessions on the run's checkers
    journal = Journal(rundir.journal_path)
    try:
        hooks.status(starting_line(settings, plan.suite.manifest.system))
        # checker identities are known before any load; the session names the checker service, if any
        manifest = _manifest(plan, prover, engine, old, started_at, settings.server)
        session = manifest.sessions[-1].index
        rundir.write_json(rundir.manifest_path, manifest.model_dump(mode="json"))
        journal.open()
        hooks.started(len(plan.problems) * config.n, len(chains), done)
        orchestrator = Orchestrator(
            prover,
            engine,
            journal,
            limits=Limits(
                prover_connections=config.prover_connections,
                checks=settings.checkers,
                timeout_s=config.timeout_s,
            ),
            repair_rounds=config.repair_rounds,
            session=session,
            on_record=hooks.on_record,
        )
        hooks.requests(orchestrator.requests)
        first = chains[0].problem if chains else plan.problems[0]
        asyncio.run(_run_chains(orchestrator, prover, engine, chains, settings.checkers, first))
    finally:
        journal.close()
        sessions.close_all()
        engine.close()
        if rundir.manifest_path.exists():
            summary = summarize_run(rundir, config)
            rundir.write_json(rundir.summary_path, summary.model_dump(mode="json"))
    return summary


async def _run_chains(
    orchestrator: Orchestrator, prover: Prover, engine: Engine, chains: list[Chain], checkers: int, first: Problem
) -> None:
    """The chains, prover calls going out while the first context loads.

    A checker that cannot start stops the run at once (its chains cancelled before their checks give
    up), the journal kept.
    """
    # Checks block a thread each; give the loop enough threads for every checker.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=checkers + 5))
    orchestrator.checkers_ready.clear()
    run = asyncio.create_task(orchestrator.run(chains))
    warming = asyncio.create_task(asyncio.to_thread(engine.warm, first))
    try:
        await asyncio.wait({run, warming}, return_when=asyncio.FIRST_COMPLETED)
        if warming.done():
            if warming.exception() is not None:
                run.cancel()
                await asyncio.gather(run, return_exceptions=True)
                raise warming.exception()  # type: ignore[misc]
            orchestrator.checkers_ready.set()
        await run  # done early only if the prover stopped it (RunStopped) or there was nothing to check
    except (asyncio.CancelledError, RunStopped):
        # Stop the checkers now, so that threads blocked in a long check return at once
        # instead of holding the shutdown until their deadline.
        engine.close()
        raise
    finally:
        if not warming.done():
            warming.cancel()
        await prover.aclose()
