"""An Inspect log of ``provebench/suite`` as a provebench run directory: ``provebench import-inspect``.

A log is hostile input like any other: of it only the model's replies are taken (each round's, from the
score's metadata), the proofs extracted from them again with the task's prompts' rule and every one
checked again by provebench's engine, as ``recheck`` does. The run written is an ordinary one (manifest,
journal, summary), so ``report``, ``submit`` and ``leaderboard add`` work on it; where a verdict now
differs from the log's score, the import says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog, read_eval_log
from pydantic import ValidationError

from provebench.checking.registry import make_group_verifier
from provebench.core.errors import UserError
from provebench.core.inputs import first_error
from provebench.core.model import Problem
from provebench.core.outputs import guard_output
from provebench.core.settings import Settings
from provebench.core.verifier import VerifierFactory
from provebench.integrations.inspect.options import TASK_NAME, TaskOptions
from provebench.integrations.inspect.rounds import Round
from provebench.provers.api import PreviousAttempt, ProverOutput
from provebench.provers.prompt_source import PromptSource
from provebench.provers.replay import AnswerKey, RecordedAnswers
from provebench.runs.orchestrator import Chain
from provebench.runs.run import IMPORTED_FROM, RunDir, RunHooks, RunPlan, execute, plan_run
from provebench.runs.stats import Summary, latest_records

SCORER = "proof_check"


@dataclass(frozen=True)
class InspectLog:
    """What an import takes from a log: the task's options, the model, the epochs and each sample's rounds."""

    path: Path
    options: TaskOptions
    model: str
    epochs: int
    rounds: dict[tuple[str, int], list[Round]]  # by (problem, sample): sample = epoch - 1
    correct: dict[tuple[str, int], bool]  # the log's score of each
    suite_hashes: set[str]
    about: dict[str, Any]  # the eval's identity, for the manifest


@dataclass(frozen=True)
class Imported:
    """A finished import: the new run, its summary, and the samples whose verdict is not the log's score."""

    rundir: RunDir
    attempts: int
    summary: Summary
    differs: list[str]


def _first_line(text: object) -> str:
    return (str(text).splitlines() or [""])[0][:300]


def _read(path: Path) -> EvalLog:
    if not path.is_file():
        raise UserError(f"{path}: no such log file")
    try:
        return read_eval_log(str(path))
    except Exception as exc:  # a file of any shape: whatever the reader raises, one line
        raise UserError(f"{path}: not a readable Inspect log ({type(exc).__name__}: {_first_line(exc)})") from None


def _rounds(path: Path, where: str, data: Any) -> list[Round]:
    if not isinstance(data, list) or not data:
        raise UserError(f"{path}: {where}: its score has no rounds (not scored by provebench's proof_check)")
    try:
        rounds = [Round.model_validate(r) for r in data]
    except ValidationError as exc:
        at, msg = first_error(exc)
        raise UserError(f"{path}: {where}: rounds: '{at}': {msg}") from None
    if [r.round for r in rounds] != list(range(len(rounds))):
        raise UserError(f"{path}: {where}: its rounds are not numbered 0, 1, ... in order")
    return rounds


def read_inspect_log(path: Path) -> InspectLog:
    """The log's samples; one-line errors for a log of another task, an unfinished eval, a sample not scored."""
    log = _read(path)
    if log.eval.task != TASK_NAME:
        raise UserError(f"{path}: a log of task {log.eval.task!r}; only logs of {TASK_NAME} import")
    if log.status != "success":
        raise UserError(f"{path}: the eval ended with status {log.status}: finish it first (inspect eval-retry)")
    options = TaskOptions.parse(dict(log.eval.task_args or {}))
    epochs = log.eval.config.epochs or 1
    rounds: dict[tuple[str, int], list[Round]] = {}
    correct: dict[tuple[str, int], bool] = {}
    hashes: set[str] = set()
    for s in log.samples or []:
        where = f"sample {s.id} epoch {s.epoch}"
        if s.error is not None:
            raise UserError(f"{path}: {where} ended in an error ({_first_line(s.error.message)}): retry it first")
        if not 1 <= s.epoch <= epochs:
            raise UserError(f"{path}: {where}: the eval ran {epochs} epoch(s)")
        score = (s.scores or {}).get(SCORER)
        if score is None or not isinstance(score.metadata, dict):
            raise UserError(f"{path}: {where} has no {SCORER} score")
        key = (str(s.id), s.epoch - 1)
        rounds[key] = _rounds(path, where, score.metadata.get("rounds"))
        correct[key] = score.value == "C"
        hashes.add(str((s.metadata or {}).get("suite_hash")))
    if not rounds:
        raise UserError(f"{path}: the log holds no sample")
    about = {
        "eval_id": log.eval.eval_id,
        "run_id": log.eval.run_id,
        "created": log.eval.created,
        "task_args": options.args(),
        "inspect_ai": log.eval.packages.get("inspect_ai") if log.eval.packages else None,
    }
    return InspectLog(path, options, log.eval.model, epochs, rounds, correct, hashes, about)


