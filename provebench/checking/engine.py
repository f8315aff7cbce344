"""The execution engine: every check of every command goes through one ``Engine``.

Runs, ``check`` (one proof or a batch), selftests, leaderboard re-verification and the checker
service all check here: on warm checkers per context within the memory budget (``ContextPool``),
with infrastructure failures (a lost checker, a container out of memory) retried with exponential
backoff through tenacity, and every retry counted in what is returned, so that journals record it.
A verdict on the proof is never retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
)

from provebench.checking.batches import OnVerdict, check_in_order
from provebench.checking.checked import Checked, infrastructure_verdict
from provebench.checking.contexts import ContextPool, ContextStatus
from provebench.checking.ray import joined
from provebench.checking.registry import make_group_verifier
from provebench.core.errors import VerifierUnavailable
from provebench.core.model import CheckerInfo, Problem, Reason, Status, System, Verdict
from provebench.core.settings import Executor, Settings
from provebench.core.verifier import Verifier, VerifierFactory

ASYNC_CHECK_THREADS = 256  # checks waiting at once for async callers (a service's clients, a run's chains)


def starting_line(settings: Settings, system: System) -> str:
    """What a command says when its checkers start: how many, or which service checks instead."""
    if settings.server is not None:
        return f"checking through the provebench service at {settings.server}"
    if settings.executor is Executor.RAY:
        where = settings.ray_address or "a local Ray instance"
        return f"starting warm {system.value} checkers as Ray actors on {where}; loading takes a while"
    why = "" if "checkers" in settings.model_fields_set else " (one per core: --checkers N to change)"
    return (
        f"starting up to {settings.checkers} warm {system.value} checker(s){why}, as many as fit the memory "
        "budget; loading takes a while"
    )


def _infrastructure_failed(verdict: Verdict) -> bool:
    # A goal that does not evaluate is the suite's, and the same every time: not worth a retry.
    return verdict.status is Status.ERROR and verdict.reason is not Reason.BAD_GOAL


class Engine:
    """Checks on warm checkers, loaded on demand within the memory budget, infrastructure failures retried."""

    def __init__(
        self,
        settings: Settings,
        make: VerifierFactory = make_group_verifier,
        on_start: Callable[[System], None] = lambda _system: None,
        infra_retries: int | None = None,
    ) -> None:
        if settings.executor is Executor.RAY and settings.server is None:
            settings = joined(settings)  # the cluster's memory is the budget, its CPUs the checkers
        self.settings = settings
        self.pool = ContextPool(settings, make, on_start)
        self.infra_retries = settings.infra_retries if infra_retries is None else infra_retries
        self.backoff_s = settings.infra_backoff_s
        # Threads of its own for async callers: checks blocked on a busy or loading context must not
        # take every thread of asyncio's small default pool from checks on other contexts.
        self._threads = ThreadPoolExecutor(max_workers=ASYNC_CHECK_THREADS, thread_name_prefix="provebench-check")

    def plan(self, problems: Sequence[Problem]) -> None:
        """Name problems that will be checked (a template context holds the positions of all of them)."""
        self.pool.plan(problems)

    def checker(self, problem: Problem) -> CheckerInfo:
        """The identity of the checker that would check ``problem`` (no checker starts)."""
        return self.pool.verifier(problem).checker

    def shared_loading(self, problem: Problem, others: Sequence[Problem]) -> list[int]:
        """How much loading each of ``others`` shares with ``problem``'s (in lines of template text)."""
        return self.pool.shared_loading(problem, others)

    def status(self) -> list[ContextStatus]:
        """The contexts planned, warm or not."""
        return self.pool.status()

    def warm(self, problem: Problem) -> None:
        """Load the problem's context now (a checker that cannot start raises ``VerifierUnavailable`` here)."""
        with self.pool.using(problem):
            pass

    def loaded_verifier(self, problem: Problem) -> Verifier:
        """The problem's context's verifier, loaded (for tests of a checker's own layers)."""
        self.warm(problem)
        return self.pool.verifier(problem)

    def _once(self, problem: Problem, proof: str, timeout_s: float | None) -> Verdict:
        with self.pool.using(problem) as verifier:  # every placement gets the one limit (Problem.limit)
            return verifier.check(problem, proof, problem.limit(timeout_s))

    def _policy(self) -> dict[str, object]:
        return {
            "stop": stop_after_attempt(self.infra_retries + 1),
            "wait": wait_exponential(multiplier=self.backoff_s, max=60),
            "retry": retry_if_exception_type(VerifierUnavailable) | retry_if_result(_infrastructure_failed),
            "retry_error_callback": _last_outcome,
        }

    def check(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Checked:
        """Check ``proof``; blocks until a checker of its context is free (loading the context if needed)."""
        retrying = Retrying(**self._policy())  # type: ignore[arg-type]
        verdict: Verdict = retrying(self._once, problem, proof, timeout_s)
        return Checked(verdict=verdict, retries=_retries(retrying.statistics))

    async def acheck(self, problem: Problem, proof: str, timeout_s: float | None = None) -> Checked:
        """``check`` for asyncio callers: the check runs in a worker thread, backoff waits on the loop."""
        retrying = AsyncRetrying(**self._policy())  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()

        async def once() -> Verdict:
            try:
                future = loop.run_in_executor(self._threads, self._once, problem, proof, timeout_s)
            except RuntimeError:  # the engine was closed: its threads take no more work
                raise VerifierUnavailable("the checkers were stopped") from None
            return await future

        verdict: Verdict = await retrying(once)
        return Checked(verdict=verdict, retries=_retries(retrying.statistics))

    def map(
        self,
        items: list[tuple[Problem, str]],
        timeout_s: float | None = None,
        workers: int | None = None,
        on_verdict: OnVerdict = lambda _p, _v: None,
    ) -> Iterator[Verdict]:
        """Verdicts of many proofs, in input order (see ``batches``)."""
        return (c.verdict for c in self.map_checked(items, timeout_s, workers, on_verdict))

    def map_checked(
        self,
        items: list[tuple[Problem, str]],
        timeout_s: float | None = None,
        workers: int | None = None,
        on_verdict: OnVerdict = lambda _p, _v: None,
        timeouts: Sequence[float | None] | None = None,
        close_on_abort: bool = True,
    ) -> Generator[Checked, None, None]:
        """``map``, each verdict with the infrastructure retries it took (``timeouts``: each item's own limit)."""
        workers = workers or self.settings.checkers
        return check_in_order(self, items, timeout_s, workers, on_verdict, timeouts, close_on_abort)

    def close(self) -> None:
        """Stop every checker."""
        self.pool.close()
        self._threads.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _last_outcome(state: RetryCallState) -> object:
    """Retries spent: the last verdict (an ERROR), or the ERROR verdict of the last failure."""
    assert state.outcome is not None
    if state.outcome.failed:
        exc = state.outcome.exception()
        if isinstance(exc, VerifierUnavailable):
            return infrastructure_verdict(exc)
        raise exc  # type: ignore[misc]
    return state.outcome.result()


def _retries(statistics: dict[str, object]) -> int:
    attempts = statistics.get("attempt_number", 1)
    return max(0, int(attempts) - 1) if isinstance(attempts, int) else 0
