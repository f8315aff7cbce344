"""The asyncio engine of a run: problems x samples (x repair rounds), bounded prover calls and checks.

Work is a set of chains, one per (problem, sample): round 0, then up to
``repair_rounds`` more rounds fed with the checker's messages while the sample
has not passed. Every attempt is journalled as soon as its verdict is known.
A resumed run rebuilds each chain's state from the journal, so no finished
attempt is redone and none is written twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from provebench.checking.engine import Engine
from provebench.core.errors import RunStopped
from provebench.core.journal import AttemptRecord, Journal, ProverAnswer
from provebench.core.model import Problem, Reason, Status, Verdict
from provebench.core.verifier import context_key, schedule
from provebench.provers.api import PreviousAttempt, Prover, ProverOutput, ProverUnavailable
from provebench.provers.limiter import AdaptiveLimiter
from provebench.runs.stats import latest_records


@dataclass(frozen=True)
class Limits:
    """How much runs at once (the engine retries infrastructure failures)."""

    prover_connections: int = 8
    checks: int = 1
    timeout_s: float | None = None  # overrides every problem's own timeout


@dataclass(frozen=True)
class Chain:
    """One sample of one problem that still needs rounds."""

    problem: Problem
    sample: int
    history: tuple[PreviousAttempt, ...]
    last_round: int | None = None  # the chain's last round whatever its verdicts (a recheck's); None: the run's


def previous_attempt(record: AttemptRecord) -> PreviousAttempt:
    """A journalled attempt as the next round's prompt sees it."""
    v = record.verdict
    return PreviousAttempt(
        proof=record.prover.proof or "", status=v.status.value, reason=v.reason.value, messages=v.messages
    )


def pending_chains(
    problems: Sequence[Problem], samples: int, repair_rounds: int, can_repair: bool, done: Sequence[AttemptRecord]
) -> list[Chain]:
    """Chains that still need rounds.

    In ``schedule`` order (context by context, template by template, longest
    timeouts first), so that each context is loaded and each template walked
    once. Without templates, sample-major, so that an interrupted run covers
    its problems evenly; in a template, problem by problem (every sample of one
    position before the walker moves on).
    """
    rounds = repair_rounds if can_repair else 0
    by_chain: dict[tuple[str, int], list[AttemptRecord]] = {}
    for r in latest_records(done).values():
        by_chain.setdefault((r.problem, r.sample), []).append(r)
    groups: dict[tuple[tuple[str, str, str], str], list[Problem]] = {}
    for p in schedule(problems):
        groups.setdefault((context_key(p), p.template or ""), []).append(p)
    order = []
    for (_context, template), group in groups.items():
        if template:
            order += [(sample, problem) for problem in group for sample in range(samples)]
        else:
            order += [(sample, problem) for sample in range(samples) for problem in group]
    chains = []
    for sample, problem in order:
        records = sorted(by_chain.get((problem.id, sample), []), key=lambda r: r.round)
        decided: list[AttemptRecord] = []
        for r in records:  # rounds are sequential; stop at the first one that must be redone
            if r.verdict.status is Status.ERROR or r.round != len(decided):
                break
            decided.append(r)
        if any(r.verdict.passed for r in decided) or len(decided) > rounds:
            continue
        chains.append(Chain(problem, sample, tuple(previous_attempt(r) for r in decided)))
    return chains


OnRecord = Callable[[AttemptRecord, bool], None]


