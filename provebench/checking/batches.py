"""Batches on the engine: many proofs, verdicts in input order, template runs placed by shared loading.

Items are checked concurrently on the warm checkers, context by context, template by template:
a template's items go to one worker, in order, so that its checker walks it once, forward, while
other workers walk other templates. A worker goes on with the run sharing most loading with its
last (the next template from the same fork point); a free worker takes the run the busy ones share
least with, so that two checkers do not load the same long text side by side.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from provebench.checking.checked import Checked
from provebench.core.model import Problem, Verdict
from provebench.core.verifier import context_key, schedule

SharedLoading = Callable[[Problem, Sequence[Problem]], list[int]]


class Checks(Protocol):
    """What a batch needs of the engine."""

    def plan(self, problems: Sequence[Problem]) -> None:
        """Name the problems that will be checked."""

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Checked:
        """One check, infrastructure retries included."""

    def shared_loading(self, problem: Problem, others: Sequence[Problem]) -> list[int]:
        """How much loading each of ``others`` shares with ``problem``'s."""

    def close(self) -> None:
        """Stop every checker."""


OnVerdict = Callable[[Problem, Verdict], None]


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


def check_in_order(
    engine: Checks,
    items: list[tuple[Problem, str]],
    timeout_s: float | None,
    workers: int,
    on_verdict: OnVerdict = lambda _p, _v: None,
    timeouts: Sequence[float | None] | None = None,
    close_on_abort: bool = True,
) -> Generator[Checked, None, None]:
    """Verdicts (with their retries) in input order, each as soon as it and those before it are in.

    ``timeouts``, where given, is each item's own time limit in place of ``timeout_s``.

    ``on_verdict`` sees each verdict as it comes, for progress on long batches. Interrupted (Ctrl-C,
    or the caller stops reading), the engine's checkers are stopped at once, so that a worker blocked
    in a long check or a walk returns now rather than at its deadline; a service, whose checkers serve
    other requests too, passes ``close_on_abort=False`` and only stops taking this batch's items.
    """
    scheduled = schedule([problem for problem, _ in items])
    engine.plan(scheduled)
    ranked = {id(p): n for n, p in enumerate(scheduled)}
    order = sorted(range(len(items)), key=lambda i: ranked[id(items[i][0])])
    contexts = list(dict.fromkeys(context_key(items[i][0]) for i in order))
    stopped = threading.Event()

    def run(indices: list[int]) -> list[tuple[int, Checked]]:
        out = []
        for i in indices:
            if stopped.is_set():
                break
            limit = timeouts[i] if timeouts is not None else timeout_s
            checked = engine.check(items[i][0], items[i][1], limit)
            if stopped.is_set():
                break  # the checker was stopped under it: not a verdict
            on_verdict(items[i][0], checked.verdict)
            out.append((i, checked))
        return out

    with ThreadPoolExecutor(max_workers=max(1, workers)) as executor:
        try:
            results: dict[int, Checked] = {}
            ready = 0
            for key in contexts:
                indices = [i for i in order if context_key(items[i][0]) == key]
                runs: dict[object, list[int]] = {}
                for i in indices:
                    runs.setdefault(items[i][0].template or i, []).append(i)
                shared = engine.shared_loading
                problems = [p for p, _ in items]
                for done in _run_runs(list(runs.values()), problems, shared, executor, max(1, workers), run):
                    for i, verdict in done:
                        results[i] = verdict
                    while ready in results:
                        yield results.pop(ready)
                        ready += 1
            while ready in results:
                yield results.pop(ready)
                ready += 1
        except BaseException:
            stopped.set()
            executor.shutdown(wait=False, cancel_futures=True)
            if close_on_abort:
                engine.close()
            raise


def _run_runs(
    runs: list[list[int]],
    problems: Sequence[Problem],
    shared: SharedLoading,
    executor: ThreadPoolExecutor,
    workers: int,
    run: Callable[[list[int]], list[tuple[int, Checked]]],
) -> Iterator[list[tuple[int, Checked]]]:
    """Each run's verdicts as it ends; workers take runs by ``pick_run``, one worker per checker."""
    lock = threading.Lock()
    pending = list(runs)
    last: dict[int, Problem] = {}
    current: dict[int, Problem] = {}
    out: queue.Queue[list[tuple[int, Checked]] | BaseException | None] = queue.Queue()

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
