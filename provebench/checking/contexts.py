"""Warm contexts within the memory budget: the one pool every check goes through.

A context is the group of problems that share one loaded checker state (a suite's context text,
or the templates of one suite), keyed by ``context_key``; its verifier holds that context's warm
checkers. A context is loaded on first use, outside the pool's lock, so that a load of minutes
never holds up checks on contexts already warm. What the warm contexts reserve together stays
within the memory budget: to make room, the least recently used idle context is stopped; when
nothing can be stopped yet, a load waits for a context to become idle. A context alone larger
than the budget still loads when nothing else is warm (one checker always starts).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from provebench.checking.registry import make_group_verifier
from provebench.core.errors import VerifierUnavailable
from provebench.core.model import CheckerInfo, Problem, System
from provebench.core.settings import Settings, checker_memory_mb, checkers_in_budget, memory_budget_mb, sized_settings
from provebench.core.verifier import Verifier, context_key

ContextKey = tuple[str, str, str]
# After a context fails to load, checks on it fail at once for this long rather than each loading it again.
LOAD_RETRY_AFTER_S = 60.0
VerifierFactory = Callable[[Sequence[Problem], Settings], Verifier]


@runtime_checkable
class SharesLoading(Protocol):
    """A verifier whose contexts share loading (templates that start alike): batches use it to place work."""

    def shared_loading(self, problem: Problem, others: Sequence[Problem]) -> list[int]:
        """Lines of ``others``' loading already done by a checker at ``problem``'s place (0: none)."""
        ...


@dataclass
class _Context:
    key: ContextKey
    problems: list[Problem]
    verifier: Verifier | None = None
    state: str = "cold"  # cold, loading, warm
    busy: int = 0
    last_used: float = 0.0
    memory_mb: int = 0
    load_seconds: float = 0.0
    checks: int = 0
    failed: tuple[float, VerifierUnavailable] | None = None  # when the last load failed, and how
    restarts: int = 0  # of the verifiers this context had before its current one
    planned: set[Problem] = field(default_factory=set)


def _changes_verifier(ctx: _Context, p: Problem) -> bool:
    """Whether the context's verifier must know ``p``: a template position, or memory no planned problem asks.

    A service sees millions of ad-hoc goals and snippets on one context: only what shapes its
    checkers is kept, so that planning stays constant in time and memory per problem.
    """
    if p in ctx.planned:
        return False
    if p.template is not None or not ctx.problems:
        return True
    return (p.memory_mb, p.context_memory_mb) not in {(q.memory_mb, q.context_memory_mb) for q in ctx.problems}


@dataclass(frozen=True)
class ContextStatus:
    """What a context is doing, for ``/v1/checkers`` and progress lines."""

    key: ContextKey
    problems: int
    suites: tuple[str, ...]
    state: str
    busy: int
    memory_mb: int
    load_seconds: float
    checks: int
    restarts: int
    checker: CheckerInfo | None


@dataclass(frozen=True)
class ContextPlan:
    """A context a run would load: its problems, checkers and the memory they reserve (nothing starts)."""

    key: ContextKey
    problems: int
    checkers: int
    memory_mb: int


def plan_contexts(settings: Settings, problems: Sequence[Problem]) -> list[ContextPlan]:
    """The contexts ``problems`` need, in order of first use, each as the pool would size it."""
    groups: dict[ContextKey, list[Problem]] = {}
    for p in problems:
        groups.setdefault(context_key(p), []).append(p)
    plans = []
    for key, group in groups.items():
        sized = sized_settings(settings, group)
        n = checkers_in_budget(sized)
        plans.append(ContextPlan(key, len(group), n, n * checker_memory_mb(sized)))
    return plans


class ContextPool:
    """Verifiers per context, loaded on demand, kept within the memory budget (least recently used go first)."""

    def __init__(
        self,
        settings: Settings,
        make: VerifierFactory = make_group_verifier,
        on_start: Callable[[System], None] = lambda _system: None,
    ) -> None:
        self.settings = settings
        self._make = make
        self._on_start = on_start
        self._contexts: dict[ContextKey, _Context] = {}
        self._cond = threading.Condition()
        self._closed = False

    # ----- planning ---------------------------------------------------------

    def plan(self, problems: Sequence[Problem]) -> None:
        """Name problems that will be checked, so that a context's verifier holds all of their positions."""
        unused: list[Verifier] = []
        with self._cond:
            for p in problems:
                ctx = self._contexts.setdefault(context_key(p), _Context(context_key(p), []))
                if not _changes_verifier(ctx, p):
                    continue
                if ctx.verifier is not None and ctx.state == "cold":
                    unused.append(ctx.verifier)  # made (to name its checker) but not started: make it anew
                    ctx.verifier = None
                elif ctx.verifier is not None and p.template is not None:
                    raise VerifierUnavailable(f"problem {p.id} was not planned before its context was loaded")
                ctx.planned.add(p)
                ctx.problems.append(p)
        for v in unused:
            v.close()

    def verifier(self, problem: Problem) -> Verifier:
        """The problem's context's verifier, made (not loaded) if needed: its checker is known before any load."""
        self.plan([problem])
        with self._cond:
            ctx = self._contexts[context_key(problem)]
            return self._made(ctx)

    def _made(self, ctx: _Context) -> Verifier:
        if ctx.verifier is None:
            sized = sized_settings(self.settings, ctx.problems)
            ctx.verifier = self._make(ctx.problems, self.settings)
            local = ctx.verifier.reserves_memory
            ctx.memory_mb = checkers_in_budget(sized) * checker_memory_mb(sized) if local else 0
        return ctx.verifier

    # ----- use --------------------------------------------------------------

    @contextmanager
    def using(self, problem: Problem) -> Iterator[Verifier]:
        """The warm verifier of the problem's context, loaded first if needed, held while the block runs."""
        self.plan([problem])
        ctx = self._acquire(context_key(problem))
        try:
            yield ctx.verifier  # type: ignore[misc]
        finally:
            with self._cond:
                ctx.busy -= 1
                ctx.checks += 1
                ctx.last_used = time.monotonic()
                self._cond.notify_all()

    def _acquire(self, key: ContextKey) -> _Context:
        while True:
            with self._cond:
                if self._closed:
                    raise VerifierUnavailable("the checkers were stopped")
                ctx = self._contexts[key]
                if ctx.state == "warm":
                    ctx.busy += 1
                    return ctx
                if ctx.state == "loading":
                    self._cond.wait()
                    continue
                if ctx.failed is not None and time.monotonic() - ctx.failed[0] < LOAD_RETRY_AFTER_S:
                    raise ctx.failed[1]  # not a load per check while a context cannot load
                verifier = self._made(ctx)
                if not self._make_room(ctx):
                    self._cond.wait()
                    continue
                ctx.state = "loading"
                to_close = self._evict_for(ctx)
            for v in to_close:
                v.close()
            self._load(ctx, verifier)

    def _used_mb(self, but: _Context) -> int:
        return sum(c.memory_mb for c in self._contexts.values() if c is not but and c.state != "cold")

    def _make_room(self, ctx: _Context) -> bool:
        """Whether the context fits once idle ones are stopped (call with the lock held)."""
        budget = memory_budget_mb(self.settings)
        idle = sum(c.memory_mb for c in self._contexts.values() if c is not ctx and c.state == "warm" and not c.busy)
        others = self._used_mb(ctx)
        return others - idle + ctx.memory_mb <= budget or others == idle

    def _evict_for(self, ctx: _Context) -> list[Verifier]:
        """Stop least recently used idle contexts until ``ctx`` fits (lock held); their verifiers, to close."""
        budget = memory_budget_mb(self.settings)
        out = []
        idle = sorted(
            (c for c in self._contexts.values() if c is not ctx and c.state == "warm" and not c.busy),
            key=lambda c: c.last_used,
        )
        while idle and self._used_mb(ctx) + ctx.memory_mb > budget:
            victim = idle.pop(0)
            out.append(self._cool(victim))
        return out

    def _cool(self, ctx: _Context) -> Verifier:
        """Mark a context unloaded (lock held); its verifier, to close, and a fresh one made on next use."""
        verifier = ctx.verifier
        assert verifier is not None
        ctx.restarts += verifier.restarts
        ctx.verifier, ctx.state = None, "cold"
        return verifier

    def _load(self, ctx: _Context, verifier: Verifier) -> None:
        started = time.monotonic()
        try:
            self._on_start(verifier.system)
            verifier.prepare()
        except BaseException as exc:
            with self._cond:
                if ctx.verifier is verifier:
                    ctx.verifier, ctx.state = None, "cold"
                    if isinstance(exc, VerifierUnavailable):
                        ctx.failed = (time.monotonic(), exc)
                self._cond.notify_all()
            verifier.close()
            raise
        with self._cond:
            stopped = ctx.verifier is not verifier  # the pool was closed while it loaded
            if not stopped:
                ctx.failed = None
                ctx.load_seconds = time.monotonic() - started
                ctx.state = "warm"
            self._cond.notify_all()
        if stopped:
            verifier.close()
            raise VerifierUnavailable("the checkers were stopped while they loaded")

    def shared_loading(self, problem: Problem, others: Sequence[Problem]) -> list[int]:
        """How much loading each of ``others`` shares with ``problem`` (its verifier's measure; 0 if it has none)."""
        verifier = self.verifier(problem)
        if isinstance(verifier, SharesLoading):
            return verifier.shared_loading(problem, others)
        return [0] * len(others)

    def status(self) -> list[ContextStatus]:
        """Every context planned, warm or not."""
        with self._cond:
            return [
                ContextStatus(
                    key=c.key,
                    problems=len(c.problems),
                    suites=tuple(sorted({p.suite for p in c.problems})),
                    state=c.state,
                    busy=c.busy,
                    memory_mb=c.memory_mb if c.state != "cold" else 0,
                    load_seconds=round(c.load_seconds, 3),
                    checks=c.checks,
                    restarts=c.restarts + (c.verifier.restarts if c.verifier is not None else 0),
                    checker=c.verifier.checker if c.verifier is not None else None,
                )
                for c in self._contexts.values()
            ]

    def close_context(self, key: ContextKey) -> None:
        """Stop one context's checkers now."""
        with self._cond:
            ctx = self._contexts.get(key)
            verifier = self._cool(ctx) if ctx is not None and ctx.verifier is not None else None
            self._cond.notify_all()
        if verifier is not None:
            verifier.close()

    def close(self) -> None:
        """Stop every checker; waiting loads and checks end with ``VerifierUnavailable``."""
        with self._cond:
            self._closed = True
            verifiers = [c.verifier for c in self._contexts.values() if c.verifier is not None]
            for c in self._contexts.values():
                c.verifier, c.state = None, "cold"
            self._cond.notify_all()
        for v in verifiers:
            v.close()
