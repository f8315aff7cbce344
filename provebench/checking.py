"""Checking proofs outside a run: one proof, a batch file, many proofs on warm checkers.

Verifiers are shared per (proof system, context), so a batch that mixes
problems of one suite with ad-hoc goals still loads each context once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provebench.containers import RECIPES
from provebench.errors import UserError, VerifierUnavailable
from provebench.inputs import decode_text, read_jsonl
from provebench.model import Problem, Reason, Status, System, Verdict
from provebench.settings import Settings
from provebench.suites.load import Suite, find_suite
from provebench.verify.api import Verifier, context_key, make_group_verifier, schedule

DEFAULT_GOAL_TIMEOUT_S = 30.0


def read_proof(source: str, max_bytes: int, stdin: Callable[[], bytes]) -> str:
    """The proof text from a file or ``-`` (stdin); one-line errors for bad input."""
    name = "standard input" if source == "-" else source
    try:
        data = stdin() if source == "-" else Path(source).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a directory") from None
    except OSError as exc:
        raise UserError(f"{name}: cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise UserError(f"{name}: {len(data)} bytes is over the proof size limit of {max_bytes} bytes")
    return decode_text(data, name, "proof text")


def system_image(system: System) -> str:
    """The checker image name for ad-hoc goals of ``system``."""
    for name, r in RECIPES.items():
        if r.system is system:
            return name
    raise UserError(f"no checker image for {system.value} yet")


def adhoc_problem(system: System, goal: str, timeout_s: float | None) -> Problem:
    """A problem for a goal given on the command line."""
    if not goal.strip():
        raise UserError("the goal is empty")
    if system is System.HOL_LIGHT:
        goal = goal.strip()
        if len(goal) >= 2 and goal[0] == goal[-1] == "`":
            goal = goal[1:-1]  # accept HOL Light's own quotation marks
    return Problem.adhoc(system, goal, timeout_s or DEFAULT_GOAL_TIMEOUT_S, system_image(system))


@dataclass
class VerifierPool:
    """Verifiers created on first use, one per context; close() stops them all.

    ``plan()`` first names every problem to be checked, so that a template's
    verifier holds all of their positions from one walk through it.
    """

    settings: Settings
    on_start: Callable[[System], None] = lambda _system: None
    make: Callable[[Sequence[Problem], Settings], Verifier] = make_group_verifier
    _verifiers: dict[tuple[str, str, str], Verifier] = field(default_factory=dict)
    _prepared: set[tuple[str, str, str]] = field(default_factory=set)
    _groups: dict[tuple[str, str, str], list[Problem]] = field(default_factory=dict)

    def plan(self, problems: Sequence[Problem]) -> None:
        """Group the problems that will be checked by context."""
        for p in problems:
            group = self._groups.setdefault(context_key(p), [])
            if p not in group:
                group.append(p)

    def for_problem(self, problem: Problem, prepare: bool = True) -> Verifier:
        """The verifier for this problem's context, prepared unless asked not to (its checker is known before)."""
        key = context_key(problem)
        if key not in self._verifiers:
            self.plan([problem])
            self._verifiers[key] = self.make(self._groups[key], self.settings)
        if prepare and key not in self._prepared:
            self.on_start(problem.system)
            self._verifiers[key].prepare()
            self._prepared.add(key)
        return self._verifiers[key]

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Verdict:
        """Check on the right verifier."""
        return self.for_problem(problem).check(problem, proof, timeout_s)

    def close_context(self, key: tuple[str, str, str]) -> None:
        """Stop the verifier of one context."""
        verifier = self._verifiers.pop(key, None)
        self._prepared.discard(key)
        if verifier is not None:
            verifier.close()

    def close(self) -> None:
        """Stop every verifier."""
        for v in self._verifiers.values():
            v.close()
        self._verifiers.clear()
        self._prepared.clear()


@dataclass(frozen=True)
class BatchItem:
    """One line of a batch file, resolved."""

    id: Any
    problem: Problem
    proof: str


def parse_batch(path: str, suite: Suite | None, system: System | None, timeout_s: float | None) -> list[BatchItem]:
    """Read and validate every line of a batch file before any check runs."""
    items = []
    for where, obj in read_jsonl(Path(path), "batch file"):
        if not isinstance(obj, dict) or not isinstance(obj.get("proof"), str):
            raise UserError(f"{where}: needs a string field 'proof'")
        if isinstance(obj.get("problem"), str):
            if suite is None:
                raise UserError(f"{where}: has 'problem' but no --suite was given")
            problem = suite.problem(obj["problem"])
        elif isinstance(obj.get("goal"), str):
            if system is None:
                raise UserError(f"{where}: has 'goal' but no --system was given")
            problem = adhoc_problem(system, obj["goal"], timeout_s)
        else:
            raise UserError(f"{where}: needs 'problem' (with --suite) or 'goal' (with --system)")
        items.append(BatchItem(id=obj.get("id"), problem=problem, proof=obj["proof"]))
    if not items:
        raise UserError(f"{path}: no proofs to check")
    return items


def infrastructure_verdict(exc: VerifierUnavailable) -> Verdict:
    """The ERROR verdict recorded for an item whose checker failed."""
    return Verdict(status=Status.ERROR, reason=Reason.CHECKER_UNAVAILABLE, messages=(str(exc),))