class Orchestrator:
    """Runs chains on a prover and the engine, journalling every attempt."""

    def __init__(
        self,
        prover: Prover,
        engine: Engine,
        journal: Journal,
        *,
        limits: Limits,
        repair_rounds: int = 0,
        session: int = 0,
        on_record: OnRecord = lambda _r, _done: None,
    ) -> None:
        self._prover = prover
        self._engine = engine
        self._journal = journal
        self._limits = limits
        self._rounds = repair_rounds if prover.can_repair else 0
        self._session = session
        self._on_record = on_record
        self._prover_slots = asyncio.Semaphore(limits.prover_connections)
        # Requests in flight: prover_connections at most, fewer while the endpoint answers 429s.
        self.requests = AdaptiveLimiter(limits.prover_connections)
        prover.limit_requests(self.requests)
        self._check_slots = asyncio.Semaphore(limits.checks)
        # Set once the first checker is ready: prover calls go out before, checks wait for it (a checker
        # that cannot start then stops the run before any check is spent, and no ERROR is journalled).
        self.checkers_ready = asyncio.Event()
        self.checkers_ready.set()

    async def run(self, chains: Sequence[Chain]) -> None:
        """Run every chain; raise ``RunStopped`` if the prover or the journal fails for good."""
        queue: asyncio.Queue[Chain] = asyncio.Queue()
        for c in chains:
            queue.put_nowait(c)
        workers = [
            asyncio.create_task(self._worker(queue))
            for _ in range(min(len(chains), self._limits.prover_connections + self._limits.checks))
        ]
        if not workers:
            return
        done, pending = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for t in done:
            exc = t.exception()
            if exc is not None:
                raise exc

    async def _worker(self, queue: asyncio.Queue[Chain]) -> None:
        while True:
            try:
                chain = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await self._run_chain(chain)

    async def _run_chain(self, chain: Chain) -> None:
        history = chain.history
        final = self._rounds if chain.last_round is None else chain.last_round
        for rnd in range(len(history), final + 1):
            record = await self._attempt(chain.problem, chain.sample, rnd, history)
            last = record.verdict.status in (Status.PASS, Status.ERROR) or rnd == final
            try:
                self._journal.append(record)
            except OSError as exc:
                raise RunStopped(f"cannot write the journal {self._journal.path}: {exc.strerror or exc}") from None
            self._on_record(record, last)
            if last:
                return
            history = (*history, previous_attempt(record))

    async def _attempt(
        self, problem: Problem, sample: int, rnd: int, history: tuple[PreviousAttempt, ...]
    ) -> AttemptRecord:
        async with self._prover_slots:
            try:
                out = await self._prover.attempt(problem, sample, history)
            except ProverUnavailable as exc:
                raise RunStopped(f"prover {self._prover.name} unavailable: {exc}") from None
        if out.proof is None:
            reason = Reason.PROVER_ERROR if out.error else Reason.NO_PROOF
            message = out.error or "the prover gave no proof (no fenced code block in its reply)"
            verdict = Verdict(status=Status.FAIL, reason=reason, messages=(message,))
            return self._record(problem, sample, rnd, out, verdict, 0)
        verdict, retries = await self._check(problem, out.proof)
        return self._record(problem, sample, rnd, out, verdict, retries)

    async def _check(self, problem: Problem, proof: str) -> tuple[Verdict, int]:
        """A verdict from the engine, which retries infrastructure failures (their number comes back with it)."""
        await self.checkers_ready.wait()
        async with self._check_slots:
            checked = await self._engine.acheck(problem, proof, self._limits.timeout_s)
        return checked.verdict, checked.retries

    def _record(
        self, problem: Problem, sample: int, rnd: int, out: ProverOutput, verdict: Verdict, infra_retries: int
    ) -> AttemptRecord:
        return AttemptRecord(
            problem=problem.id,
            sample=sample,
            round=rnd,
            category=problem.category,
            prover=ProverAnswer(
                name=self._prover.name,
                proof=out.proof,
                raw_reply=out.raw_reply,
                reasoning=out.reasoning,
                seconds=round(out.seconds, 6),
                tokens_in=out.tokens_in,
                tokens_out=out.tokens_out,
                tokens_reasoning=out.tokens_reasoning,
                cost=out.cost,
                finish_reason=out.finish_reason,
                api_retries=out.api_retries,
                cached=out.cached,
                trajectory=out.trajectory,
            ),
            verdict=verdict,
            infra_retries=infra_retries,
            session=self._session,
            finished_at=time.time(),
        )