def _answer(r: Round, proof: str | None) -> ProverOutput:
    return ProverOutput(
        proof=proof,
        raw_reply=r.reply,
        tokens_in=r.tokens_in,
        tokens_out=r.tokens_out,
        tokens_reasoning=r.tokens_reasoning,
        finish_reason=r.finish_reason,
    )


def _history(rounds: list[Round]) -> tuple[PreviousAttempt, ...]:
    """Earlier rounds as a prompt saw them (a replay asks no model: only their number matters to the run)."""
    return tuple(
        r.previous() if r.verdict is not None else PreviousAttempt(r.proof or "", "FAIL", "", ()) for r in rounds
    )


def _problems(log: InspectLog, plan: RunPlan) -> tuple[Problem, ...]:
    """The plan's problems the log has samples of, each with every epoch (Inspect's --limit may cut them)."""
    ids = {pid for pid, _sample in log.rounds}
    unknown = sorted(ids - {p.id for p in plan.problems})
    if unknown:
        raise UserError(f"{log.path}: sample {unknown[0]!r} is not a problem the task selects from {plan.suite.name}")
    problems = tuple(p for p in plan.problems if p.id in ids)
    for p in problems:
        missing = [e + 1 for e in range(log.epochs) if (p.id, e) not in log.rounds]
        if missing:
            raise UserError(f"{log.path}: sample {p.id} has no epoch {missing[0]} of {log.epochs}")
    return problems


@dataclass(frozen=True)
class PlannedImport:
    """An import checked and ready: the run's plan, the replayed answers and the attempts to check."""

    log: InspectLog
    out: Path
    plan: RunPlan
    prover: RecordedAnswers
    work: list[Chain]


def plan_import(log: InspectLog, out: Path, settings: Settings) -> PlannedImport:
    """The run an import writes to ``out`` (which must not exist); one-line errors for a log that does not fit."""
    if out.exists() or out.is_symlink():
        raise UserError(f"{out}: already exists; import-inspect writes a new run directory")
    guard_output(out, [log.path], "import-inspect")
    plan = plan_run(log.options.run_config(), settings)
    suite = plan.suite
    stale = sorted(h for h in log.suite_hashes if h != suite.content_hash)
    if stale:
        raise UserError(
            f"{log.path}: the eval ran on suite {suite.name} {stale[0][:19]}, and it is {suite.content_hash[:19]} "
            "on disk now: import it where the suite is as it was"
        )
    problems = _problems(log, plan)
    prompts = PromptSource(log.options.prompt, Path(log.options.prompt_dir) if log.options.prompt_dir else None, "chat")
    prompts.prepare(problems)
    by_id = {p.id: p for p in problems}
    answers: dict[AnswerKey, ProverOutput] = {}
    work = []
    for (pid, sample), rounds in sorted(log.rounds.items()):
        problem = by_id[pid]
        for r in rounds:  # the proof is taken from the reply again: the log's proof is not trusted
            answers[(pid, sample, r.round)] = _answer(r, prompts.proof(r.reply, problem))
            work.append(Chain(problem, sample, _history(rounds[: r.round]), last_round=r.round))
    # Inspect's --limit or --sample-id cut the task's selection: the run names the problems it has
    cut = (
        {}
        if len(problems) == len(plan.problems)
        else {"problems": [p.id for p in problems], "categories": [], "limit": None}
    )
    prover = {"name": "inspect", "model": log.model}
    config = log.options.run_config(prover=prover, n=log.epochs, out=out, **cut)
    described = {**prover, IMPORTED_FROM: str(log.path), "inspect": log.about}
    answered = RecordedAnswers("inspect", answers, described, prompts.hashes())
    return PlannedImport(log, out, RunPlan(config, suite, problems), answered, work)


def import_log(
    planned: PlannedImport, settings: Settings, hooks: RunHooks, make_verifier: VerifierFactory = make_group_verifier
) -> Imported:
    """Check every reply of the log again into the new run directory."""
    rundir = RunDir.create(planned.out, planned.plan.suite.name, "inspect")
    rundir.lock()
    try:
        summary = execute(planned.plan, rundir, planned.prover, settings, hooks, make_verifier, work=planned.work)
    finally:
        rundir.unlock()
    last: dict[tuple[str, int], bool] = {}
    for (pid, sample, _rnd), record in sorted(latest_records(rundir.records()).items()):
        last[(pid, sample)] = record.verdict.passed  # the last round wins (sorted by round)
    differs = [
        f"{pid} epoch {sample + 1}: the log scored it {'correct' if was else 'incorrect'}, provebench "
        f"{'passes' if last.get((pid, sample)) else 'does not pass'} it"
        for (pid, sample), was in sorted(planned.log.correct.items())
        if last.get((pid, sample)) != was
    ]
    return Imported(rundir, len(planned.work), summary, differs)