def check_many(
    pool: VerifierPool,
    items: list[tuple[Problem, str]],
    timeout_s: float | None,
    workers: int,
    on_verdict: Callable[[Problem, Verdict], None] = lambda _p, _v: None,
) -> Iterator[Verdict]:
    """Verdicts in input order, each as soon as it and those before it are in.

    Items are checked concurrently on the warm checkers: context by context
    (each context's checkers stopped before the next one loads, so memory
    holds one at a time), template by template (see ``pick_run``). ``on_verdict``
    sees each verdict as it comes, for progress on long batches.
    """
    scheduled = schedule([problem for problem, _ in items])
    pool.plan(scheduled)
    ranked = {id(p): n for n, p in enumerate(scheduled)}
    order = sorted(range(len(items)), key=lambda i: ranked[id(items[i][0])])
    contexts = list(dict.fromkeys(context_key(items[i][0]) for i in order))

    def one(item: tuple[Problem, str]) -> Verdict:
        try:
            return pool.check(item[0], item[1], timeout_s)
        except VerifierUnavailable as exc:
            return infrastructure_verdict(exc)

    stopped = threading.Event()

    def run(indices: list[int]) -> list[tuple[int, Verdict]]:
        out = []
        for i in indices:
            if stopped.is_set():
                break
            verdict = one(items[i])
            if stopped.is_set():
                break  # the checker was stopped under it: not a verdict
            on_verdict(items[i][0], verdict)
            out.append((i, verdict))
        return out

    with ThreadPoolExecutor(max_workers=max(1, workers)) as executor:
        try:
            yield from _in_order(pool, items, contexts, order, executor, max(1, workers), run, on_verdict)
        except BaseException:
            # Ctrl-C, or the caller stopped reading: stop the checkers now, so that a worker blocked in a
            # long check (or a walk through a template) returns at once instead of at its deadline.
            stopped.set()
            executor.shutdown(wait=False, cancel_futures=True)
            pool.close()
            raise


def _in_order(
    pool: VerifierPool,
    items: list[tuple[Problem, str]],
    contexts: list[tuple[str, str, str]],
    order: list[int],
    executor: ThreadPoolExecutor,
    workers: int,
    run: Callable[[list[int]], list[tuple[int, Verdict]]],
    on_verdict: Callable[[Problem, Verdict], None],
) -> Iterator[Verdict]:
    """The body of ``check_many``: context by context, verdicts yielded in input order."""
    results: dict[int, Verdict] = {}
    ready = 0
    for key in contexts:
        indices = [i for i in order if context_key(items[i][0]) == key]
        try:
            pool.for_problem(items[indices[0]][0])  # load before the workers start, so loading is not raced
        except VerifierUnavailable as exc:
            for i in indices:
                results[i] = infrastructure_verdict(exc)
                on_verdict(items[i][0], results[i])
        else:
            # A template's items go to one worker, in order, so that its checker walks it once, forward,
            # while other workers walk other templates.
            runs: dict[object, list[int]] = {}
            for i in indices:
                runs.setdefault(items[i][0].template or i, []).append(i)
            shared = pool.for_problem(items[indices[0]][0]).shared_loading
            for done in _run_runs(list(runs.values()), [p for p, _ in items], shared, executor, workers, run):
                for i, verdict in done:
                    results[i] = verdict
                while ready in results:
                    yield results.pop(ready)
                    ready += 1
        while ready in results:
            yield results.pop(ready)
            ready += 1
        if len(contexts) > 1:
            pool.close_context(key)


SharedLoading = Callable[[Problem, Sequence[Problem]], list[int]]


def pick_run(pending: Sequence[Problem], mine: Problem | None, others: Sequence[Problem], shared: SharedLoading) -> int:
    """Which of the pending runs (each named by its first problem, in schedule order) a worker takes next.

    The one whose context shares most loading with the run its checker did last
    (the next template on from the same fork point); among equals, the one that
    shares least with what the other workers are on (so that two checkers do
    not load the same long text side by side); then the first in schedule order.
    """
    own = shared(mine, pending) if mine is not None else [0] * len(pending)
    theirs = [0] * len(pending)
    for other in others:
        theirs = [max(a, b) for a, b in zip(theirs, shared(other, pending), strict=True)]
    return max(range(len(pending)), key=lambda k: (own[k], -theirs[k], -k))


def _run_runs(
    runs: list[list[int]],
    problems: Sequence[Problem],
    shared: SharedLoading,
    executor: ThreadPoolExecutor,
    workers: int,
    run: Callable[[list[int]], list[tuple[int, Verdict]]],
) -> Iterator[list[tuple[int, Verdict]]]:
    """Each run's verdicts as it ends; workers take runs by ``pick_run``, one worker per checker."""
    lock = threading.Lock()
    pending = list(runs)
    last: dict[int, Problem] = {}
    current: dict[int, Problem] = {}
    out: queue.Queue[list[tuple[int, Verdict]] | BaseException | None] = queue.Queue()

    def take(worker: int) -> list[int] | None:
        with lock:
            current.pop(worker, None)
            if not pending:
                return None
            firsts = [problems[r[0]] for r in pending]
            k = pick_run(firsts, last.get(worker), list(current.values()), shared)
            chosen = pending.pop(k)
            last[worker] = current[worker] = problems[chosen[0]]
            return chosen

    def work(worker: int) -> None:
        try:
            while (chosen := take(worker)) is not None:
                out.put(run(chosen))
            out.put(None)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            out.put(exc)

    started = min(workers, len(runs))
    for w in range(started):
        executor.submit(work, w)
    finished = 0
    while finished < started:
        item = out.get()
        if isinstance(item, BaseException):
            raise item
        if item is None:
            finished += 1
        else:
            yield item


def load_suite_arg(name: str, settings: Settings) -> Suite:
    """A suite named on the command line."""
    return find_suite(name, settings.suites_dir)
